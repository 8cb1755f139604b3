"""The baselines' configs read their per-profile values through one mixin (``occface.baselines.config``).
The values, and so the checkpoint keys, must be exactly those each class produced before the mixin: the
dicts below were computed from the old per-class ``for_profile`` methods (commit 3f09ffb) and hard-coded."""

from __future__ import annotations

import dataclasses
import importlib

import pytest

from occface.baselines.config import ProfileConfig

CLASSES = {"deepfill": "DeepFillConfig", "pconv": "PConvConfig", "csa": "CSAConfig",
           "coopnets": "CoopNetsConfig", "cyclegan": "CycleGANConfig"}

EXPECTED = {
    "deepfill/quick": dict(profile="quick", image_size=32, width=4, critic_width=4, batch=8, steps=150, lr=0.001,
         d_steps=1, gamma=0.9, coarse=1.2, l1=1.2, ae=1.2, gan=0.001, gp=10.0, max_train_images=2000, copies=1,
         seed=0),
    "deepfill/default": dict(profile="default", image_size=64, width=8, critic_width=12, batch=16, steps=1000,
         lr=0.0004, d_steps=2, gamma=0.9, coarse=1.2, l1=1.2, ae=1.2, gan=0.001, gp=10.0, max_train_images=0,
         copies=2, seed=0),
    "deepfill/full": dict(profile="full", image_size=128, width=32, critic_width=64, batch=16, steps=60000,
         lr=0.0001, d_steps=5, gamma=0.9, coarse=1.2, l1=1.2, ae=1.2, gan=0.001, gp=10.0, max_train_images=0,
         copies=2, seed=0),
    "pconv/quick": dict(profile="quick", image_size=32, width=8, batch=16, steps=150, finetune_steps=40, lr=0.002,
         lr_finetune=0.0005, valid=1.0, hole=6.0, perceptual=0.0, style=0.0, tv=0.1, max_train_images=2000,
         copies=1, seed=0),
    "pconv/default": dict(profile="default", image_size=64, width=16, batch=4, steps=250, finetune_steps=60,
         lr=0.001, lr_finetune=0.00025, valid=1.0, hole=6.0, perceptual=0.05, style=120.0, tv=0.1,
         max_train_images=0, copies=2, seed=0),
    "pconv/full": dict(profile="full", image_size=128, width=64, batch=16, steps=60000, finetune_steps=20000,
         lr=0.0002, lr_finetune=5e-05, valid=1.0, hole=6.0, perceptual=0.05, style=120.0, tv=0.1,
         max_train_images=0, copies=2, seed=0),
    "csa/quick": dict(profile="quick", image_size=32, width=8, disc_width=8, batch=8, steps=150, lr=0.001,
         disc_layers=3, l1=100.0, gan=0.2, consistency=0.0, max_train_images=2000, copies=1, seed=0),
    "csa/default": dict(profile="default", image_size=64, width=16, disc_width=16, batch=8, steps=400, lr=0.0005,
         disc_layers=3, l1=100.0, gan=0.2, consistency=1.0, max_train_images=0, copies=2, seed=0),
    "csa/full": dict(profile="full", image_size=128, width=64, disc_width=64, batch=8, steps=60000, lr=0.0002,
         disc_layers=3, l1=100.0, gan=0.2, consistency=1.0, max_train_images=0, copies=2, seed=0),
    "coopnets/quick": dict(profile="quick", image_size=32, gen_width=8, des_width=8, batch=16, steps=150,
         des_lr=0.0005, gen_lr=0.001, des_steps=10, des_delta=0.002, des_sigma=0.016, gen_sigma=0.3, latent=100,
         infer_steps=30, infer_delta=0.1, fill_steps=10, max_train_images=2000, seed=0),
    "coopnets/default": dict(profile="default", image_size=64, gen_width=16, des_width=16, batch=32, steps=1000,
         des_lr=0.0005, gen_lr=0.001, des_steps=10, des_delta=0.002, des_sigma=0.016, gen_sigma=0.3, latent=100,
         infer_steps=100, infer_delta=0.1, fill_steps=10, max_train_images=0, seed=0),
    "coopnets/full": dict(profile="full", image_size=128, gen_width=64, des_width=64, batch=100, steps=60000,
         des_lr=0.001, gen_lr=0.0001, des_steps=10, des_delta=0.002, des_sigma=0.016, gen_sigma=0.3, latent=100,
         infer_steps=100, infer_delta=0.1, fill_steps=10, max_train_images=0, seed=0),
    "cyclegan/quick": dict(profile="quick", image_size=32, width=8, disc_width=8, blocks=2, batch=8, steps=150,
         lr=0.001, disc_layers=3, lam=10.0, identity=0.5, pool=50, max_train_images=2000, seed=0),
    "cyclegan/default": dict(profile="default", image_size=64, width=16, disc_width=16, blocks=4, batch=8,
         steps=1000, lr=0.0005, disc_layers=3, lam=10.0, identity=0.5, pool=50, max_train_images=0, seed=0),
    "cyclegan/full": dict(profile="full", image_size=128, width=64, disc_width=64, blocks=6, batch=1, steps=60000,
         lr=0.0002, disc_layers=3, lam=10.0, identity=0.5, pool=50, max_train_images=0, seed=0),
}


def _config_class(module: str):
    return getattr(importlib.import_module(f"occface.baselines.{module}"), CLASSES[module])


@pytest.mark.parametrize("key", sorted(EXPECTED))
def test_config_values_are_unchanged_by_the_shared_for_profile(key):
    module, profile = key.split("/")
    assert dataclasses.asdict(_config_class(module).for_profile(profile)) == EXPECTED[key]


@pytest.mark.parametrize("module", sorted(CLASSES))
def test_every_baseline_config_uses_the_mixin_and_keeps_per_profile_values_out_of_its_key(module):
    cls = _config_class(module)
    assert issubclass(cls, ProfileConfig) and "for_profile" not in vars(cls)
    assert set(cls.PER_PROFILE) == {"quick", "default", "full"}
    assert "PER_PROFILE" not in {f.name for f in dataclasses.fields(cls)}


def test_for_profile_passes_the_seed_and_names_a_missing_profile():
    from occface.baselines.deepfill import DeepFillConfig
    from occface.profiles import PROFILES

    assert DeepFillConfig.for_profile("quick", seed=3).seed == 3
    odd = dataclasses.replace(PROFILES["quick"], name="tiny")
    with pytest.raises(ValueError, match="DeepFillConfig has no values for profile 'tiny'.*PER_PROFILE"):
        DeepFillConfig.for_profile(odd)
