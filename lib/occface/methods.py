"""Every de-occlusion method of the project, in one place: importing this module registers each of them.

One explicit import a module (no names in strings): a sixth paper adds its ``registration`` line here. Papers
and studies ask ``occface.registry`` for a method by name; a paper that compares against another method
imports that method's module itself, so the dependency reads in its code.
"""

from __future__ import annotations

from .baselines import coopnets, csa, cyclegan, deepfill, gfc, methods as simple, pconv  # noqa: F401
from .papers.fsg_gan import registration as fsg_gan  # noqa: F401
from .papers.id_gan import registration as id_gan  # noqa: F401
from .papers.oa_gan import registration as oa_gan  # noqa: F401
from .papers.rla import registration as rla  # noqa: F401
from .registry import (REGISTRY, Inpainter, Method, Restorer, Trained, available, inpainter,  # noqa: F401
                       method, restorer, with_mask)
