"""The numbers printed in FROM's paper (TPAMI version), by table, row and column as printed."""

from __future__ import annotations

from typing import Sequence

import numpy as np

THRESHOLDS = tuple(round(t, 2) for t in np.arange(0.30, 0.601, 0.05))  # Table 2's binarization thresholds


def _grid(cols: Sequence[str], rows: dict[str, Sequence[float]]) -> dict[str, dict[str, float]]:
    return {r: dict(zip(cols, vals)) for r, vals in rows.items()}


_MF1 = ("MF1", "Occ-MF1-1.0", "Occ-MF1-1.5", "Occ-MF1-2.0", "Avg")
PAPER: dict[str, dict[str, dict[str, float]]] = {
    "table2": _grid(("No-Binarization",) + tuple(f"{t:.2f}" for t in THRESHOLDS), {
        "LFW": (99.38, 99.38, 99.33, 99.42, 99.30, 99.30, 99.07, 96.62),
        "Occ-LFW-2.0": (94.70, 94.17, 94.40, 94.35, 94.40, 93.83, 92.78, 87.32)}),
    "table3": _grid(_MF1, {"K0": (73.64, 32.00, 14.62, 7.70, 18.11), "K3": (74.04, 59.64, 41.72, 30.07, 43.81),
                           "K4": (74.22, 60.31, 42.30, 30.49, 44.37), "K5": (75.27, 60.84, 42.67, 30.96, 44.83),
                           "K6": (74.65, 60.62, 42.96, 31.15, 44.91)}),
    "table4": _grid(_MF1, {"λ0": (74.17, 59.31, 41.38, 29.74, 43.48), "λ0.5": (74.88, 60.61, 43.14, 31.26, 45.00),
                           "λ1.0": (75.27, 60.84, 42.67, 30.96, 44.83)}),
    "table5": _grid(("MF1", "Occ-MF1-AVG", "LFW", "Occ-LFW-2.0"), {
        "Baseline": (73.64, 60.02, 99.38, 82.05), "Baseline-Aug": (72.50, 67.91, 99.10, 94.10),
        "Baseline-MD": (74.17, 68.19, 99.33, 94.42), "FROM": (75.27, 69.85, 99.38, 94.70)}),
    "table6": _grid(("left", "right", "upper", "lower", "left eye", "right eye", "eyes", "nose", "mouth", "avg"), {
        "Baseline": (61.66, 62.54, 49.50, 57.60, 63.85, 66.63, 51.39, 56.67, 70.31, 60.02),
        "Baseline-Aug": (67.30, 68.94, 61.72, 68.44, 70.20, 70.96, 64.74, 67.88, 71.04, 67.91),
        "Baseline-MD": (67.66, 69.90, 59.02, 69.86, 70.62, 72.20, 63.30, 68.55, 72.58, 68.19),
        "FROM": (68.98, 70.60, 61.37, 69.72, 73.51, 74.09, 65.40, 70.99, 73.99, 69.85)}),
    "table7": _grid(_MF1, {"FC": (74.97, 59.75, 42.13, 30.26, 44.05), "2D": (74.52, 60.56, 42.36, 30.13, 44.35),
                           "3D": (75.27, 60.84, 42.67, 30.96, 44.83)}),
    "table8": _grid(("LFW", "Occ-LFW-1.0", "Occ-LFW-2.0", "Occ-LFW-3.0"), {
        "FROM": (98.63, 96.17, 76.53, 70.23), "REG0.1": (98.33, 94.6, 74.93, 66.57),
        "REG0.2": (79.33, 70.33, 47.40, 30.50), "REG0.5": (45.10, 41.87, 22.77, 17.03)}),
    "fig8": {"FROM": {"Occ-LFW-2.0": 65.03}, "Baseline-Aug": {"Occ-LFW-2.0": 50.87}},
}
