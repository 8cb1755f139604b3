"""FSG-GAN (occface.papers.fsg_gan): HDC receptive field, softmax head weighting (Eqs. 9-10), shapes and
ranges, the KL of Eq. 4, a decreasing generator loss (Eq. 8), the official code's missing adversarial
gradient, and a tiny resumable Algorithm 1 run. Random tensors and tiny widths only."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from occface.faces.pairs import TrainingPairs
from occface.papers.fsg_gan import published
from occface.papers.fsg_gan.model import (FSGGAN, Generator, StructureVAE, discriminator, discriminator_loss,
                                          generator_loss, kl_divergence, vae_loss)
from occface.papers.fsg_gan.train import FSGConfig, gan_key, train_fsg_gan, vae_key


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """The CPUs are shared: one thread avoids oversubscription stalls (restored afterwards)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


class TinyIdentity(nn.Module):
    """A stand-in for F of Eq. 6: [0,1] faces -> unit 8-D embeddings."""

    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Conv2d(3, 4, 3, 2, 1), nn.ReLU(), nn.AdaptiveAvgPool2d(2), nn.Flatten(),
                                 nn.Linear(16, 8))

    def forward(self, x):
        return nn.functional.normalize(self.net(x), dim=1)


def tiny(size: int = 16, width: int = 4):
    torch.manual_seed(0)
    vae = StructureVAE(size, width, 8)
    return vae, Generator(width), discriminator(vae)


def footprint(h: int, c: int, rates) -> torch.Tensor:
    out = torch.zeros(h, h, dtype=torch.bool)
    for r in rates:
        for a in (-r, 0, r):
            for b in (-r, 0, r):
                out[c + a, c + b] = True
    return out


@pytest.mark.parametrize("hdc, rates", [(True, (1, 2, 5)), (False, (1,))])
def test_a_single_pixel_reaches_exactly_the_rates_footprint(hdc, rates):
    torch.manual_seed(0)
    block = Generator(4, hdc=hdc).encoder[0].hdc.eval()
    x = torch.zeros(1, 4, 17, 17)
    impulse = x.clone()
    impulse[0, :, 8, 8] = 1.0
    with torch.no_grad():
        changed = (block(impulse) - block(x)).abs().amax(1)[0] > 0
    assert torch.equal(changed, footprint(17, 8, rates))


def test_softmax_weighting_of_the_heads_goes_from_mean_to_max():
    vae, _, disc = tiny()
    disc.eval()
    x = torch.rand(5, 3, 16, 16) * 2 - 1
    with torch.no_grad():
        d = disc.level_scores(x)
        assert d.shape == (5, 3)
        disc.lam = 0.0
        assert torch.allclose(disc(x), d.mean(1), atol=1e-6)  # lambda = 0: arithmetic mean
        disc.lam = 1e4
        assert torch.allclose(disc(x), d.max(1).values, atol=1e-5)  # lambda -> inf: max
        disc.lam = 1.0
        u = disc(x)
    assert (u >= d.mean(1) - 1e-6).all() and (u <= d.max(1).values + 1e-6).all()
    regular = discriminator(vae, "regular")
    assert regular.level_scores(x).shape == (5, 1)


def test_shapes_and_ranges_of_v_g_and_the_restorer():
    vae, gen, _ = tiny(32, 4)
    x = torch.rand(3, 3, 32, 32) * 2 - 1
    g, mu, logvar = vae(x)
    assert g.shape == x.shape and mu.shape == logvar.shape == (3, 8)
    assert g.abs().max() <= 1
    y = gen(x, g)
    assert y.shape == x.shape and y.abs().max() <= 1
    model = FSGGAN(vae, gen, 32)
    images = torch.rand(2, 3, 48, 48)
    out = model.restore(images)
    assert out.shape == images.shape and out.min() >= 0 and out.max() <= 1
    assert torch.equal(out, model.restore(images))  # eval mode: z = mu, deterministic


def test_kl_matches_the_closed_form_and_vanishes_at_the_prior():
    torch.manual_seed(1)
    mu, logvar = torch.randn(4, 6), torch.randn(4, 6)
    q = torch.distributions.Normal(mu, (0.5 * logvar).exp())
    p = torch.distributions.Normal(torch.zeros(4, 6), torch.ones(4, 6))
    expected = torch.distributions.kl_divergence(q, p).sum(1).mean()
    assert torch.allclose(kl_divergence(mu, logvar), expected, atol=1e-5)
    assert kl_divergence(torch.zeros(2, 3), torch.zeros(2, 3)).item() == 0.0
    y = torch.rand(2, 3, 4, 4)
    rec, _ = vae_loss(y + 0.5, y, mu[:2], logvar[:2])
    assert torch.isclose(rec, torch.tensor(0.25 * 48))  # summed over pixels, averaged over the batch


def test_the_generator_loss_decreases_on_a_fixed_batch():
    vae, gen, disc = tiny()
    vae.eval().requires_grad_(False)
    ident = TinyIdentity().requires_grad_(False)
    opt_g = torch.optim.Adam(gen.parameters(), 3e-3, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(disc.parameters(), 1e-3, betas=(0.5, 0.999))
    torch.manual_seed(2)
    y = torch.rand(6, 3, 16, 16) * 2 - 1
    x = y.clone()
    x[..., 4:10, 3:13] = 0.0
    g = vae(x)[0]
    totals = []
    for _ in range(30):
        fake = gen(x, g)
        loss, _ = generator_loss(disc, fake, y, ident)
        opt_g.zero_grad()
        loss.backward()
        opt_g.step()
        totals.append(loss.item())
        opt_d.zero_grad()
        discriminator_loss(disc, y, fake).backward()
        opt_d.step()
    assert sum(totals[-5:]) / 5 < 0.8 * sum(totals[:5]) / 5


def _g_grads(official: bool, disc, gen, x, g, y) -> list[torch.Tensor]:
    gen.zero_grad()
    loss, terms = generator_loss(disc, gen(x, g), y, None, official=official)
    loss.backward()
    assert terms["adv"] > 0
    return [p.grad.clone() for p in gen.parameters()]


def test_official_losses_give_g_no_adversarial_gradient_and_two_dead_heads():
    vae, gen, disc = tiny()
    gen.eval(), disc.eval()  # fixed BN statistics: only D's weights change between the two passes
    x, y = torch.rand(4, 3, 16, 16) * 2 - 1, torch.rand(4, 3, 16, 16) * 2 - 1
    g = vae.eval()(x)[0].detach()
    before = {o: _g_grads(o, disc, gen, x, g, y) for o in (True, False)}
    with torch.no_grad():
        for p in disc.heads.parameters():
            p.add_(torch.randn_like(p))
    after = {o: _g_grads(o, disc, gen, x, g, y) for o in (True, False)}
    assert all(torch.equal(a, b) for a, b in zip(before[True], after[True]))  # D does not reach G
    assert not all(torch.equal(a, b) for a, b in zip(before[False], after[False]))  # the paper's Eq. 7 does
    disc.zero_grad()
    discriminator_loss(disc, y, gen(x, g), official=True).backward()
    dead = [all(p.grad is None or not p.grad.any() for p in h.parameters()) for h in disc.heads]
    assert dead == [False, True, True]  # BCE(val, val): only the small-RF head learns


def _config(**kw) -> FSGConfig:
    return FSGConfig("quick", image_size=16, width=4, z_dim=8, batch=4, vae_batch=4, vae_steps=3, gan_steps=4,
                     identity_rows=2, identity_every=2, **kw)


def test_algorithm_1_trains_v_then_g_and_d_and_reuses_finished_checkpoints(tmp_path, monkeypatch):
    monkeypatch.setenv("OCCFACE_CACHE", str(tmp_path))
    torch.manual_seed(3)
    clean = torch.rand(10, 3, 16, 16)
    data = TrainingPairs(occluded=clean * 0.5, clean=clean, identity=torch.arange(10),
                         mask=torch.ones(10, 1, 16, 16))
    first = train_fsg_gan(_config(), identity=TinyIdentity(), data=data)
    assert len(first.history["vae"]["rec"]) == 3 and len(first.history["gan"]["g"]) == 4
    assert len(first.history["gan"]["ip"]) == 2  # L_ip every identity_every-th step
    class Untouched:  # a finished checkpoint must load without drawing a batch
        def batch(self, *args):
            raise AssertionError("training data used although both checkpoints are finished")

    again = train_fsg_gan(_config(), identity=TinyIdentity(), data=Untouched())
    for a, b in zip(first.model.state_dict().values(), again.model.state_dict().values()):
        assert torch.equal(a, b)
    ablation = _config(hdc=False, disc="regular")
    assert vae_key(ablation) == vae_key(_config()) and gan_key(ablation) != gan_key(_config())


def test_profiles_and_published_numbers():
    assert set(FSGConfig.PER_PROFILE) == {"quick", "default", "full"}
    full = FSGConfig.for_profile("full")
    assert (full.image_size, full.lr, full.betas, full.batch) == (128, 1e-4, (0.5, 0.999), 30)
    assert (full.weights.pw, full.weights.ip, full.weights.adv) == (100.0, 50.0, 1.0)
    assert abs(published.psnr_01(published.TABLE2["FSG-GAN"]["Set1-LFW"][0]) - 28.0167) < 1e-3
