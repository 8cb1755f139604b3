"""One ``for_profile`` for every baseline's config: a class lists only what differs per run profile.

    @dataclass(frozen=True)
    class DeepFillConfig(ProfileConfig):
        profile: str
        image_size: int
        ...
        PER_PROFILE = {"quick": dict(width=4, ...), "default": dict(...), "full": dict(...)}

``DeepFillConfig.for_profile("quick")`` takes ``profile``, ``image_size``, ``max_train_images`` and ``steps``
from the run profile (``occface.profiles``), then the class's ``PER_PROFILE[profile]`` values, which win (a
smaller ``steps``, say). ``PER_PROFILE`` is a class attribute, not a field, so it is not part of the config's
``asdict`` and of its checkpoint key.
"""

from __future__ import annotations

from typing import ClassVar, TypeVar

from ..profiles import Profile, get_profile

C = TypeVar("C", bound="ProfileConfig")


class ProfileConfig:
    """Mixin for a frozen dataclass whose first two fields are ``profile`` and ``image_size`` and which has
    ``steps``, ``max_train_images`` and ``seed`` fields."""
    PER_PROFILE: ClassVar[dict[str, dict]] = {}

    @classmethod
    def for_profile(cls: type[C], profile: str | Profile, seed: int = 0) -> C:
        p = get_profile(profile)
        if p.name not in cls.PER_PROFILE:
            raise ValueError(f"{cls.__name__} has no values for profile {p.name!r}; add them to "
                             f"{cls.__name__}.PER_PROFILE (it has {', '.join(cls.PER_PROFILE) or 'none'})")
        return cls(p.name, p.image_size, max_train_images=p.max_train_images, seed=seed,
                   **{"steps": p.steps} | cls.PER_PROFILE[p.name])
