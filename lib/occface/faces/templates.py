"""Occluder templates: the RGBA images of ``$OCCFACE_DATA/occluders`` (``index.csv``), each kind split once
(seeded, stable) into a training and an unseen-at-test half, and pre-resized into premultiplied canvases."""

from __future__ import annotations

import csv
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from ..paths import DataNotFoundError, data_root

__all__ = ["KINDS", "FOLDERS", "template_names", "template_bank", "occluder_root"]

KINDS = ("sunglasses", "eyeglasses", "mouth_mask", "hand", "eye_mask", "scarf", "phone", "book", "cup")
FOLDERS = {k: k for k in KINDS} | {"eye_mask": "eye_mask_substitute"}  # no real eye-mask image exists


def occluder_root(root: str | Path | None) -> Path:
    if root is not None:
        base = Path(root).expanduser()
    else:
        try:
            base = data_root(required=("occluders",))
        except DataNotFoundError as err:
            raise ValueError(f"occluder templates not found: {err}") from None
    folder = base / "occluders"
    if not (folder / "index.csv").is_file():
        raise ValueError(f"{folder}/index.csv is missing; point OCCFACE_DATA (or root=) at the data folder "
                         "holding occluders/ (see its README.md), or run `make data`")
    return folder


@lru_cache(maxsize=None)
def _index(folder: Path) -> dict[str, list[str]]:
    with open(folder / "index.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    out: dict[str, list[str]] = {}
    for kind in KINDS:
        out[kind] = sorted(r["path"] for r in rows if r["type"] == FOLDERS[kind])
    return out


def template_names(kind: str, templates: str = "all", root: str | Path | None = None) -> list[str]:
    """Template files of ``kind`` in ``templates`` ("train" | "test" | "all"): a fixed seeded half each
    (train gets the extra one of an odd count)."""
    folder = occluder_root(root)
    paths = _index(folder)[kind]
    if not paths:
        raise ValueError(f"no {kind} templates listed in {folder}/index.csv")
    order = np.random.default_rng(20240601).permutation(len(paths))  # fixed: the split never moves
    half = (len(paths) + 1) // 2
    pick = {"train": order[:half], "test": order[half:], "all": np.arange(len(paths))}[templates]
    if len(pick) == 0:  # a single template: test falls back to it rather than to nothing
        pick = order[:1]
    return [paths[i] for i in sorted(pick)]


@lru_cache(maxsize=64)
def template_bank(folder: Path, kind: str, templates: str, side: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Templates of one kind pre-resized into (T,4,side,side) premultiplied RGBA canvases (alpha-cropped,
    longer side = side, centred) and their (T,2) extents (w, h) as fractions of the canvas."""
    canvases, extents = [], []
    for rel in template_names(kind, templates, folder.parent):
        with Image.open(folder / rel) as im:
            im = im.convert("RGBA")
            bbox = im.getchannel("A").point(lambda a: 255 if a > 127 else 0).getbbox() or (0, 0, *im.size)
            im = im.crop(bbox)
        w, h = im.size
        f = side / max(w, h)
        tw, th = max(1, round(w * f)), max(1, round(h * f))
        im = im.resize((tw, th), Image.Resampling.LANCZOS)  # Pillow resizes RGBA premultiplied
        canvas = Image.new("RGBA", (side, side), (0, 0, 0, 0))
        canvas.paste(im, ((side - tw) // 2, (side - th) // 2))
        arr = torch.from_numpy(np.asarray(canvas, dtype=np.float32) / 255.0).permute(2, 0, 1)
        arr[:3] *= arr[3:]  # premultiply: bilinear sampling then never bleeds transparent colour
        canvases.append(arr)
        # anchor: the row with the most opaque mass (the lenses of glasses drawn with temple arms above)
        rows = np.convolve((np.asarray(im.getchannel("A")) > 127).sum(1), np.ones(5) / 5, mode="same")
        extents.append((tw / side, th / side, (int(rows.argmax()) + 0.5) / th))
    return torch.stack(canvases).contiguous(), torch.tensor(extents, dtype=torch.float32)
