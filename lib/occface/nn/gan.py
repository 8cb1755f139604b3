"""Alternating D / G updates, so a paper's ``step_fn`` says only what its losses are (pix2pix's
``optimize_parameters`` split into two calls).

    steps = GANSteps(disc=trainer.modules["disc"], opt_d=trainer.optimizers["d"],
                     opt_g=trainer.optimizers["g"], backward=trainer)
    fake = G(x)
    loss_d = steps.d_step(lambda: crit.d_loss(D(real), D(fake.detach())))
    loss_g = steps.g_step(lambda: l1(fake, real) + crit.g_loss(D(fake)))

Each step: zero_grad -> loss_fn() -> backward (``occface.train.Trainer.backward``, so Accelerate's mixed
precision and data parallelism apply; plain ``loss.backward()`` when none is given) -> optional gradient
clipping -> optimizer.step; it returns the loss as a float. ``g_step`` freezes the discriminators while G's
loss is built and backpropagated, so no gradient accumulates in D, and unfreezes them afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterable

import torch
from torch import Tensor, nn

Backward = Callable[[Tensor], None]


def set_requires_grad(modules: nn.Module | Iterable[nn.Module] | None, flag: bool) -> None:
    """Set ``requires_grad`` on every parameter of one module or several (pix2pix's helper)."""
    if modules is None:
        return
    for module in [modules] if isinstance(modules, nn.Module) else modules:
        for p in module.parameters():
            p.requires_grad_(flag)


def _backward_fn(backward: Any) -> Backward:
    """A Trainer (anything with ``.backward(loss)``), a callable, or None for ``loss.backward()``."""
    if backward is None:
        return Tensor.backward
    if callable(backward):
        return backward
    if hasattr(backward, "backward"):
        return backward.backward
    raise TypeError(f"backward must be a callable, an object with .backward(loss) or None, not {backward!r}")


def _params(optimizer: torch.optim.Optimizer) -> list[Tensor]:
    return [p for group in optimizer.param_groups for p in group["params"]]


def optimizer_step(loss_fn: Callable[[], Tensor], optimizer: torch.optim.Optimizer, backward: Any = None,
                   clip: float | None = None) -> float:
    """zero_grad, loss = loss_fn(), backward(loss), clip the optimizer's parameters' grad norm, step."""
    optimizer.zero_grad(set_to_none=True)
    loss = loss_fn()
    _backward_fn(backward)(loss)
    if clip is not None:
        torch.nn.utils.clip_grad_norm_(_params(optimizer), clip)
    optimizer.step()
    return loss.item()


def d_step(d_loss_fn: Callable[[], Tensor], optimizer: torch.optim.Optimizer, backward: Any = None, *,
           disc: nn.Module | Iterable[nn.Module] | None = None, clip: float | None = None) -> float:
    """One discriminator update; ``disc`` (if given) is made trainable first (undoing a ``g_step``)."""
    set_requires_grad(disc, True)
    return optimizer_step(d_loss_fn, optimizer, backward, clip)


def g_step(g_loss_fn: Callable[[], Tensor], optimizer: torch.optim.Optimizer, backward: Any = None, *,
           disc: nn.Module | Iterable[nn.Module] | None = None, clip: float | None = None) -> float:
    """One generator update with ``disc`` frozen during it (gradients reach G through D, not D itself)."""
    set_requires_grad(disc, False)
    try:
        return optimizer_step(g_loss_fn, optimizer, backward, clip)
    finally:
        set_requires_grad(disc, True)


@dataclass
class GANSteps:
    """The D and G optimizers, the discriminator(s) and the backward of one run, bound once."""

    disc: nn.Module | list[nn.Module]
    opt_d: torch.optim.Optimizer
    opt_g: torch.optim.Optimizer
    backward: Any = None
    clip_d: float | None = None
    clip_g: float | None = None

    def d_step(self, d_loss_fn: Callable[[], Tensor]) -> float:
        return d_step(d_loss_fn, self.opt_d, self.backward, disc=self.disc, clip=self.clip_d)

    def g_step(self, g_loss_fn: Callable[[], Tensor]) -> float:
        return g_step(g_loss_fn, self.opt_g, self.backward, disc=self.disc, clip=self.clip_g)
