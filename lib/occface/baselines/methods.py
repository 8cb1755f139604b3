"""The registrations: each line names a method, its contract and how to build it at a profile (imports
are deferred so that listing the registry trains and loads nothing)."""

from __future__ import annotations

from ..profiles import Profile
from .registry import register


@register("occluded", "restorer", "no de-occlusion (the occluded face itself)")
def _occluded(profile: Profile):
    return lambda images: images.clone()


@register("pm", "inpainter", "Barnes et al., SIGGRAPH 2009 (ID-GAN's PM)", keeps_known=True)
def _patchmatch(profile: Profile):
    from .patchmatch import PatchMatch

    return PatchMatch()


def _rla(profile: Profile, identity_preserving: bool):
    from ..papers.rla import train

    cfg = train.RLAExperimentConfig.for_profile(profile)
    data = train.training_pairs(cfg)
    model = train.train_rla(cfg, data)
    if identity_preserving:
        model = train.train_ip_rla(cfg, model, data, train.identity_classifier(cfg, data))
    return model.model.restore  # grey faces at RLA's training size, returned as grey-as-RGB at the input size


@register("rla", "restorer", "Zhao et al., TIP 2018")
def _rla_plain(profile: Profile):
    return _rla(profile, identity_preserving=False)


@register("ip-rla", "restorer", "Zhao et al., TIP 2018 (identity-preserving)")
def _ip_rla(profile: Profile):
    return _rla(profile, identity_preserving=True)
