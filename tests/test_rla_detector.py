"""RLA's occlusion detector: Eq. 14's gradients reach it through the blend as Eqs. 15-16 say, the diagnosis
metrics (AUC, IoU, mean-map reference) behave on known cases, and the paper's training placement."""

import numpy as np
import pytest
import torch
from occface.papers.rla import diagnosis as D
from occface.papers.rla.model import RLA, RLAConfig, mse_loss

torch.set_num_threads(1)
SMALL = RLAConfig(image_size=16, grid=2, hidden=8, layers=2, steps=3)


def test_eq14_gradients_are_eqs_15_16_and_reach_the_detector_through_the_blend():
    torch.manual_seed(0)
    model = RLA(SMALL).double()
    occ, clean = torch.rand(4, 1, 16, 16, dtype=torch.double), torch.rand(4, 1, 16, 16, dtype=torch.double)
    out = model(occ)
    out.scores.retain_grad()
    out.reconstruction.retain_grad()
    mse_loss(out, occ, clean).backward()
    k = len(occ)
    residual = (out.recovered - clean).detach()
    # Eq. 15: dL/dX^rec = 1/K (X~ - X) * S;  Eq. 16: dL/dS = 1/K (X~ - X) * (X^rec - X^occ)
    assert torch.allclose(out.reconstruction.grad, residual * out.scores.detach() / k)
    assert torch.allclose(out.scores.grad, residual * (out.reconstruction - occ).detach() / k)
    for name, p in model.detector.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name
    # the detector's only route to the loss is S^det in the blend: with X^rec = X^occ its gradient vanishes
    model.zero_grad()
    out = model(occ)
    same = out.reconstruction.detach()
    blended = same * out.scores + same * (1 - out.scores)
    (0.5 * (blended - clean).pow(2).flatten(1).sum(1).mean()).backward()
    assert all(p.grad is None or p.grad.abs().max() < 1e-12 for p in model.detector.parameters())


def test_auc_and_iou_are_one_for_a_perfect_detector_and_chance_for_a_constant():
    mask = np.zeros((3, 8, 8), np.float32)
    mask[:, 2:5, 1:6] = 1
    assert D._auc(mask, mask) == 1.0 and D._iou(mask > 0.5, mask) == 1.0
    assert D._auc(np.full_like(mask, 0.3), mask) == 0.5
    assert D._iou(np.zeros_like(mask, bool), mask) == 0.0
    assert np.isnan(D._auc(mask[:, :1, :1], mask[:, :1, :1]))  # one class only


def _faces(n_per_row: int = 3) -> D.DiagnosisFaces:
    torch.manual_seed(1)
    rows = ["Upper face / Sunglasses", "Lower face / Mask"]
    mask = torch.zeros(2 * n_per_row, 1, 16, 16)
    mask[:n_per_row, :, 3:7, 2:14] = 1
    mask[n_per_row:, :, 10:15, 3:13] = 1
    clean = torch.rand(2 * n_per_row, 1, 16, 16)
    occ = torch.where(mask > 0, torch.zeros_like(clean), clean)
    return D.DiagnosisFaces(occ, clean, mask, [r for r in rows for _ in range(n_per_row)])


def test_a_detector_that_ignores_its_input_scores_exactly_its_mean_map():
    torch.manual_seed(0)
    model = RLA(SMALL)
    with torch.no_grad():  # the write layer ignores the hidden state: the same map for every face
        model.detector.write.weight.zero_()
        model.detector.write.bias.copy_(torch.linspace(-1, 1, 256))
    faces = _faces()
    diag = D.diagnose(model, faces, prior=faces.mask.mean(0))
    assert diag.groups == ["Upper face / Sunglasses", "Lower face / Mask", "Upper face", "Lower face", "all"]
    assert len(diag.auc["all"]) == SMALL.steps
    for g in diag.groups:
        assert diag.auc[g][-1] == pytest.approx(diag.mean_map_auc[g])
    # the prior of this toy set covers both boxes: it ranks each occluder above the background, but ties
    # with the other row's box
    assert 0.5 < diag.prior_auc["Upper face"] < 1.0
    auc, iou = D.diagnosis_tables(diag, "toy")
    assert {c.column for c in auc.cells} == {"t=1", "t=2", "t=3", "prior", "mean map"}
    assert {c.column for c in iou.cells} == {"t=1", "t=2", "t=3", "Eq. 14 target"}


def test_paper_placement_puts_free_kinds_anywhere_and_located_kinds_on_the_landmarks(faces128):
    from occface.papers.rla.train import FREE, LOCATED, _occlude_training

    images, marks = faces128
    images, marks = images.repeat(4, 1, 1, 1), marks.repeat(4, 1, 1)
    paper = _occlude_training(images, marks, seed=3, placement="paper")
    semantic = _occlude_training(images, marks, seed=3, placement="semantic")
    assert set(paper.kinds) <= set(FREE + LOCATED) and set(paper.kinds) & set(FREE) and set(paper.kinds) & set(LOCATED)
    rows = torch.arange(images.shape[-2]).float()

    def centre_rows(m: torch.Tensor, kinds: list[str], wanted: tuple[str, ...]) -> torch.Tensor:
        sel = [i for i, k in enumerate(kinds) if k in wanted]
        w = m[sel, 0].sum(2)
        return (w * rows).sum(1) / w.sum(1)

    half = images.shape[-2] / 2
    free_semantic = centre_rows(semantic.mask, semantic.kinds, FREE)
    free_paper = centre_rows(paper.mask, paper.kinds, FREE)
    assert (free_semantic > half).all()             # every hand, book, phone, cup on the lower face
    assert (free_paper < half).any() and (free_paper > half).any()  # anywhere on the face
    with pytest.raises(ValueError, match="placement"):
        _occlude_training(images, marks, seed=3, placement="random")


def test_encoder_probe_finds_a_mask_the_pixels_show():
    torch.manual_seed(0)
    model = RLA(SMALL)
    faces = _faces(4)
    probe = D.encoder_probe(model, faces.occluded, faces.mask, faces, ridge=1e-3)
    assert set(probe) == {"encoder + h_rec probe", "raw-pixel probe", "prior"}
    assert probe["raw-pixel probe"] > 0.99  # the occluder is black: a linear read-out of the pixels finds it
    assert all(0.0 <= v <= 1.0 for v in probe.values())
