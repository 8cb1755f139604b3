"""The sizes the shared notebooks (01 faces and occlusions, 02 evaluation) run at, per profile. A paper's
notebook finds its own in its ``tables.Knobs``; every one is a ``ProfileConfig`` like the trained models'
configs, so no notebook branches on a profile's name."""

from __future__ import annotations

from dataclasses import dataclass

from .profiles import ProfileConfig


@dataclass(frozen=True)
class RunKnobs(ProfileConfig):
    """The runner: the longest a single cell may run (seconds). Generous (the slowest cells at ``default``
    train for ~1 h on a shared CPU) but finite, so a lost kernel reply cannot hang a run and its lock for ever."""
    cell_timeout_s: int
    PER_PROFILE = {"quick": dict(cell_timeout_s=2 * 3600), "default": dict(cell_timeout_s=12 * 3600),
                   "full": dict(cell_timeout_s=72 * 3600)}


@dataclass(frozen=True)
class FacesKnobs(ProfileConfig):
    """01: the side of the gallery faces and how many random placements measure the area per FROM scale."""
    gallery_size: int
    area_samples: int
    PER_PROFILE = {"quick": dict(gallery_size=64, area_samples=512),
                   "default": dict(gallery_size=128, area_samples=4096),
                   "full": dict(gallery_size=128, area_samples=4096)}


@dataclass(frozen=True)
class EvaluationKnobs(ProfileConfig):
    """02: View-2 pairs for the clean reference and each sweep row, images per t-SNE person, faces in the
    torch-vs-original agreement check."""
    clean: int
    sweep: int
    tsne: int
    check: int
    PER_PROFILE = {"quick": dict(clean=60, sweep=8, tsne=10, check=40),
                   "default": dict(clean=3000, sweep=300, tsne=20, check=500),
                   "full": dict(clean=3000, sweep=3000, tsne=20, check=1000)}
