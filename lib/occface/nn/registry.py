"""Networks by name, as pix2pix's ``define_D(netD=...)``: ``build("patchgan", in_channels=3)``.

Entries are "module:attribute" strings inside ``occface.nn`` (imported on first use) or callables added
with ``register``, so a paper's generator can join the table from its own module.
"""

from __future__ import annotations

import importlib
from typing import Any, Callable

_NETWORKS: dict[str, str | Callable[..., Any]] = {
    "dcgan": "discriminators:DCGANDiscriminator",
    "patchgan": "discriminators:PatchGAN",
    "global_local": "discriminators:GlobalLocalCritic",
    "multi_rf": "discriminators:MultiReceptiveFieldDiscriminator",
    "residual": "blocks:ResidualBlock",
    "hdc": "blocks:HybridDilatedBlock",
    "gated_conv": "blocks:GatedConv2d",
    "partial_conv": "blocks:PartialConv2d",
    "contextual_attention": "blocks:ContextualAttention",
}


def available() -> list[str]:
    """The registered names, sorted."""
    return sorted(_NETWORKS)


def register(name: str, factory: Callable[..., Any]) -> None:
    """Add ``factory`` (a class or function) under ``name``; re-registering a name replaces it."""
    _NETWORKS[name] = factory


def build(name: str, **kwargs: Any) -> Any:
    """Instantiate the network registered as ``name`` with ``kwargs``; unknown names raise ValueError."""
    if name not in _NETWORKS:
        raise ValueError(f"unknown network {name!r}; valid names: {', '.join(available())}")
    factory = _NETWORKS[name]
    if isinstance(factory, str):
        module, attr = factory.split(":")
        factory = getattr(importlib.import_module(f"{__package__}.{module}"), attr)
    return factory(**kwargs)
