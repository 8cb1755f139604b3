"""OA-GAN in the method registry: a restorer (it predicts its own mask); the build trains or loads the model
at the profile (imports deferred so that listing the registry trains and loads nothing)."""

from __future__ import annotations

from ...registry import register
from ...profiles import Profile


def trained(profile: Profile):
    """The trained generator at ``profile``: ``.restore`` (Restorer) and ``.predict_mask`` (1 = hole), the
    mask Table III feeds to the mask-requiring methods through ``registry.with_mask``."""
    from .train import OAGANConfig, train_oa_gan

    return train_oa_gan(OAGANConfig.for_profile(profile)).model


@register("oa-gan", "restorer", "Cai, Han et al., TIFS 2020")
def _oa_gan(profile: Profile):
    return trained(profile).restore
