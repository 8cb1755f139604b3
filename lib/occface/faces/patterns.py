"""FROM's proximate occlusion patterns (Sec. 3.4): every rectangle of adjacent blocks on a K x K grid, and
the label of an occluded box (the pattern with the largest IoU)."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import torch

__all__ = ["proximate_patterns", "pattern_labels", "grid_edges"]


def grid_edges(n: int, k: int) -> np.ndarray:
    return np.linspace(0, n, k + 1, endpoint=True).astype(int)  # as the official get_grids


@lru_cache(maxsize=16)
def _pattern_cells(k: int) -> np.ndarray:
    """(P-1, 4) block rectangles (r0, c0, r1, c1), r1/c1 exclusive, in the official enumeration order:
    start vertex row-major, then end vertex row-major."""
    verts = [(r, c) for r in range(k + 1) for c in range(k + 1)]
    return np.array([(s[0], s[1], e[0], e[1]) for s in verts for e in verts if e[0] > s[0] and e[1] > s[1]],
                    dtype=np.int64)


MAX_K = 16  # 18,497 patterns of 16 x 16 cells: 4.7 MB


def proximate_patterns(K: int) -> torch.Tensor:
    """FROM Sec. 3.4.1: all rectangles of adjacent m x n blocks on a K x K grid, index 0 = clean.
    Returns (P,K,K) bool with P = (K(K+1)/2)^2 + 1 (101 for K=4, 226 for K=5). K is at most ``MAX_K``: the
    patterns grow as K^6 bytes (K=100 would ask for 255 GB)."""
    if isinstance(K, bool) or not isinstance(K, (int, np.integer)) or not 1 <= K <= MAX_K:
        raise ValueError(f"K must be an integer from 1 to {MAX_K} (FROM uses 4 or 5), got {K!r}")
    cells = _pattern_cells(int(K))
    out = torch.zeros(len(cells) + 1, K, K, dtype=torch.bool)
    for i, (r0, c0, r1, c1) in enumerate(cells, start=1):  # loop over patterns (<= a few hundred), once
        out[i, r0:r1, c0:c1] = True
    return out


def pattern_labels(box: torch.Tensor, size: tuple[int, int], K: int) -> torch.Tensor:
    """FROM Sec. 3.4.2: index of the proximate pattern with the largest IoU with each box (N,4); boxes of
    zero area get 0 (clean). The grid follows the official code's integer block edges."""
    proximate_patterns(K)  # validates K
    h, w = size
    cells = torch.from_numpy(_pattern_cells(int(K)))
    ys, xs = torch.from_numpy(grid_edges(h, K)).float(), torch.from_numpy(grid_edges(w, K)).float()
    rect = torch.stack([xs[cells[:, 1]], ys[cells[:, 0]], xs[cells[:, 3]], ys[cells[:, 2]]], 1)  # (P-1,4)
    box = box.float()
    iw = (torch.minimum(box[:, None, 2], rect[None, :, 2]) - torch.maximum(box[:, None, 0], rect[None, :, 0])).clamp_min(0)
    ih = (torch.minimum(box[:, None, 3], rect[None, :, 3]) - torch.maximum(box[:, None, 1], rect[None, :, 1])).clamp_min(0)
    inter = iw * ih
    area_b = ((box[:, 2] - box[:, 0]) * (box[:, 3] - box[:, 1])).clamp_min(0)
    area_r = (rect[:, 2] - rect[:, 0]) * (rect[:, 3] - rect[:, 1])
    iou = inter / (area_b[:, None] + area_r[None] - inter + 1e-10)
    best = iou.argmax(1) + 1
    return torch.where((area_b > 0) & (iou.max(1).values > 0), best, torch.zeros_like(best))
