"""FROM pattern labels (Sec. 3.4.2) as the training recipe assigns them, and the Alg. 1 mixing."""

from __future__ import annotations

import pytest
import torch

occlusion = pytest.importorskip("occface.faces.occlusion")
from occface.faces.pairs import occlude_mixed  # noqa: E402
from occface.papers.from_.published import THRESHOLDS  # noqa: E402
from occface.papers.from_.train import SCALES, FROMRecipe  # noqa: E402
from occface.papers.from_.model import num_patterns  # noqa: E402

torch.set_num_threads(1)


def _iou(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    inter = (a & b).sum((-1, -2)).float()
    return inter / (a | b).sum((-1, -2)).clamp_min(1).float()


def test_alg1_scales_and_table2_thresholds_are_the_papers():
    assert SCALES == (1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5, 5.0)
    assert THRESHOLDS == (0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6)
    assert FROMRecipe.for_profile("quick").clean_fraction == pytest.approx(1 / 3)


def test_patterns_enumerate_every_rectangle_of_adjacent_blocks():
    for K in (3, 4, 5):
        pats = occlusion.proximate_patterns(K)
        assert pats.shape == (num_patterns(K), K, K) and not pats[0].any()
        assert len({tuple(p.flatten().tolist()) for p in pats}) == len(pats)


def test_label_is_the_pattern_with_largest_iou_with_the_occluded_box():
    K, (h, w) = 5, (50, 40)  # blocks of 10 x 8 pixels
    boxes = torch.tensor([[0.0, 0.0, 8.0, 10.0],      # exactly block (0, 0)
                          [8.0, 10.0, 24.0, 30.0],    # blocks rows 1-2, cols 1-2
                          [0.0, 40.0, 40.0, 50.0],    # the whole bottom row
                          [0.0, 0.0, 0.0, 0.0]])      # clean
    labels = occlusion.pattern_labels(boxes, (h, w), K)
    pats = occlusion.proximate_patterns(K)
    want = [torch.zeros(K, K, dtype=torch.bool) for _ in range(3)]
    want[0][0, 0] = True
    want[1][1:3, 1:3] = True
    want[2][4, :] = True
    for lab, pat in zip(labels[:3].tolist(), want):
        assert torch.equal(pats[lab], pat)
    assert labels[3] == 0
    # a box off the grid still maps to the best-IoU pattern
    box = torch.tensor([[3.0, 4.0, 19.0, 27.0]])
    lab = int(occlusion.pattern_labels(box, (h, w), K)[0])
    cell = torch.zeros(h, w, dtype=torch.bool)
    cell[4:27, 3:19] = True
    ys, xs = torch.linspace(0, h, K + 1).long(), torch.linspace(0, w, K + 1).long()
    pix = torch.stack([p.repeat_interleave(torch.diff(ys), 0).repeat_interleave(torch.diff(xs), 1) for p in pats[1:]])
    assert lab == int(_iou(pix, cell[None]).argmax()) + 1


def test_mixed_occlusion_leaves_a_third_clean_and_labels_them_zero():
    torch.manual_seed(0)
    faces = torch.rand(60, 3, 28, 24)
    try:
        occ = occlude_mixed(faces, seed=3, clean=1 / 3, K=5)
    except (FileNotFoundError, ValueError) as err:  # no occluder templates behind OCCFACE_DATA
        pytest.skip(str(err))
    untouched = (occ.images == faces).flatten(1).all(1)
    assert occ.pattern.shape == (60,) and occ.pattern.dtype == torch.long
    assert ((occ.pattern >= 0) & (occ.pattern < num_patterns(5))).all()
    assert (occ.pattern[untouched] == 0).all() and (occ.box[untouched] == 0).all()
    assert 8 <= int(untouched.sum()) <= 32                 # ~1/3 clean
    assert ((occ.box >= 0) & (occ.box <= 1)).all()         # Eq. 5 targets normalised to [0, 1]
    again = occlude_mixed(faces, seed=3, clean=1 / 3, K=5)
    assert torch.equal(again.images, occ.images) and torch.equal(again.pattern, occ.pattern)


def test_variants_match_the_papers_ablations():
    from occface.faces.occlusion import KINDS
    from occface.papers.from_.train import ALIASES, GROUPS, VARIANTS

    assert VARIANTS["Baseline-MD"].changes == {"lam": 0.0} and ALIASES["λ0"] == "Baseline-MD"  # Sec. 4.2
    assert VARIANTS["Baseline-Aug"].changes == {"mask": "none"} and ALIASES["K0"] == "Baseline"
    assert ALIASES["K5"] == ALIASES["λ1.0"] == ALIASES["3D"] == "FROM" and VARIANTS["FROM"].changes == {}
    assert [VARIANTS[f"REG{x}"].changes["lam"] for x in ("0.1", "0.2", "0.5")] == [0.1, 0.2, 0.5]
    assert sorted(k for g in GROUPS.values() for k in g) == sorted(KINDS)  # Fig. 12 groups cover all nine
    assert all(VARIANTS[g].scales == (1.0,) and VARIANTS[g].changes == {"K": 4} for g in GROUPS)
