"""Generic inpainting holes: free-form strokes and rectangles, with no occluder template anywhere.

What an off-the-shelf inpainter is trained on (DeepFill v1 trained on rectangles, its v2 on free-form
strokes: Yu et al., ICCV 2019, Sec. 3.3 "free-form mask generation"): FSG-GAN compares against the released
DeepFill weights, trained off-domain, then handed the occluder's mask at test. These masks stand in for
that training distribution: nothing of the occluder templates (``faces.templates``) is read.

- :func:`free_form_masks`: polylines of random vertices, angles and brush widths, drawn as thick strokes;
- :func:`rectangle_masks`: one axis-aligned box per image, aspect ratio 1:2 to 2:1;
- :func:`generic_masks`: half of each, every mask covering ``area`` (low, high) of the image.

Masks are (N,1,H,W) float32, 1 over the hole; each depends only on (seed, image index).
"""

from __future__ import annotations

import math

import numpy as np
import torch

__all__ = ["GENERIC_AREA", "free_form_masks", "rectangle_masks", "generic_masks", "hole_pairs"]

GENERIC_AREA = (0.1, 0.4)  # fraction of the image a generic hole covers (DeepFill v2's masks: ~10-40 %)


def _check(n: int, size: int, area: tuple[float, float]) -> None:
    if n < 0 or size < 8:
        raise ValueError(f"need n >= 0 masks of size >= 8 px, got n={n}, size={size}")
    low, high = area
    if not 0 < low < high < 1:
        raise ValueError(f"area must be (low, high) with 0 < low < high < 1 (fractions of the image), got {area}")


def _stroke(size: int, rng: np.random.Generator) -> torch.Tensor:
    """One polyline of 2-6 segments with a brush 1/20 to 1/8 of the image wide, as a (size, size) bool map."""
    yy, xx = torch.meshgrid(torch.arange(size, dtype=torch.float32) + 0.5,
                            torch.arange(size, dtype=torch.float32) + 0.5, indexing="ij")
    width = rng.uniform(size / 20, size / 8)
    x, y = rng.uniform(0, size, 2)
    angle = rng.uniform(0, 2 * math.pi)
    out = torch.zeros(size, size, dtype=torch.bool)
    for _ in range(rng.integers(2, 7)):
        angle += rng.uniform(-math.pi / 3, math.pi / 3)
        length = rng.uniform(size / 8, size / 3)
        x1 = float(np.clip(x + length * math.cos(angle), 0, size))
        y1 = float(np.clip(y + length * math.sin(angle), 0, size))
        dx, dy = x1 - x, y1 - y
        t = (((xx - x) * dx + (yy - y) * dy) / max(dx * dx + dy * dy, 1e-6)).clamp(0, 1)
        out |= (xx - x - t * dx) ** 2 + (yy - y - t * dy) ** 2 <= (width / 2) ** 2
        x, y = x1, y1
    return out


def _free_form(size: int, rng: np.random.Generator, area: tuple[float, float], tries: int = 60) -> torch.Tensor:
    """Strokes added until the hole reaches a target drawn in ``area``; a stroke that would push it past
    ``area[1]`` is skipped (and another drawn)."""
    target = rng.uniform(*area)
    hole = torch.zeros(size, size, dtype=torch.bool)
    for _ in range(tries):
        grown = hole | _stroke(size, rng)
        if grown.float().mean() <= area[1]:
            hole = grown
        if hole.float().mean() >= target:
            break
    if hole.float().mean() < area[0]:  # rare: strokes kept overshooting; a box of the target area instead
        return _rectangle(size, rng, (target, target + 1e-9))
    return hole


def _rectangle(size: int, rng: np.random.Generator, area: tuple[float, float]) -> torch.Tensor:
    """One box of area in ``area`` (rounded to whole pixels, kept inside), aspect ratio 1:2 to 2:1."""
    target = rng.uniform(*area) * size * size
    aspect = math.exp(rng.uniform(math.log(0.5), math.log(2.0)))
    h = int(np.clip(round(math.sqrt(target * aspect)), 1, size))
    w = int(np.clip(round(target / h), 1, size))
    y0, x0 = rng.integers(0, size - h + 1), rng.integers(0, size - w + 1)
    out = torch.zeros(size, size, dtype=torch.bool)
    out[y0:y0 + h, x0:x0 + w] = True
    return out


def _masks(n: int, size: int, seed: int, area: tuple[float, float], draw) -> torch.Tensor:
    _check(n, size, area)
    out = torch.zeros(n, 1, size, size)
    for i in range(n):
        out[i, 0] = draw(size, np.random.default_rng([seed, i]), area).float()
    return out


def free_form_masks(n: int, size: int, seed: int, area: tuple[float, float] = GENERIC_AREA) -> torch.Tensor:
    """``n`` free-form stroke holes (N,1,size,size), each covering ``area`` of the image."""
    return _masks(n, size, seed, area, _free_form)


def rectangle_masks(n: int, size: int, seed: int, area: tuple[float, float] = GENERIC_AREA) -> torch.Tensor:
    """``n`` rectangular holes (N,1,size,size), each covering ``area`` of the image (up to pixel rounding)."""
    return _masks(n, size, seed, area, _rectangle)


def generic_masks(n: int, size: int, seed: int, area: tuple[float, float] = GENERIC_AREA) -> torch.Tensor:
    """``n`` holes, free-form strokes for even indices and rectangles for odd ones."""
    def draw(s: int, rng: np.random.Generator, a: tuple[float, float]) -> torch.Tensor:
        return (_free_form if rng.integers(2) == 0 else _rectangle)(s, rng, a)
    return _masks(n, size, seed, area, draw)


def hole_pairs(clean: torch.Tensor, seed: int, area: tuple[float, float] = GENERIC_AREA
               ) -> tuple[torch.Tensor, torch.Tensor]:
    """(holed faces, masks): ``clean`` faces (N,C,S,S) with a generic hole each, zero inside the hole (the
    inpainter never sees what is under it), unchanged outside."""
    n, _, h, w = clean.shape
    if h != w:
        raise ValueError(f"generic holes are drawn on square faces, got {h}x{w}")
    mask = generic_masks(n, h, seed, area)
    return clean * (1 - mask), mask
