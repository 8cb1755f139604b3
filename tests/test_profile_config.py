"""Every config is built by one ``ProfileConfig.for_profile``: the profile's shared fields, then the class's
literal table, then overrides; nested configs built the same way. (The values themselves, hence the checkpoint
keys, are pinned in test_config_keys.py.)"""

from __future__ import annotations

import dataclasses

import pytest

from occface.profiles import PROFILES, ProfileConfig


@dataclasses.dataclass(frozen=True)
class Inner(ProfileConfig):
    image_size: int
    width: int = 4
    SHARED = {"image_size": "image_size"}
    PER_PROFILE = {"quick": dict(width=8), "default": {}, "full": dict(width=64)}


@dataclasses.dataclass(frozen=True)
class Outer(ProfileConfig):
    profile: str
    net: Inner
    steps: int
    seed: int = 0
    SHARED = {"profile": "name", "steps": "steps"}
    PER_PROFILE = {"quick": dict(steps=5, net=dict(width=2)), "default": {}, "full": {}}


def test_values_come_from_the_profile_then_the_table_then_the_overrides():
    quick = Outer.for_profile("quick", seed=3, net=dict(image_size=7))
    assert quick == Outer("quick", Inner(7, 2), steps=5, seed=3)  # table's nested dict merged with the override's
    default = Outer.for_profile("default")
    assert default == Outer("default", Inner(PROFILES["default"].image_size, 4), PROFILES["default"].steps)


def test_a_profile_without_an_entry_and_an_unknown_field_are_named():
    odd = dataclasses.replace(PROFILES["quick"], name="tiny")
    with pytest.raises(ValueError, match="Outer has no values for profile.*'tiny'.*Outer.PER_PROFILE"):
        Outer.for_profile(odd)
    with pytest.raises(TypeError, match="Outer has no field.*widht"):
        Outer.for_profile("quick", widht=3)


def test_every_config_class_of_the_library_uses_the_one_mechanism():
    from test_config_keys import every_config

    for name, cfg in every_config("quick").items():
        assert isinstance(cfg, ProfileConfig), name
        # ID-GAN alone translates its variant keywords (identity, paper_scale) before calling the shared one
        assert "for_profile" not in vars(type(cfg)) or name.startswith("id-gan"), name


def test_no_notebook_or_library_function_branches_on_a_profile_name():
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    pattern = re.compile(r"""(\.name\s*==\s*["'](quick|default|full)["']|\[\s*P\.name\s*\]|\.get\(\s*P\.name|"""
                         r"""\[\s*(cfg|self)\.profile\s*\]|["'](quick|default|full)["']\s+if\s)""")
    sources = [*root.glob("lib/occface/**/*.py"), *root.glob("notebooks/src/*.py")]
    found = [f"{path.relative_to(root)}:{n}: {line.strip()}" for path in sources
             for n, line in enumerate(path.read_text().splitlines(), 1) if pattern.search(line)]
    assert not found, "profile-name branches (put the values in a ProfileConfig table):\n" + "\n".join(found)
