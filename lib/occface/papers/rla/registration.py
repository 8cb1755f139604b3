"""RLA and IP-RLA in the method registry, so other papers' tables and the benchmark call them by name."""

from __future__ import annotations

from ...registry import register
from ...profiles import Profile


def _rla(profile: Profile, identity_preserving: bool, variant: str | None = None):
    from . import train

    cfg = train.RLAExperimentConfig.for_profile(profile)
    if variant is not None:
        from .diagnosis import variant_config

        cfg = variant_config(cfg, variant)  # a name of diagnosis.VARIANTS
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


@register("rla-supervised", "restorer", "Zhao et al., TIP 2018, mask-supervised detector (beyond the paper)")
def _rla_supervised(profile: Profile):
    """RLA whose occlusion detector is also fitted to the true masks (``diagnosis.VARIANTS``), beside the
    paper's unsupervised one (Eq. 14 alone), so the two detectors can be compared."""
    from .diagnosis import SUPERVISED

    return _rla(profile, identity_preserving=False, variant=SUPERVISED)
