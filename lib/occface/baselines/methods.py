"""Registrations of the methods that need no file of their own (imports are deferred so that listing the
registry trains and loads nothing); each paper registers itself in ``papers/<paper>/registration.py``."""

from __future__ import annotations

from ..profiles import Profile
from ..registry import register


@register("occluded", "restorer", "no de-occlusion (the occluded face itself)", any_size=True)
def _occluded(profile: Profile):
    return lambda images: images.clone()


@register("pm", "inpainter", "Barnes et al., SIGGRAPH 2009 (ID-GAN's PM)", keeps_known=True, any_size=True)
def _patchmatch(profile: Profile):
    from .patchmatch import PatchMatch

    return PatchMatch()
