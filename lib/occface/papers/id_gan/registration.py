"""ID-GAN and its Sec. IV ablations in the method registry (``occface/registry.py``): inpainters that keep
the known pixels (the output is the input outside the hole). Imports are deferred: listing trains nothing."""

from __future__ import annotations

from ...registry import register
from ...profiles import Profile


def _build(profile: Profile, identity: str):
    from .train import IDGANTrainConfig, train_id_gan

    return train_id_gan(IDGANTrainConfig.for_profile(profile, identity=identity)).model.inpaint


@register("id-gan", "inpainter", "Ge et al., TCSVT", keeps_known=True)
def _id_gan(profile: Profile):
    """Our-wID: the identity-diversity loss of Eq. 6."""
    return _build(profile, "diversity")


@register("id-gan-woid", "inpainter", "Ge et al., TCSVT (Our-w/oID)", keeps_known=True)
def _id_gan_woid(profile: Profile):
    """Our-w/oID: no recognition loss."""
    return _build(profile, "none")


@register("id-gan-tri", "inpainter", "Ge et al., TCSVT (Our-tri)", keeps_known=True)
def _id_gan_tri(profile: Profile):
    """Our-tri: a triplet loss on inpainted anchor / positive / negative in place of Eq. 6."""
    return _build(profile, "triplet")


@register("id-gan-cent", "inpainter", "Ge et al., TCSVT (Our-cent)", keeps_known=True)
def _id_gan_cent(profile: Profile):
    """Our-cent: an l2 loss to the identity centre in place of Eq. 6."""
    return _build(profile, "centre")
