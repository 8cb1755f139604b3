"""Converted weights of the pretrained networks, cached under ``<cache>/pretrained`` (never in git).

One rule for both ports: load the cached state dict with ``torch.load(..., weights_only=True)``; a file that
cannot be read (truncated, foreign, stale keys) is reported by name, moved aside and converted again.
"""

from __future__ import annotations

import os
import time
import warnings
from pathlib import Path
from typing import Callable

import torch
from torch import nn


def load_or_convert(net: nn.Module, path: Path, convert: Callable[[], dict[str, torch.Tensor]], what: str) -> None:
    """Fill ``net`` from the cache at ``path``, or from ``convert()`` (then cached atomically)."""
    if path.exists():
        try:
            net.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
            return
        except Exception as err:  # any failure means: convert again (cheap), never crash on a bad cache
            aside = path.with_name(f"{path.name}.bad-{time.strftime('%Y%m%d-%H%M%S')}")
            path.replace(aside)
            warnings.warn(f"cached {what} weights {path} could not be read ({type(err).__name__}: "
                          f"{str(err)[:200]}); moved aside to {aside}, converting again", stacklevel=3)
    state = convert()
    net.load_state_dict(state)  # strict: every converted name and shape must match the port
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")  # concurrent converters never share one
    torch.save(state, tmp)
    tmp.replace(path)  # atomic: an interrupted save never leaves a half-written cache
