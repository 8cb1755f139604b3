"""FSG-GAN in the method registry: the paper's losses and the official code's as released (imports are
deferred, so listing the registry trains and loads nothing)."""

from __future__ import annotations

from ...registry import register
from ...profiles import Profile


def build(profile: Profile, **overrides):
    """Train (or load) FSG-GAN at ``profile`` with config ``overrides``; its Restorer ([0,1] in and out)."""
    from . import train

    return train.train_fsg_gan(train.FSGConfig.for_profile(profile, **overrides)).model.restore


@register("fsg-gan", "restorer", "Cheung, Li, Zou, ICMR 2021")
def _fsg_gan(profile: Profile):
    return build(profile)


@register("fsg-gan-official", "restorer", "Cheung, Li, Zou, ICMR 2021 (official code's losses, as released)")
def _fsg_gan_official(profile: Profile):
    return build(profile, official_losses=True)
