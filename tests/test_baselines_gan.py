"""The generative inpainting / translation baselines (DeepFill, PConv, CycleGAN, CSA, CoopNets) on tiny
random tensors: output shape and range, known pixels kept where promised, and the total loss of a few
steps on one fixed batch going down."""

from __future__ import annotations

import dataclasses

import pytest
import torch

SIZE = 16


pytestmark = pytest.mark.usefixtures("seeded_one_thread")


def _batch(n: int = 4) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(occluded, clean, mask): a smooth random face-like image with a rectangular hole filled with noise."""
    g = torch.Generator().manual_seed(1)
    clean = torch.nn.functional.interpolate(torch.rand(n, 3, 4, 4, generator=g), size=SIZE, mode="bilinear")
    mask = torch.zeros(n, 1, SIZE, SIZE)
    mask[:, :, 4:10, 5:12] = 1
    occluded = clean * (1 - mask) + torch.rand(n, 3, SIZE, SIZE, generator=g) * mask
    return occluded, clean, mask


def _check_inpainter(inpaint, keeps_known: bool = True) -> None:
    occluded, _, mask = _batch()
    out = inpaint(occluded, mask)
    assert out.shape == occluded.shape and out.dtype == torch.float32
    assert out.min() >= 0 and out.max() <= 1 and torch.isfinite(out).all()
    if keeps_known:
        assert torch.equal(out * (1 - mask), occluded * (1 - mask))
    big = torch.nn.functional.interpolate(occluded, size=2 * SIZE)  # another size: resized there and back
    assert inpaint(big, torch.nn.functional.interpolate(mask, size=2 * SIZE)).shape == big.shape


def _goes_down(history: list[float]) -> None:
    first, last = sum(history[:3]) / 3, sum(history[-3:]) / 3
    assert last < first, f"loss went {first:.4f} -> {last:.4f}"


# ## DeepFill v1 (CA / GnIpt)
def _deepfill():
    from occface.baselines import deepfill as d

    cfg = dataclasses.replace(d.DeepFillConfig.for_profile("quick"), image_size=SIZE, width=4, critic_width=4,
                              d_steps=2)
    gen = d.DeepFill(cfg.width)
    critic = d.GlobalLocalCritic(SIZE, SIZE // 2, width=cfg.critic_width)
    return d, cfg, gen, critic


def test_deepfill_inpaints_in_range_and_keeps_known_pixels():
    d, cfg, gen, _ = _deepfill()
    x1, x2 = gen(torch.rand(2, 3, SIZE, SIZE) * 2 - 1, _batch(2)[2])
    assert x1.shape == x2.shape == (2, 3, SIZE, SIZE) and x2.abs().max() <= 1
    _check_inpainter(d.composite(gen.eval().predict, SIZE))
    from occface import methods

    assert methods.method("ca").name == methods.method("gnipt").name == "deepfill"


def test_deepfill_hole_boxes_bound_the_hole():
    from occface.baselines.deepfill import hole_boxes

    mask = torch.zeros(2, 1, 8, 8)
    mask[0, :, 2:5, 3:7] = 1
    assert hole_boxes(mask).tolist() == [[3, 2, 7, 5], [0, 0, 8, 8]]


def test_deepfill_total_loss_goes_down_on_a_fixed_batch():
    d, cfg, gen, critic = _deepfill()
    steps = d.GANSteps(critic, d.adam(critic.parameters(), 1e-3), d.adam(gen.parameters(), 2e-3))
    batch = _batch()
    step = d.make_step(gen, critic, steps, cfg, lambda i: batch)
    _goes_down([step(i)["g"] for i in range(30)])


# ## PConv
class _Features(torch.nn.Module):
    """A tiny stand-in for FaceNet's feature network: three random conv stages, all returned."""

    def __init__(self):
        super().__init__()
        self.a = torch.nn.Conv2d(3, 4, 3, 2, 1)
        self.b = torch.nn.Conv2d(4, 6, 3, 2, 1)
        self.c = torch.nn.Conv2d(6, 7, 3, 1, 1)

    def forward(self, x):
        a = torch.relu(self.a(x))
        b = torch.relu(self.b(a))
        return [a, b, torch.relu(self.c(b))]


def test_pconv_unet_inpaints_in_range_and_keeps_known_pixels():
    from occface.baselines import pconv as p

    net = p.PConvUNet(width=4, levels=p.levels_for(SIZE)).eval()
    assert len(net.encoder) == 3  # 16 -> 8 -> 4 -> 2
    occluded, _, mask = _batch(2)
    assert net(occluded, 1 - mask).shape == occluded.shape
    _check_inpainter(p.composite(net.predict, SIZE))


def test_pconv_total_loss_goes_down_on_a_fixed_batch():
    from occface.baselines import pconv as p

    cfg = dataclasses.replace(p.PConvConfig.for_profile("default"), image_size=SIZE, width=4, steps=30,
                              finetune_steps=5, lr=3e-3)
    assert (cfg.valid, cfg.hole, cfg.tv, cfg.perceptual, cfg.style) == (1, 6, 0.1, 0.05, 120)
    net = p.PConvUNet(cfg.width, p.levels_for(SIZE))
    opt = torch.optim.Adam(net.parameters(), lr=cfg.lr)
    batch = _batch()
    step = p.make_step(net, p.PerceptualStyle(_Features()), opt, cfg, lambda i: batch)
    logs = [step(i) for i in range(30)]
    assert logs[0]["perceptual"] > 0 and logs[0]["style"] > 0
    _goes_down([log["loss"] for log in logs])
    assert opt.param_groups[0]["lr"] == cfg.lr_finetune and not net.encoder[1].norm.training


# ## CycleGAN
def _cyclegan():
    from occface.baselines import cyclegan as c

    cfg = dataclasses.replace(c.CycleGANConfig.for_profile("quick"), image_size=SIZE, width=4, disc_width=4,
                              blocks=1, disc_layers=2, pool=3,
                              lr=2e-3)
    return c, cfg, c.CycleGAN.build(cfg)


def test_cyclegan_restores_in_range_at_any_size():
    c, cfg, m = _cyclegan()
    for module in m.modules().values():
        module.eval()
    occluded = _batch(2)[0]
    for x in (occluded, torch.nn.functional.interpolate(occluded, size=2 * SIZE)):
        out = m.restore(x)
        assert out.shape == x.shape and out.min() >= 0 and out.max() <= 1
        assert torch.equal(out, m.restore(x))


def test_cyclegan_image_pool_fills_then_swaps():
    from occface.baselines.cyclegan import ImagePool

    pool = ImagePool(2, (1, 1, 1))
    g = torch.Generator().manual_seed(0)
    first = torch.arange(3.0).view(3, 1, 1, 1)
    out = pool.query(first, g)
    assert int(pool.count) == 2 and pool.images.flatten().tolist() == [0, 1]
    assert torch.equal(out[:2], first[:2])  # stored and returned as they are while filling
    later = pool.query(torch.full((50, 1, 1, 1), 9.0), g)
    assert 0 < (later != 9).sum() <= 2 and (pool.images == 9).any()  # old ones come back, new ones go in


def test_cyclegan_total_loss_goes_down_on_a_fixed_batch():
    c, cfg, m = _cyclegan()
    opt_g, opt_d = c.optimizers(m, cfg.lr)
    steps = c.GANSteps([m.d_y, m.d_x], opt_d, opt_g)
    occluded, clean, _ = _batch()
    step = c.make_step(m, steps, cfg, lambda i: (occluded, clean.flip(0)))
    _goes_down([step(i)["g"] for i in range(30)])


# ## CSA
def test_csa_layer_keeps_known_positions_and_copies_the_best_match_first():
    from occface.baselines.csa import coherent_attention

    f = torch.randn(2, 5, 3, 3)
    hole = torch.zeros(2, 1, 3, 3)
    hole[0, :, 1, 1] = 1
    hole[1, :, 0, 1:] = 1
    out = coherent_attention(f, hole)
    assert torch.equal(out * (1 - hole), f * (1 - hole))
    flat = f[0].flatten(1).T
    cos = torch.nn.functional.normalize(flat, dim=1) @ torch.nn.functional.normalize(flat[4], dim=0)
    cos[4] = -2
    assert torch.allclose(out[0, :, 1, 1], flat[cos.argmax()])  # the only hole patch: its best known match
    assert torch.equal(coherent_attention(f, torch.ones(2, 1, 3, 3)), f)  # nothing known: unchanged


def _csa(features=None):
    from occface.baselines import csa as c

    cfg = dataclasses.replace(c.CSAConfig.for_profile("default"), image_size=SIZE, width=4, disc_width=2,
                              disc_layers=2, lr=1e-3)
    return c, cfg, c.build(cfg, features)


def test_csa_inpaints_in_range_and_keeps_known_pixels():
    c, cfg, m = _csa()
    occluded, _, mask = _batch(2)
    rough, refined, inner = m.net(occluded, mask)
    assert rough.shape == refined.shape == occluded.shape and inner[0].shape == inner[1].shape
    _check_inpainter(c.composite(m.net.eval().predict, SIZE))


def test_csa_total_loss_goes_down_on_a_fixed_batch():
    features = _Features().requires_grad_(False)
    c, cfg, m = _csa(features)
    adam = lambda ps: torch.optim.Adam(ps, lr=cfg.lr, betas=(0.5, 0.999))  # noqa: E731
    steps = c.GANSteps([m.d_image, m.d_feature], adam([*m.d_image.parameters(), *m.d_feature.parameters()]),
                       adam(m.net.parameters()))
    batch = _batch()
    step = c.make_step(m, features, steps, cfg, lambda i: batch)
    logs = [step(i) for i in range(30)]
    assert logs[0]["consistency"] > 0
    _goes_down([log["g"] for log in logs])
    first = m.net.project[0].weight.clone()
    step(30)
    assert not torch.equal(first, m.net.project[0].weight)  # the consistency loss reaches the generator


# ## CoopNets (CL)
def _coopnets():
    from occface.baselines import coopnets as c

    cfg = dataclasses.replace(c.CoopNetsConfig.for_profile("quick"), image_size=SIZE, gen_width=4, des_width=4,
                              infer_steps=5, fill_steps=3)
    return c, cfg, c.Descriptor(SIZE, cfg.des_width), c.Generator(SIZE, cfg.gen_width, cfg.latent)


def test_coopnets_inpaints_deterministically_in_range_keeping_known_pixels():
    c, cfg, des, gen = _coopnets()
    assert gen(torch.randn(2, cfg.latent)).shape == (2, 3, SIZE, SIZE)
    model = c.CoopNets(des.eval(), gen.eval(), cfg)
    inpaint = c.composite(model.predict, SIZE)
    _check_inpainter(inpaint)
    occluded, _, mask = _batch(2)
    assert torch.equal(inpaint(occluded, mask), inpaint(occluded, mask))


def test_coopnets_langevin_clamps_the_visible_pixels():
    c, cfg, des, _ = _coopnets()
    y, visible = torch.rand(2, 3, SIZE, SIZE), 1 - _batch(2)[2]
    out = c.descriptor_langevin(des, y, cfg, torch.Generator().manual_seed(0), 3, frozen=visible)
    assert torch.equal(out * visible, y * visible) and not torch.equal(out, y)


def test_coopnets_total_loss_goes_down_on_a_fixed_batch():
    c, cfg, des, gen = _coopnets()
    opt_d = torch.optim.Adam(des.parameters(), lr=cfg.des_lr, betas=(0.5, 0.999))
    opt_g = torch.optim.Adam(gen.parameters(), lr=cfg.gen_lr, betas=(0.5, 0.999))
    clean = _batch()[1]
    step = c.make_step(des, gen, opt_d, opt_g, cfg, lambda i: clean)
    logs = [step(i) for i in range(30)]
    _goes_down([log["descriptor"] + log["generator"] for log in logs])
