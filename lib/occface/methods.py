"""Every de-occlusion method of the project, in one place: importing this module registers each of them.

The baselines are imported one by one below; the papers register theirs when ``occface.papers`` imports each
paper folder (its ``__init__`` imports its ``registration``). No module is found by a name in a string, and
a module that fails to import fails here. Papers and studies ask ``occface.registry`` for a method by name; a
paper that compares against another method imports that method's module itself, so the link reads in its code.
"""

from __future__ import annotations

from . import papers  # noqa: F401  (each paper registers its methods)
from .baselines import coopnets, csa, cyclegan, deepfill, gfc, methods as simple, pconv  # noqa: F401
from .registry import (REGISTRY, Inpainter, Method, Restorer, Trained, available, inpainter,  # noqa: F401
                       method, restorer, with_mask)
