"""OA-GAN (occface.papers.oa_gan): the blend, the mask penalty's sign, Eq. 6 on x_final, shapes and ranges,
the attribute head, the schedules, and that the generator's loss falls on a fixed batch. Random tensors and
tiny stand-in feature networks; no data, no FaceNet."""

from __future__ import annotations

import dataclasses

import pytest
import torch
from torch import nn

from occface.nn.losses import PerceptualStyle
from occface.papers.oa_gan import model as M
from occface.papers.oa_gan.train import OAGANConfig, natural_steps

torch.set_num_threads(1)
CFG = M.NetConfig(image_size=16, width=4, res_blocks=1, disc_width=4, attributes=10)


class TinyFeatures(nn.Module):
    """A frozen stand-in for FaceNet's feature network: two conv stages."""

    def __init__(self):
        super().__init__()
        self.a, self.b = nn.Conv2d(3, 4, 3, 2, 1), nn.Conv2d(4, 6, 3, 2, 1)

    def forward(self, x):
        a = torch.relu(self.a(x))
        return [a, torch.relu(self.b(a))]


def _batch(n=4, size=16, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(n, 3, size, size, generator=g), torch.rand(n, 3, size, size, generator=g)


def test_shapes_and_ranges():
    torch.manual_seed(0)
    gen, disc = M.OAGAN(CFG), M.Discriminator(CFG)
    x, _ = _batch()
    out = gen(x)
    assert out.keep.shape == (4, 1, 16, 16) and out.synth.shape == out.final.shape == x.shape
    for t in (out.keep, out.synth, out.final):
        assert t.min() >= 0 and t.max() <= 1
    scores, attrs = disc(x)
    assert scores.shape == (4, 1, 2, 2) and attrs.shape == (4, 10)  # Table II: 1x2x2 and 10x1x1
    hole = gen.predict_mask(x)
    assert hole.shape == (4, 1, 16, 16) and 0 <= hole.min() and hole.max() <= 1
    assert torch.allclose(hole, 1 - out.keep.detach(), atol=1e-6)
    big = gen.restore(torch.rand(2, 3, 32, 32))  # another size: resized in and out
    assert big.shape == (2, 3, 32, 32) and 0 <= big.min() and big.max() <= 1


def test_attribute_head_follows_config_and_can_be_dropped():
    big = M.Discriminator(M.NetConfig(image_size=128, width=4, disc_width=2, attributes=10))
    assert len([m for m in big.features if isinstance(m, nn.Conv2d)]) == 6  # Table II: six 4x4/2 convs
    scores, attrs = big(torch.rand(1, 3, 128, 128))
    assert scores.shape == (1, 1, 2, 2) and attrs.shape == (1, 10)
    assert M.Discriminator(dataclasses.replace(CFG, attributes=0))(torch.rand(2, 3, 16, 16))[1] is None


def test_an_all_keep_mask_returns_the_input_exactly():
    x, synth = _batch()
    assert torch.equal(M.blend(x, synth, torch.ones(4, 1, 16, 16)), x)
    gen = M.OAGAN(CFG)
    with torch.no_grad():  # force M = sigmoid(30) = 1.0 in float32: the clean-face case of Fig. 9
        gen.aware.mask_head.weight.zero_()
        gen.aware.mask_head.bias.fill_(30.0)
    assert torch.equal(gen(x).final, x) and torch.equal(gen.restore(x), x)
    assert gen.predict_mask(x).max() == 0


def test_mask_penalty_step_shrinks_the_predicted_hole():
    logits = torch.zeros(2, 1, 8, 8, requires_grad=True)
    keep = torch.sigmoid(logits)
    out = M.GeneratorOutput(keep, torch.rand(2, 3, 8, 8), torch.rand(2, 3, 8, 8))
    (M.LossWeights().mask * M.mask_penalty(out)).backward()  # lambda_5 = -1
    with torch.no_grad():
        after = torch.sigmoid(logits - 0.5 * logits.grad)
    assert (after > keep).all()  # M (keep) grows, so the hole 1 - M shrinks


def test_pixel_loss_is_eq6_on_x_final():
    x, gt = _batch()
    synth = torch.rand(4, 3, 16, 16, generator=torch.Generator().manual_seed(3))
    keep = torch.rand(4, 1, 16, 16, generator=torch.Generator().manual_seed(4))
    out = M.GeneratorOutput(keep, synth, M.blend(x, synth, keep))
    got = M.pixel_loss(out, gt, hole=6.0, valid=1.0)
    err = (out.final - gt).abs()
    want = 6.0 * ((1 - keep) * err).mean() + 1.0 * (keep * err).mean()
    assert torch.allclose(got, want)
    on_synth = 6.0 * ((1 - keep) * (synth - gt).abs()).mean() + (keep * (synth - gt).abs()).mean()
    assert not torch.allclose(got, on_synth)  # not the official code's x_synth


def _output_with_a_leaf_mask(keep_value: float = 0.7):
    """A generator output whose x_final and x_synth do not depend on M: only Eq. 6's weights can carry
    a gradient to M."""
    g = torch.Generator().manual_seed(3)
    keep = torch.full((2, 1, 8, 8), keep_value, requires_grad=True)
    synth, final = torch.rand(2, 3, 8, 8, generator=g), torch.rand(2, 3, 8, 8, generator=g)
    return M.GeneratorOutput(keep, synth, final), torch.rand(2, 3, 8, 8, generator=g)


def test_eq6_weights_treat_the_mask_as_given():
    out, gt = _output_with_a_leaf_mask()
    given = M.pixel_loss(out, gt, hole=6.0, valid=1.0, mask="given")
    assert given.grad_fn is None or torch.autograd.grad(given, out.keep, allow_unused=True)[0] is None
    learned = M.pixel_loss(out, gt, hole=6.0, valid=1.0, mask="learned")
    grad, = torch.autograd.grad(learned, out.keep)
    # differentiated weights: opening the hole (lower M) raises a pixel's weight from 1 to 6, so the
    # gradient says "keep" (dL/dM < 0) on every pixel with an error, the occluder's included
    assert (grad < 0).all()
    torch.testing.assert_close(given, learned.detach())  # same value, only the gradient differs
    assert M.LossWeights().pixel_mask == "given"
    with pytest.raises(ValueError, match="given"):
        M.pixel_loss(out, gt, 6.0, 1.0, mask="true")


def test_eq6_known_weights_are_the_occluder_mask():
    out, gt = _output_with_a_leaf_mask()
    occluder = (torch.rand(2, 1, 8, 8, generator=torch.Generator().manual_seed(5)) > 0.5).float()
    got = M.pixel_loss(out, gt, hole=6.0, valid=1.0, mask="known", occluder=occluder)
    err = (out.final - gt).abs()
    torch.testing.assert_close(got, 6.0 * (occluder * err).mean() + ((1 - occluder) * err).mean())
    with pytest.raises(ValueError, match="occluder"):
        M.pixel_loss(out, gt, 6.0, 1.0, mask="known")


def test_known_mask_fit_opens_the_occluder_and_keeps_the_rest():
    out, _ = _output_with_a_leaf_mask(keep_value=0.5)
    occluder = torch.zeros(2, 1, 8, 8)
    occluder[..., 2:5, :] = 1
    grad, = torch.autograd.grad(M.mask_fit(out, occluder), out.keep)
    # a step -lr * grad lowers M (opens the hole) on the occluder and raises it elsewhere
    assert (grad[occluder.bool()] > 0).all() and (grad[~occluder.bool()] < 0).all()


def test_known_mask_term_on_paired_batches_only():
    gen, disc = M.OAGAN(CFG), M.Discriminator(CFG)
    x, gt = _batch()
    w = M.LossWeights()
    assert w.known_mask > 0  # on by default (chosen on validation people; see model.mask_fit)
    occluder = torch.zeros(4, 1, 16, 16)
    occluder[..., 4:8, :] = 1
    paired = M.generator_losses(gen(x), disc, w, gt, occluder=occluder)
    assert "known_mask" in paired and torch.isfinite(paired["total"])
    assert "known_mask" not in M.generator_losses(gen(x), disc, w)  # Eq. 9: natural batches have no mask
    off = dataclasses.replace(w, known_mask=0.0)
    assert "known_mask" not in M.generator_losses(gen(x), disc, off, gt, occluder=occluder)
    with pytest.raises(ValueError, match="occluder"):
        M.generator_losses(gen(x), disc, w, gt)


def test_the_eq6_switch_changes_the_checkpoint_key():
    from occface.papers.oa_gan.train import train_key

    cfg = OAGANConfig.for_profile("quick")
    learned = dataclasses.replace(cfg, weights=dataclasses.replace(cfg.weights, pixel_mask="learned"))
    assert train_key(cfg, "facenet") != train_key(learned, "facenet")
    printed = dataclasses.replace(cfg, weights=dataclasses.replace(cfg.weights, known_mask=0.0), clean_share=0.0)
    assert train_key(cfg, "facenet") != train_key(printed, "facenet")


def test_ablation_weights_and_unknown_names():
    w = M.LossWeights().without(("style", "pixel"))
    assert w.style == 0 and w.pixel == 0 and w.perceptual == 0.05
    with pytest.raises(ValueError, match="valid"):
        M.LossWeights().without(("l1",))


def test_paired_and_unpaired_losses_have_the_terms_of_eqs_8_and_9():
    gen, disc = M.OAGAN(CFG), M.Discriminator(CFG)
    x, gt = _batch()
    out, ps, w = gen(x), PerceptualStyle(TinyFeatures()), M.LossWeights()
    occluder = torch.zeros(4, 1, 16, 16)
    paired = M.generator_losses(out, disc, w, gt, ps, torch.ones(4, 10), torch.ones(4), occluder=occluder)
    assert set(paired) == {"perceptual", "style", "pixel", "smooth", "mask", "adv", "attr", "known_mask", "total"}
    printed = M.generator_losses(out, disc, dataclasses.replace(w, known_mask=0.0), gt, ps, torch.ones(4, 10),
                                 torch.ones(4))  # Eq. 8 as printed: no mask supervision, no mask needed
    assert set(printed) == {"perceptual", "style", "pixel", "smooth", "mask", "adv", "attr", "total"}
    assert set(M.generator_losses(out, disc, w)) == {"smooth", "mask", "adv", "total"}
    d = M.discriminator_losses(disc, gt, out.final, w, torch.ones(4, 10), torch.ones(4))
    assert set(d) == {"adv", "gp", "attr", "total"} and torch.isfinite(d["total"])


def test_generator_loss_falls_on_a_fixed_batch():
    torch.manual_seed(0)
    gen, disc = M.OAGAN(CFG), M.Discriminator(CFG)
    ps, w = PerceptualStyle(TinyFeatures()), M.LossWeights()
    x, gt = _batch(seed=1)
    occluder = torch.zeros(4, 1, 16, 16)
    occluder[..., 4:9, 3:12] = 1
    opt = torch.optim.Adam(gen.parameters(), lr=2e-3, betas=(0.5, 0.999))
    totals = []
    for _ in range(30):
        loss = M.generator_losses(gen(x), disc, w, gt, ps, occluder=occluder)["total"]
        opt.zero_grad()
        loss.backward()
        opt.step()
        totals.append(loss.item())
    assert sum(totals[-5:]) / 5 < 0.7 * sum(totals[:5]) / 5


def test_schedules():
    quick = OAGANConfig.for_profile("quick")
    paper = natural_steps(dataclasses.replace(quick, steps=2000, g_every=5))
    updates = paper[::5]
    assert not updates[:40].any()                      # paired first (warm-up)
    assert 0.05 < updates[40:100].mean() < 0.2         # about 1 in 11 right after it
    assert abs(updates[250:].mean() - 0.5) < 0.02      # 1:1 at the end
    assert all(paper[i] == paper[i - i % 5] for i in range(2000))  # one kind per G update
    official = natural_steps(dataclasses.replace(quick, steps=100, schedule="official"))
    assert official.sum() == 10 and official[9] and official[19]
    pretrain = natural_steps(dataclasses.replace(quick, steps=100, g_every=5, schedule="pretrain", ramp=0.6))
    assert not pretrain[:60].any() and pretrain[60:].all()  # Fig. 15 method 1: paired, then natural only
    with pytest.raises(ValueError, match="schedule must be"):
        natural_steps(dataclasses.replace(quick, schedule="finetune"))


def test_lfw_attribute_names_and_path_matching(data_root):
    from occface.papers.oa_gan.natural import LFW_NAMES, NOT_CLEAN, attributes_folder, lfw_attributes

    folder = attributes_folder()
    if folder is None:
        pytest.skip("no lfw/attributes folder in OCCFACE_DATA")
    paths = ["lfw/lfw-deepfunneled/Aaron_Eckhart/Aaron_Eckhart_0001.jpg", "lfw/lfw-deepfunneled/No_One/x.jpg"]
    values, known, names = lfw_attributes(paths, folder)
    assert set(LFW_NAMES.values()) | set(NOT_CLEAN) <= set(names) and len(LFW_NAMES) == len(M.ATTRIBUTES) == 10
    assert known.tolist() == [True, False] and not values[1].any()


def test_score_cells_add_the_hole_psnr_inside_the_true_mask():
    from occface.eval.metrics import masked_psnr
    from occface.eval.protocols import TestSet
    from occface.papers.oa_gan.tables import score_cells

    g = torch.Generator().manual_seed(0)
    clean = torch.rand(4, 3, 16, 16, generator=g)
    mask = torch.zeros(4, 1, 16, 16)
    mask[:, :, 4:10, 3:12] = 1
    occluded = torch.where(mask > 0, torch.zeros_like(clean), clean)
    restored = (occluded + 0.3 * mask).clamp(0, 1)
    cells = {c.row: c for c in score_cells("m", restored, TestSet(occluded, clean, mask))}
    assert set(cells) == {"PSNR", "SSIM", "hole PSNR"}
    assert cells["hole PSNR"].ours == pytest.approx(masked_psnr(restored, clean, mask))
    assert cells["hole PSNR"].ours < cells["PSNR"].ours  # the untouched pixels lift the whole-image PSNR


@pytest.mark.parametrize("upsample", ["deconv", "resize"])
def test_both_upsampling_layers_give_the_same_shapes(upsample):
    torch.manual_seed(0)
    out = M.OAGAN(dataclasses.replace(CFG, upsample=upsample))(_batch()[0])
    assert out.keep.shape == (4, 1, 16, 16) and out.synth.shape == (4, 3, 16, 16)
    with pytest.raises(ValueError, match="'deconv' \\(Table I\\) or 'resize'"):
        M.OAGAN(dataclasses.replace(CFG, upsample="bicubic"))


def test_full_keeps_table_i_deconvs_and_smaller_profiles_resize():
    assert M.NetConfig.for_profile("full").upsample == "deconv"
    assert M.NetConfig.for_profile("default").upsample == M.NetConfig.for_profile("quick").upsample == "resize"
