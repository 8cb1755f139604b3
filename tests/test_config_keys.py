"""Every config's content (what its checkpoint key hashes) is pinned: a refactoring that changes how configs
are built must not move a key, or every trained checkpoint would be retrained. A change meant to move a key
(a new field, a new value) rewrites the pin file with ``OCCFACE_WRITE_CONFIG_KEYS=1 pytest
tests/test_config_keys.py`` and says so in its commit."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from occface.train import config_hash

PINS = Path(__file__).parent / "data" / "config_keys.json"
PROFILES = ("quick", "default", "full")


def every_config(profile: str) -> dict[str, object]:
    """Each config the project trains from, under a stable name."""
    from occface.baselines import coopnets, csa, cyclegan, deepfill, gfc, pconv
    from occface.eval.recognizers import RecognizerConfig
    from occface.nn.parsing import ParserConfig
    from occface.papers.fsg_gan.train import FSGConfig
    from occface.papers.from_.model import FROMConfig
    from occface.papers.from_.train import FROMRecipe
    from occface.papers.id_gan.train import IDGANTrainConfig
    from occface.papers.oa_gan.train import OAGANConfig
    from occface.papers.rla.train import RLAExperimentConfig
    from occface.studies.benchmark import Budget

    configs = {
        "gfc": gfc.GFCConfig, "csa": csa.CSAConfig, "cyclegan": cyclegan.CycleGANConfig,
        "deepfill": deepfill.DeepFillConfig, "pconv": pconv.PConvConfig, "coopnets": coopnets.CoopNetsConfig,
    }
    out: dict[str, object] = {name: cls.for_profile(profile) for name, cls in configs.items()}
    out |= {"parser": ParserConfig.for_profile(profile), "fsg-gan": FSGConfig.for_profile(profile),
            "from-net": FROMConfig.for_profile(profile), "from-recipe": FROMRecipe.for_profile(profile),
            "oa-gan": OAGANConfig.for_profile(profile), "rla": RLAExperimentConfig.for_profile(profile),
            "benchmark-budget": Budget.for_profile(profile)}
    for identity in ("diversity", "triplet", "centre", "none"):
        out[f"id-gan-{identity}"] = IDGANTrainConfig.for_profile(profile, identity=identity)
    out["id-gan-diversity-paper-scale"] = IDGANTrainConfig.for_profile(profile, paper_scale=True)
    for arch, loss in (("lresnet", "cosface"), ("lresnet", "arcface"), ("lightcnn", "softmax")):
        out[f"recognizer-{arch}-{loss}"] = RecognizerConfig.for_arch(arch, profile, loss=loss)
    return out


def current_keys() -> dict[str, str]:
    return {f"{profile}/{name}": config_hash(cfg) for profile in PROFILES
            for name, cfg in every_config(profile).items()}


def test_every_config_key_is_the_pinned_one():
    keys = current_keys()
    if os.environ.get("OCCFACE_WRITE_CONFIG_KEYS"):
        PINS.write_text(json.dumps(keys, indent=1, sort_keys=True) + "\n")
    pinned = json.loads(PINS.read_text())
    moved = {name: (pinned.get(name), key) for name, key in keys.items() if pinned.get(name) != key}
    assert not moved, ("config keys moved (pinned -> now); every checkpoint under them retrains. If meant, rewrite "
                       f"the pins with OCCFACE_WRITE_CONFIG_KEYS=1: {moved}")


@pytest.mark.parametrize("profile", PROFILES)
def test_a_changed_config_value_moves_its_key(profile):
    import dataclasses

    cfg = every_config(profile)["pconv"]
    assert config_hash(dataclasses.replace(cfg, seed=cfg.seed + 1)) != config_hash(cfg)
