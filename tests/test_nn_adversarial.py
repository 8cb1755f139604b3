"""GANLoss against hand-computed values; WGAN-GP closed forms with linear critics."""

import math

import pytest
import torch

from occface.nn.adversarial import GANLoss, gradient_penalty

REAL = torch.tensor([2.0, -1.0])
FAKE = torch.tensor([0.5, -3.0])


def _log_sig(z):
    return -math.log1p(math.exp(-z))


def _log_one_minus_sig(z):
    return -math.log1p(math.exp(z))


def test_bce_d_loss_is_minus_log_d_real_minus_log_one_minus_d_fake():
    expected = (-sum(_log_sig(z) for z in REAL.tolist()) / 2
                - sum(_log_one_minus_sig(z) for z in FAKE.tolist()) / 2)
    assert GANLoss("bce").d_loss(REAL, FAKE).item() == pytest.approx(expected, rel=1e-6)


def test_bce_g_loss_is_non_saturating_minus_log_d_fake():
    expected = -sum(_log_sig(z) for z in FAKE.tolist()) / 2
    assert GANLoss("bce").g_loss(FAKE).item() == pytest.approx(expected, rel=1e-6)


def test_lsgan_hinge_wgan_match_their_formulas():
    r, f = REAL, FAKE
    cases = {
        "lsgan": (((r - 1) ** 2).mean() + (f ** 2).mean(), ((f - 1) ** 2).mean()),
        "hinge": ((1 - r).clamp(min=0).mean() + (1 + f).clamp(min=0).mean(), -f.mean()),
        "wgan": (f.mean() - r.mean(), -f.mean()),
    }
    for mode, (d, g) in cases.items():
        loss = GANLoss(mode)
        assert loss.d_loss(r, f).item() == pytest.approx(d.item(), rel=1e-6), mode
        assert loss.g_loss(f).item() == pytest.approx(g.item(), rel=1e-6), mode


def test_ragan_is_relativistic_average_bce_and_g_needs_real_logits():
    r_rel = (REAL - FAKE.mean()).tolist()
    f_rel = (FAKE - REAL.mean()).tolist()
    d = -sum(map(_log_sig, r_rel)) / 2 - sum(map(_log_one_minus_sig, f_rel)) / 2
    g = -sum(map(_log_one_minus_sig, r_rel)) / 2 - sum(map(_log_sig, f_rel)) / 2
    loss = GANLoss("ragan")
    assert loss.d_loss(REAL, FAKE).item() == pytest.approx(d, rel=1e-6)
    assert loss.g_loss(FAKE, REAL).item() == pytest.approx(g, rel=1e-6)
    with pytest.raises(ValueError, match="real_logits"):
        loss.g_loss(FAKE)


def test_ragan_g_loss_sends_no_gradient_to_real_logits():
    real = REAL.clone().requires_grad_(True)
    fake = FAKE.clone().requires_grad_(True)
    GANLoss("ragan").g_loss(fake, real).backward()
    assert real.grad is None and fake.grad.abs().sum() > 0


def test_targets_follow_the_logits_shape_and_unknown_mode_lists_valid_ones():
    logits = torch.randn(3, 1, 5, 5)  # a PatchGAN map
    assert GANLoss("bce").d_loss(logits, logits).shape == ()
    with pytest.raises(ValueError, match="bce, lsgan, hinge, wgan, ragan"):
        GANLoss("vanilla")


def _linear_critic(weight):
    return lambda x: (x * weight).flatten(1).sum(1)


def test_gradient_penalty_is_zero_for_a_linear_critic_with_unit_norm_weight():
    w = torch.randn(1, 2, 4, 4)
    w = w / w.norm()
    real, fake = torch.randn(3, 2, 4, 4), torch.randn(3, 2, 4, 4)
    assert gradient_penalty(_linear_critic(w), real, fake).item() == pytest.approx(0.0, abs=1e-8)


def test_gradient_penalty_equals_weight_times_squared_norm_gap():
    w = torch.full((1, 1, 2, 2), 1.5)  # ||w|| = 3, so the penalty is 10 * (3 - 1)^2
    real, fake = torch.randn(2, 1, 2, 2), torch.randn(2, 1, 2, 2)
    assert gradient_penalty(_linear_critic(w), real, fake).item() == pytest.approx(40.0, rel=1e-5)


def test_gradient_penalty_mask_restricts_the_norm_to_the_hole():
    mask = torch.zeros(1, 1, 4, 4)
    mask[..., 1:3, 1:3] = 1
    w = torch.randn(1, 1, 4, 4) * mask
    w = w / w.norm() + 5.0 * (1 - mask)  # unit norm inside the hole, large outside
    real, fake = torch.randn(2, 1, 4, 4), torch.randn(2, 1, 4, 4)
    assert gradient_penalty(_linear_critic(w), real, fake, mask=mask).item() == pytest.approx(0.0, abs=1e-8)
    assert gradient_penalty(_linear_critic(w), real, fake).item() > 1.0


def test_gradient_penalty_sums_one_term_per_critic_output_and_reaches_critic_weights():
    lin = torch.nn.Linear(8, 1)
    two_headed = lambda x: (lin(x).squeeze(1), 2 * lin(x).squeeze(1))
    real, fake = torch.randn(4, 8), torch.randn(4, 8)
    alpha = torch.rand(4, 1)
    one = gradient_penalty(lambda x: lin(x).squeeze(1), real, fake, alpha=alpha)
    norm = lin.weight.norm()
    assert one.item() == pytest.approx(10 * (norm - 1).pow(2).item(), rel=1e-5)
    both = gradient_penalty(two_headed, real, fake, alpha=alpha)
    assert both.item() == pytest.approx(10 * ((norm - 1) ** 2 + (2 * norm - 1) ** 2).item(), rel=1e-5)
    both.backward()
    assert lin.weight.grad is not None and lin.weight.grad.abs().sum() > 0


# --- occface.nn.gan: alternating steps -------------------------------------------------------------------

from occface.nn.gan import GANSteps, g_step, set_requires_grad  # noqa: E402


def _toy_gan():
    torch.manual_seed(0)
    gen, disc = torch.nn.Linear(2, 3), torch.nn.Linear(3, 1)
    opt_g = torch.optim.SGD(gen.parameters(), lr=0.1)
    opt_d = torch.optim.SGD(disc.parameters(), lr=0.1)
    return gen, disc, opt_g, opt_d


def test_set_requires_grad_on_one_module_or_several():
    a, b = torch.nn.Linear(2, 2), torch.nn.Linear(2, 2)
    set_requires_grad([a, b], False)
    assert not any(p.requires_grad for p in [*a.parameters(), *b.parameters()])
    set_requires_grad(a, True)
    assert all(p.requires_grad for p in a.parameters())


def test_g_step_updates_only_the_generator_and_restores_the_discriminator():
    gen, disc, opt_g, opt_d = _toy_gan()
    crit = GANLoss("bce")
    d_before, g_before = disc.weight.detach().clone(), gen.weight.detach().clone()
    loss = g_step(lambda: crit.g_loss(disc(gen(torch.randn(4, 2)))), opt_g, disc=disc)
    assert isinstance(loss, float)
    assert torch.equal(disc.weight, d_before) and disc.weight.grad is None
    assert not torch.equal(gen.weight, g_before)
    assert all(p.requires_grad for p in disc.parameters())


def test_d_step_backpropagates_through_the_given_backward_and_lowers_the_loss():
    gen, disc, opt_g, opt_d = _toy_gan()
    crit, calls = GANLoss("bce"), []

    class FakeTrainer:  # the shape of occface.train.Trainer's backward
        def backward(self, loss):
            calls.append(loss.item())
            loss.backward()

    real, z = torch.randn(8, 3) + 2, torch.randn(8, 2)
    steps = GANSteps(disc=disc, opt_d=opt_d, opt_g=opt_g, backward=FakeTrainer(), clip_d=1.0)
    losses = [steps.d_step(lambda: crit.d_loss(disc(real), disc(gen(z).detach()))) for _ in range(5)]
    assert calls == losses and losses[-1] < losses[0]
    assert gen.weight.grad is None


def test_steps_work_with_the_project_trainer(tmp_path):
    from occface.train import Trainer

    gen, disc, opt_g, opt_d = _toy_gan()
    trainer = Trainer({"g": gen, "d": disc}, {"g": opt_g, "d": opt_d}, tmp_path / "gan.pt", steps=3, desc="gan")
    steps = GANSteps(disc=trainer.modules["d"], opt_d=trainer.optimizers["d"], opt_g=trainer.optimizers["g"],
                     backward=trainer)
    crit = GANLoss("hinge")

    def step_fn(i):
        real, fake = torch.randn(4, 3), trainer.modules["g"](torch.randn(4, 2))
        d = steps.d_step(lambda: crit.d_loss(trainer.modules["d"](real), trainer.modules["d"](fake.detach())))
        g = steps.g_step(lambda: crit.g_loss(trainer.modules["d"](fake)))
        return {"d": d, "g": g}

    history = trainer.fit(step_fn)
    assert len(history["d"]) == 3 and len(history["g"]) == 3
