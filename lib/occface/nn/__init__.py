"""occface.nn: the GAN layer shared by the papers (FSG-GAN, OA-GAN, ID-GAN) and the inpainting baselines.

Modules (import the one you need; nothing heavy is imported by this package itself):
    adversarial     -- ``GANLoss(mode)`` (bce / lsgan / hinge / wgan / ragan) and WGAN-GP ``gradient_penalty``
    losses          -- masked and spatially discounted L1/L2, total variation, Gram / perceptual+style, identity
    blocks          -- conv-norm-act, residual, hybrid dilated (HDC), gated conv, partial conv, contextual attention
    discriminators  -- DCGAN, PatchGAN (70x70), global+local WGAN critics, multi-receptive-field (FSG-GAN)
    gan             -- ``set_requires_grad``, ``d_step`` / ``g_step`` / ``GANSteps`` for alternating updates
    registry        -- ``build(name, **kwargs)``: networks by name, as in pix2pix's ``define_D``
    backbones       -- recognition backbones (LResNet-E-IR, ...)
    margins         -- margin softmax heads (SphereFace / ArcFace / CosFace)

Conventions: masks are 1 over the hole (0 = known pixel), except ``PartialConv2d``, which takes NVIDIA's
*valid* mask (1 = known). Discriminators return raw logits / critic scores of shape [N] (PatchGAN: [N,1,h,w]).

``occface.nn.build`` and the public names of the submodules are also reachable from here, loaded lazily.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "build": "registry", "register": "registry", "available": "registry",
    "GANLoss": "adversarial", "gradient_penalty": "adversarial",
    "set_requires_grad": "gan", "d_step": "gan", "g_step": "gan", "GANSteps": "gan",
}


def __getattr__(name: str) -> Any:  # PEP 562: import a submodule only when one of its names is asked for
    if name in _LAZY:
        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
