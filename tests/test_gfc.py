"""GFC (Li et al., CVPR 2017) on tiny random tensors: the inpainter's shape and range, the known pixels kept by
its final composite (the generated hole pasted into the input, as GFC's demo_face128.m), the paper's three-stage
schedule, the total loss falling over 30 steps on one fixed batch, and the parsing loss reaching the generator
through the frozen parser."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from occface.baselines import gfc
from occface.nn.parsing import FaceParser

SIZE = 32


pytestmark = pytest.mark.usefixtures("seeded_one_thread")


def _cfg(**changes) -> gfc.GFCConfig:
    return dataclasses.replace(gfc.GFCConfig.for_profile("quick"), image_size=SIZE, width=4, fc=32, disc_width=4,
                               batch=4, **changes)


def _batch(n: int = 4) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(occluded, clean, mask) in [0,1]: smooth random 'faces' with a rectangular hole of noise."""
    g = torch.Generator().manual_seed(1)
    clean = torch.nn.functional.interpolate(torch.rand(n, 3, 4, 4, generator=g), size=SIZE, mode="bilinear")
    mask = torch.zeros(n, 1, SIZE, SIZE)
    mask[:, :, 8:18, 6:26] = 1
    return clean * (1 - mask) + torch.rand(n, 3, SIZE, SIZE, generator=g) * mask, clean, mask


def _parser() -> FaceParser:
    return FaceParser(width=4).eval().requires_grad_(False)


def _step(cfg: gfc.GFCConfig, models: gfc.GFCModels):
    """make_step on one fixed batch, with the official optimisers."""
    opt_g = torch.optim.Adam(models.gen.parameters(), lr=cfg.lr_g, betas=(0.9, 0.999))
    opt_d = torch.optim.Adam([*models.d_local.parameters(), *models.d_global.parameters()], lr=cfg.lr_d,
                             betas=(0.5, 0.999))
    steps = gfc.GANSteps([models.d_local, models.d_global], opt_d, opt_g)
    occluded, clean, mask = _batch()
    x = gfc.fill_noise(occluded * 2 - 1, mask, torch.rand(occluded.shape) * 2 - 1)
    return gfc.make_step(models, _parser(), steps, cfg, lambda i: (x, clean * 2 - 1, mask))


def test_gfc_inpaints_in_range_deterministically_and_its_composite_keeps_the_known_pixels():
    cfg = _cfg()
    gen = gfc.GFCModels.build(cfg).gen.eval()
    occluded, _, mask = _batch(2)
    assert gen(occluded * 2 - 1, mask).shape == occluded.shape
    inpaint = gfc.composite(lambda x, m: gen.predict(x, m, seed=0), SIZE)
    out = inpaint(occluded, mask)
    assert out.shape == occluded.shape and out.dtype == torch.float32
    assert out.min() >= 0 and out.max() <= 1 and torch.isfinite(out).all()
    assert torch.equal(out * (1 - mask), occluded * (1 - mask))  # the composite: only the hole is generated
    assert not torch.equal(out * mask, occluded * mask)
    assert torch.equal(out, inpaint(occluded, mask))  # the hole's noise comes from a fixed seed
    big = torch.nn.functional.interpolate(occluded, size=2 * SIZE)  # another size: resized there and back
    assert inpaint(big, torch.nn.functional.interpolate(mask, size=2 * SIZE)).shape == big.shape


def test_unpooling_puts_each_value_back_where_its_max_came_from():
    x = torch.randn(2, 3, 8, 8)
    pooled, indices = torch.nn.MaxPool2d(2, 2, return_indices=True)(x)
    assert torch.equal(gfc.unpool(pooled, indices), torch.nn.MaxUnpool2d(2, 2)(pooled, indices))


def test_generator_refuses_a_size_its_four_pools_cannot_take():
    with pytest.raises(ValueError, match="divisible by 16"):
        gfc.GFCGenerator(image_size=40, width=4, fc=8)


def test_the_three_stages_add_local_then_global_adversarial_and_parsing_terms():
    cfg = _cfg(rec_steps=2, local_steps=2)
    assert [cfg.stage(i) for i in range(6)] == [1, 1, 2, 2, 3, 3]
    step = _step(cfg, gfc.GFCModels.build(cfg))
    keys = [set(step(i)) for i in (0, 2, 4)]
    assert keys[0] == {"g", "rec"}
    assert keys[1] == {"g", "rec", "d", "adv_local"}
    assert keys[2] == {"g", "rec", "d", "adv_local", "adv_global", "parsing"}


def test_gfc_total_loss_goes_down_over_30_steps_on_a_fixed_batch():
    # the full objective (stage 3) from the first step; D at the official lr 2e-4 (at quick's 2e-3 it masters one
    # fixed batch within ~15 steps and -log D, weighted 300, then rises: a GAN's G loss need not fall)
    cfg = _cfg(rec_steps=0, local_steps=0, lr_g=1e-3, lr_d=2e-4)
    step = _step(cfg, gfc.GFCModels.build(cfg))
    logs = [step(i) for i in range(30)]
    assert logs[0]["parsing"] > 0 and logs[0]["adv_global"] > 0
    first, last = sum(log["g"] for log in logs[:3]) / 3, sum(log["g"] for log in logs[-3:]) / 3
    assert last < first, f"loss went {first:.1f} -> {last:.1f}"


def test_parsing_loss_reaches_the_generator_through_the_frozen_parser():
    cfg = _cfg()
    gen, parser = gfc.GFCModels.build(cfg).gen, _parser()
    occluded, clean, mask = _batch(2)
    real = clean * 2 - 1
    completed = gfc.complete(gen(gfc.fill_noise(occluded * 2 - 1, mask, torch.zeros_like(occluded)), mask), real,
                             mask)
    loss = gfc.parsing_loss(parser, (completed + 1) / 2, clean)
    loss.backward()
    grads = [p.grad for p in gen.parameters()]
    assert all(g is not None for g in grads) and sum(g.abs().sum() for g in grads) > 0
    assert all(p.grad is None for p in parser.parameters())  # frozen: nothing accumulates in the parser
    with torch.no_grad():  # a per-image sum over pixels counted at 128 px: 128^2 x the mean pixel loss
        mean = torch.nn.functional.cross_entropy(parser((completed + 1) / 2), parser(clean).argmax(1))
    assert torch.isclose(loss.detach(), 128 ** 2 * mean, rtol=1e-4)


def test_gfc_config_carries_the_official_weights_and_is_registered_as_a_composite_inpainter():
    from occface import methods as registry
    from occface.profiles import ProfileConfig

    full = gfc.GFCConfig.for_profile("full")
    assert (full.image_size, full.width, full.fc, full.disc_width) == (128, 32, 4096, 64)
    assert (full.adv_local, full.adv_global, full.parsing, full.lr_g, full.lr_d) == (300, 300, 0.05, 1e-4, 2e-4)
    assert isinstance(full, ProfileConfig) and "for_profile" not in vars(gfc.GFCConfig)
    assert gfc.pixel_scale(128) == 1 and gfc.pixel_scale(32) == 16
    m = registry.method("gfc")
    assert m.kind == "inpainter" and m.keeps_known


def test_the_deferred_parser_can_train_on_first_use_inside_no_grad(monkeypatch):
    """GFC's parser loads at its first call, which sits inside parsing_loss's no_grad: a parser that is not
    cached yet must still be able to train there (it crashed the first default run)."""
    import torch

    from occface.baselines import gfc
    from occface.nn import parsing

    def training_parser(profile, seed):
        layer = torch.nn.Conv2d(3, 2, 1)
        layer(torch.rand(1, 3, 4, 4)).sum().backward()  # what train_parser does when nothing is cached
        return layer

    monkeypatch.setattr(parsing, "frozen_parser", training_parser)
    parser = gfc.DeferredParser("quick", 0, torch.device("cpu"))
    with torch.no_grad():
        assert parser(torch.rand(1, 3, 4, 4)).shape == (1, 2, 4, 4)
