"""Adversarial objectives: one ``GANLoss`` for the five GAN formulations the papers use, and WGAN-GP.

As in pix2pix's ``GANLoss``, the loss builds its own targets from the logits' shape, so a training loop
writes ``crit.d_loss(D(x), D(G(z).detach()))`` and ``crit.g_loss(D(G(z)))`` whatever the mode.
All inputs are raw discriminator outputs (logits / critic scores) of any shape; every term is a mean.

``d_loss`` returns the *sum* of the real and fake terms, as the equations write them (pix2pix halves it in
its loop: multiply by 0.5 there if you want its scale).
"""

from __future__ import annotations

from typing import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

MODES = ("bce", "lsgan", "hinge", "wgan", "ragan")


def _bce(logits: Tensor, target: float) -> Tensor:
    return F.binary_cross_entropy_with_logits(logits, torch.full_like(logits, target))


def _mse(logits: Tensor, target: float) -> Tensor:
    return F.mse_loss(logits, torch.full_like(logits, target))


class GANLoss:
    """``GANLoss(mode)`` with ``d_loss(real_logits, fake_logits)`` and ``g_loss(fake_logits, real_logits=None)``.

    With D = sigmoid(logit), the modes are (means over all elements):

    - ``"bce"``   Goodfellow et al. 2014, non-saturating: D maximises log D(x) + log(1 - D(G(z)));
                  G minimises -log D(G(z)) (not log(1 - D(G(z))), whose gradient vanishes early).
    - ``"lsgan"`` Mao et al. 2017 (a=0, b=c=1): D: (D(x) - 1)^2 + D(G(z))^2;  G: (D(G(z)) - 1)^2.
                  No 1/2 factors (pix2pix's ``MSELoss`` scale).
    - ``"hinge"`` Lim & Ye 2017 / SAGAN: D: relu(1 - D(x)) + relu(1 + D(G(z)));  G: -D(G(z)).
    - ``"wgan"``  Arjovsky et al. 2017: D: D(G(z)) - D(x);  G: -D(G(z)). Pair with ``gradient_penalty``.
    - ``"ragan"`` relativistic average GAN, Jolicoeur-Martineau 2018, in its BCE form (RaSGAN, Eqs. in
                  Sec. 4.2, as ESRGAN uses): with C~(x_r) = C(x_r) - mean C(x_f) and C~(x_f) = C(x_f) - mean C(x_r),
                  D: -log sig(C~(x_r)) - log(1 - sig(C~(x_f)));  G: the same with the labels swapped, so G needs
                  the real logits too. They are detached in ``g_loss`` (no gradient reaches D in G's step).

    ``real_label`` / ``fake_label`` (1 and 0) allow one-sided label smoothing in ``bce``/``lsgan``/``ragan``.
    """

    def __init__(self, mode: str = "bce", real_label: float = 1.0, fake_label: float = 0.0):
        if mode not in MODES:
            raise ValueError(f"unknown GAN mode {mode!r}; valid modes: {', '.join(MODES)}")
        self.mode, self.real_label, self.fake_label = mode, real_label, fake_label

    def __repr__(self) -> str:
        return f"GANLoss({self.mode!r})"

    def _target(self, logits: Tensor, real: bool) -> Tensor:
        """Loss of ``logits`` against the real / fake label for the label-based modes."""
        label = self.real_label if real else self.fake_label
        return _mse(logits, label) if self.mode == "lsgan" else _bce(logits, label)

    def d_loss(self, real_logits: Tensor, fake_logits: Tensor) -> Tensor:
        """Discriminator / critic loss (to minimise); ``fake_logits`` should come from detached fakes."""
        if self.mode in ("bce", "lsgan"):
            return self._target(real_logits, True) + self._target(fake_logits, False)
        if self.mode == "hinge":
            return F.relu(1.0 - real_logits).mean() + F.relu(1.0 + fake_logits).mean()
        if self.mode == "wgan":
            return fake_logits.mean() - real_logits.mean()
        return (self._target(real_logits - fake_logits.mean(), True)
                + self._target(fake_logits - real_logits.mean(), False))

    def g_loss(self, fake_logits: Tensor, real_logits: Tensor | None = None) -> Tensor:
        """Generator loss (to minimise); ``real_logits`` is needed only by ``"ragan"``."""
        if self.mode in ("bce", "lsgan"):
            return self._target(fake_logits, True)
        if self.mode in ("hinge", "wgan"):
            return -fake_logits.mean()
        if real_logits is None:
            raise ValueError("GANLoss('ragan').g_loss needs real_logits: the relativistic loss compares "
                             "fakes with the average real score")
        real_logits = real_logits.detach()
        return (self._target(real_logits - fake_logits.mean(), False)
                + self._target(fake_logits - real_logits.mean(), True))


def gradient_penalty(critic: Callable[[Tensor], Tensor | Sequence[Tensor]], real: Tensor, fake: Tensor,
                     weight: float = 10.0, mask: Tensor | None = None,
                     alpha: Tensor | None = None) -> Tensor:
    """WGAN-GP (Gulrajani et al. 2017, Eq. 3): weight * E[(||grad_x^ D(x^)||_2 - 1)^2], x^ = a x + (1-a) G(z).

    ``alpha`` (one U(0,1) draw per sample by default) can be given for reproducible tests. ``mask``
    (broadcastable to ``real``, 1 = hole) restricts the gradient norm to the hole, as DeepFill v1
    (Yu et al. 2018, ``gradients_penalty(..., mask)``) does for inpainting. A critic returning several
    scores (e.g. ``GlobalLocalCritic``: global and local) gets the sum of one penalty per score.
    """
    if alpha is None:
        alpha = torch.rand(real.shape[0], *([1] * (real.dim() - 1)), device=real.device, dtype=real.dtype)
    x_hat = (alpha * real.detach() + (1 - alpha) * fake.detach()).requires_grad_(True)
    scores = critic(x_hat)
    scores = [scores] if isinstance(scores, Tensor) else list(scores)
    penalty = x_hat.new_zeros(())
    for score in scores:
        (grad,) = torch.autograd.grad(score.sum(), x_hat, create_graph=True)
        if mask is not None:
            grad = grad * mask
        norm = grad.flatten(1).pow(2).sum(1).add(1e-12).sqrt()
        penalty = penalty + (norm - 1).pow(2).mean()
    return weight * penalty
