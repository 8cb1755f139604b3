"""Verification sweeps over occluder kinds, FROM's regions and scales S (what 02_evaluation runs), and the
table cells of one verification result."""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from ..faces.occlusion import FROM_REGIONS, KINDS, RECTANGLES
from ..results import Cell
from .protocols import verification


def verification_cells(name: str, result: dict, fars: Sequence[float]) -> list[Cell]:
    """Table cells (percent) of one :func:`verification` result: accuracy and EER with their 95 % bootstrap
    intervals, TAR@FAR, occluded area, scored pairs."""
    area = result["occluded_area"]
    (a_lo, a_hi), (e_lo, e_hi) = result["accuracy_ci"], result["eer_ci"]
    return [Cell(name, "accuracy", 100 * result["accuracy"], ci_low=100 * a_lo, ci_high=100 * a_hi),
            Cell(name, "EER", 100 * result["eer"], ci_low=100 * e_lo, ci_high=100 * e_hi),
            *[Cell(name, f"TAR@FAR={f:g}", 100 * result[f"tar@far={f:g}"]) for f in fars],
            Cell(name, "occluded area", None if np.isnan(area) else 100 * area),
            Cell(name, "scored pairs", result["scored_pairs"], unit="pairs")]


def kind_sweep(profile: str, pairs: int, fars: Sequence[float], embed: Callable | None = None) -> dict[str, dict]:
    """Every template kind (semantic placement, test templates) and the ID-GAN blocks (random placement)."""
    out = {}
    for kind in KINDS + RECTANGLES:
        occ = dict(kind=kind, templates="test") if kind in KINDS else dict(kind=kind, placement="random")
        out[kind] = verification(profile, occlusion=occ, embed=embed, max_pairs=pairs, far=fars)
    return out


def region_sweep(profile: str, pairs: int, fars: Sequence[float]) -> dict[str, dict]:
    """FROM's nine regions (its ``generate_occ_lfw.py`` boxes) as black blocks."""
    return {r: verification(profile, occlusion=dict(kind=r, placement="region"), max_pairs=pairs, far=fars)
            for r in FROM_REGIONS}


def scale_sweep(profile: str, pairs: int, fars: Sequence[float], scales: Sequence[float] = (1.0, 2.0, 3.0),
                kind: str = "hand") -> dict[float, dict]:
    """FROM Alg. 1's random placement at scale S (Occ-LFW-S) with one occluder kind."""
    return {s: verification(profile, occlusion=dict(kind=kind, placement="random", scale=s, templates="test"),
                            max_pairs=pairs, far=fars) for s in scales}
