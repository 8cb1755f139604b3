"""Run profiles: one knob set for every notebook.

``quick``   class and tests: about 2 minutes a notebook on 2 CPU cores (nbval runs these).
``default`` a CPU run: minutes a notebook, the tables committed in ``results/default``.
``full``    the papers' resolutions and schedules, for one GPU.

Every config of the project (papers, baselines, recognizers, parser, benchmark, notebook knobs) is a
dataclass built by one mechanism, :class:`ProfileConfig`: ``Config.for_profile(profile, **overrides)`` from the
run profile's shared fields and the class's literal ``{quick, default, full}`` table. A profile is the only
thing a notebook is parameterised by, and no function branches on a profile's name.
"""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import asdict, dataclass
from typing import Any, ClassVar, TypeVar


@dataclass(frozen=True)
class Profile:
    name: str
    image_size: int          # de-occlusion papers (RLA, FSG-GAN, OA-GAN, ID-GAN): square side
    recog_size: tuple[int, int]  # FROM / recognizers: (H, W); the paper uses 112x96
    steps: int               # training iterations for a main model
    finetune_steps: int      # iterations for a variant fine-tuned from a shared checkpoint
    batch: int
    width: int               # base channel width of the conv nets
    eval_pairs: int          # held-out View-2 pairs scored (before the first/second doubling)
    max_train_images: int    # cap on training faces (0 = all training identities)
    tsne_people: int = 5
    tsne_images: int = 20
    # CPU training precision (occface.train.resolve_precision): "bf16" autocast where the CPU has native bf16
    # (else fp32), "fp32" always. quick stays fp32: tests and nbval must reproduce bit for bit on any CPU.
    train_precision: str = "fp32"

    def as_dict(self) -> dict:
        return asdict(self)


PROFILES: dict[str, Profile] = {
    "quick": Profile("quick", image_size=32, recog_size=(56, 48), steps=150, finetune_steps=60,
                     batch=32, width=8, eval_pairs=300, max_train_images=2000),
    "default": Profile("default", image_size=64, recog_size=(56, 48), steps=1500, finetune_steps=500,
                       batch=64, width=16, eval_pairs=1500, max_train_images=0,
                       train_precision="bf16"),
    "full": Profile("full", image_size=128, recog_size=(112, 96), steps=60000, finetune_steps=20000,
                    batch=128, width=64, eval_pairs=3000, max_train_images=0,
                    train_precision="bf16"),
}


def get_profile(name: str | Profile) -> Profile:
    """Look a profile up by name; an unknown name raises ValueError listing the valid ones."""
    if isinstance(name, Profile):
        return name
    try:
        return PROFILES[name]
    except KeyError:
        raise ValueError(
            f"unknown profile {name!r}; valid profiles are: {', '.join(PROFILES)}"
        ) from None


C = TypeVar("C", bound="ProfileConfig")


class ProfileConfig:
    """Mixin for a config dataclass built per run profile. ``Config.for_profile(profile, **overrides)`` takes
    its values from, later winning:

    1. ``SHARED``: field name -> attribute of the run :class:`Profile` (``"name"`` gives the profile's name),
       so a 64-px profile gives every 64-px config its size from one place;
    2. ``PER_PROFILE[profile]``: the class's literal table, one entry per profile;
    3. ``overrides`` (a variant, a seed).

    A field whose type is itself a ``ProfileConfig`` is built with its own ``for_profile``, a dict given for
    it (in the table or the overrides, merged in that order) as its overrides. ``SHARED`` and ``PER_PROFILE``
    are class attributes, not fields, so they are no part of a checkpoint key: the key hashes the values.
    """
    PER_PROFILE: ClassVar[dict[str, dict[str, Any]]] = {}
    SHARED: ClassVar[dict[str, str]] = {}

    @classmethod
    def for_profile(cls: type[C], profile: str | Profile, **overrides: Any) -> C:
        p = get_profile(profile)
        missing = ({p.name} | set(PROFILES)) - set(cls.PER_PROFILE)
        if missing:
            raise ValueError(f"{cls.__name__} has no values for profile(s) {', '.join(map(repr, sorted(missing)))}; "
                             f"give each its entry in {cls.__name__}.PER_PROFILE")
        values = {name: getattr(p, attr) for name, attr in cls.SHARED.items()}
        for source in (cls.PER_PROFILE[p.name], overrides):
            for name, value in source.items():
                both_dicts = isinstance(value, dict) and isinstance(values.get(name), dict)
                values[name] = values[name] | value if both_dicts else value
        hints = typing.get_type_hints(cls)
        for f in dataclasses.fields(cls):
            nested = hints.get(f.name)
            if isinstance(nested, type) and issubclass(nested, ProfileConfig):
                given = values.get(f.name, {})
                if isinstance(given, dict):
                    values[f.name] = nested.for_profile(p, **given)
        unknown = set(values) - {f.name for f in dataclasses.fields(cls)}
        if unknown:
            raise TypeError(f"{cls.__name__} has no field(s) {', '.join(sorted(unknown))}; its fields are "
                            f"{', '.join(f.name for f in dataclasses.fields(cls))}")
        return cls(**values)


# the baselines take their size, data cap and (unless their table says otherwise) steps from the run profile
BASELINE_SHARED = {"profile": "name", "image_size": "image_size", "max_train_images": "max_train_images",
                   "steps": "steps"}
