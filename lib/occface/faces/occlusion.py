"""Synthetic occlusions, batched and vectorised in torch.

Kinds
    ``KINDS``: the nine occluder types of RLA (Sec. 4.1) and FROM (Sec. 4.1, after PDSN), pasted from RGBA
    templates in ``$OCCFACE_DATA/occluders`` (``index.csv``); each kind's templates are split (seeded, stable)
    into a training and an unseen-at-test half (RLA: "half are used for training ... the rest for testing";
    FSG-GAN's "new occlusions").
    ``GEOMETRIC``: template-free rectangles: ``block_black|white|noise`` (ID-GAN's 48x48 block at 128x128),
    FROM's nine regions ``from_<region>`` (boxes of the official ``get_occ_boxs_v2``) and RLA's categories
    (Sec. 4.4, Fig. 8: ``rla_quarter``, ``rla_left_half``, ``rla_right_half``, ``rla_upper``, ``rla_lower``).

Placements
    ``semantic``: anchored on the five landmarks (glasses on the eye line scaled to the inter-ocular
    distance, masks and scarves over nose, mouth and chin; RLA, OA-GAN). ``random``: FROM Alg. 1, the
    template at its natural size times S, centred on any pixel, spilling over the border. ``region``: the
    template stretched over one of FROM's nine regions.

Every image gets one similarity (scale, rotation, translation) into one ``affine_grid``/``grid_sample``
call per template (no Python loop per image); masks are the pasted alpha thresholded at 0.5, and the
composite uses that same hard mask, so ``mask == 1`` exactly where template pixels were written.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from .align import template
from .paths import DataNotFoundError, data_root

__all__ = ["KINDS", "GEOMETRIC", "PLACEMENTS", "FROM_REGIONS", "RLA_CATEGORIES", "Occlusion", "occlude",
           "proximate_patterns", "pattern_labels", "template_names", "region_boxes"]

KINDS = ("sunglasses", "eyeglasses", "mouth_mask", "hand", "eye_mask", "scarf", "phone", "book", "cup")
FOLDERS = {k: k for k in KINDS} | {"eye_mask": "eye_mask_substitute"}  # no real eye-mask image exists
RECTANGLES = ("block_black", "block_white", "block_noise")
# FROM's official region boxes (x0, y0, x1, y1) on its 112x96 crops (data/generate_occ_lfw.py)
_FROM_BOXES_96 = {"left_eye": (10, 30, 50, 70), "right_eye": (50, 30, 90, 70), "eyes": (10, 30, 90, 70),
                  "nose": (34, 48, 62, 86), "mouth": (25, 82, 75, 107), "lower_face": (8, 60, 92, 110),
                  "upper_face": (8, 8, 92, 72), "left_face": (8, 8, 50, 100), "right_face": (50, 8, 92, 100)}
FROM_REGIONS = tuple(f"from_{r}" for r in ("left_face", "right_face", "upper_face", "lower_face", "left_eye",
                                           "right_eye", "eyes", "nose", "mouth"))
# RLA's categories split the face box (FROM's face extent, 8..92 x 8..110 on 112x96) in halves / quarters
_FACE_96 = (8, 8, 92, 110)
RLA_CATEGORIES = ("rla_quarter", "rla_left_half", "rla_right_half", "rla_upper", "rla_lower")
GEOMETRIC = RECTANGLES + FROM_REGIONS + RLA_CATEGORIES
PLACEMENTS = ("semantic", "random", "region")
_CHUNK = 128  # images per window group: keeps each pass in cache
ID_GAN_BLOCK = 48 / 128  # ID-GAN Sec. 4: 48x48 white blocks on 128x128 faces


@dataclass
class Occlusion:
    """Result of :func:`occlude`. ``box`` (N,4) x0,y0,x1,y1 in continuous pixel coordinates (pixel i covers
    [i, i+1)), the pasted rectangle clipped to the image as in FROM; ``area`` the fraction of pixels with
    ``mask`` = 1; ``box_area`` the clipped box's fraction of the image (FROM's "occluded area");
    ``pattern`` FROM's proximate pattern label when K was given; ``template`` index into
    :func:`template_names` (-1 for geometric kinds or clean images)."""
    images: torch.Tensor
    mask: torch.Tensor
    box: torch.Tensor
    area: torch.Tensor
    box_area: torch.Tensor
    pattern: torch.Tensor | None
    template: torch.Tensor
    angle: torch.Tensor


# ------------------------------------------------------------------------------------------- patterns
def _grid_edges(n: int, k: int) -> np.ndarray:
    return np.linspace(0, n, k + 1, endpoint=True).astype(int)  # as the official get_grids


@lru_cache(maxsize=16)
def _pattern_cells(k: int) -> np.ndarray:
    """(P-1, 4) block rectangles (r0, c0, r1, c1), r1/c1 exclusive, in the official enumeration order:
    start vertex row-major, then end vertex row-major."""
    verts = [(r, c) for r in range(k + 1) for c in range(k + 1)]
    return np.array([(s[0], s[1], e[0], e[1]) for s in verts for e in verts if e[0] > s[0] and e[1] > s[1]],
                    dtype=np.int64)


def proximate_patterns(K: int) -> torch.Tensor:
    """FROM Sec. 3.4.1: all rectangles of adjacent m x n blocks on a K x K grid, index 0 = clean.
    Returns (P,K,K) bool with P = (K(K+1)/2)^2 + 1 (101 for K=4, 226 for K=5)."""
    if not isinstance(K, (int, np.integer)) or K < 1:
        raise ValueError(f"K must be a positive int (FROM uses 4 or 5), got {K!r}")
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
    ys, xs = torch.from_numpy(_grid_edges(h, K)).float(), torch.from_numpy(_grid_edges(w, K)).float()
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


# ------------------------------------------------------------------------------------------ templates
def _occluder_root(root: str | Path | None) -> Path:
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
    folder = _occluder_root(root)
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
def _bank(folder: Path, kind: str, templates: str, side: int) -> tuple[torch.Tensor, torch.Tensor]:
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


# ------------------------------------------------------------------------------------------ geometry
def _frame_boxes(boxes96: dict[str, tuple], hw: tuple[int, int]) -> dict[str, np.ndarray]:
    """Boxes given on FROM's 112x96 crop mapped into the template frame of ``hw`` (as :func:`template`)."""
    h, w = hw
    s = h / 112.0
    return {k: np.array([(b[0] - 48) * s + w / 2, b[1] * s, (b[2] - 48) * s + w / 2, b[3] * s])
            for k, b in boxes96.items()}


def region_boxes(size: tuple[int, int]) -> dict[str, np.ndarray]:
    """FROM's nine regions and RLA's five categories (quarter = top-left quarter) as x0,y0,x1,y1 boxes in
    continuous pixel coordinates of an aligned face of ``size``."""
    x0, y0, x1, y1 = _FACE_96
    xm, ym = (x0 + x1) / 2, (y0 + y1) / 2
    rla = {"rla_left_half": (x0, y0, xm, y1), "rla_right_half": (xm, y0, x1, y1), "rla_upper": (x0, y0, x1, ym),
           "rla_lower": (x0, ym, x1, y1), "rla_quarter": (x0, y0, xm, ym),
           "rla_quarter_1": (xm, y0, x1, ym), "rla_quarter_2": (x0, ym, xm, y1), "rla_quarter_3": (xm, ym, x1, y1)}
    out = {f"from_{k}": v for k, v in _frame_boxes(_FROM_BOXES_96, size).items()}
    out.update(_frame_boxes(rla, size))
    return out


def _face_frame(landmarks: torch.Tensor, hw: tuple[int, int]) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-image scale and offset mapping the template frame onto the given landmarks (centroid and
    inter-ocular distance; rotation ignored, the faces are aligned)."""
    ref = torch.from_numpy(template(hw)).float() + 0.5
    iod_ref = (ref[1] - ref[0]).norm()
    iod = (landmarks[:, 1] - landmarks[:, 0]).norm(dim=1)
    s = iod / iod_ref
    offset = landmarks.mean(1) - s[:, None] * ref.mean(0)
    return s, offset


def _semantic(kind: str, lm: torch.Tensor, aspect: torch.Tensor, side: torch.Tensor, scale: float
              ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Centre (N,2), width, height and base angle of a landmark-anchored occluder (RLA Sec. 4.1, OA-GAN:
    glasses on the eye line scaled to the inter-ocular distance, masks and scarves over nose/mouth/chin;
    placements of hand, cup, phone and book are our choice: over the mouth, before the chin, by a cheek,
    over the lower face). ``aspect`` = template w/h, ``side`` in {-1, 1} picks the cheek for phones."""
    eyes = (lm[:, 0] + lm[:, 1]) / 2
    mouth = (lm[:, 3] + lm[:, 4]) / 2
    v = lm[:, 1] - lm[:, 0]
    d = v.norm(dim=1).clamp_min(1e-3)
    v = v / d[:, None]
    u = torch.stack([-v[:, 1], v[:, 0]], 1)  # "down" the face, perpendicular to the eye line
    em = ((mouth - eyes) * u).sum(1).abs().clamp_min(1e-3)
    angle = torch.atan2(v[:, 1], v[:, 0])
    spec = {  # centre = eyes + a*em*u + b*d*v ; width = w*d ; height = h*em (None: keep the aspect)
        "sunglasses": (0.05, 0.0, 2.1, None), "eyeglasses": (0.05, 0.0, 2.1, None),
        "eye_mask": (0.10, 0.0, 2.3, None), "mouth_mask": (0.975, 0.0, 2.3, 1.25),
        "scarf": (1.15, 0.0, 2.6, None), "hand": (1.0, 0.0, 1.8, None), "cup": (1.25, 0.0, 1.3, None),
        "phone": (0.75, 1.15, 1.0, None), "book": (1.1, 0.0, 2.4, None),
    }[kind]
    a, b, wf, hf = spec
    centre = eyes + (a * em)[:, None] * u + (b * d * side)[:, None] * v
    width = wf * d * scale
    height = (hf * em * scale) if hf is not None else width / aspect
    return centre, width, height, angle


def _rect_corners_box(c: torch.Tensor, w: torch.Tensor, h: torch.Tensor, ang: torch.Tensor,
                      hw: tuple[int, int]) -> torch.Tensor:
    """Axis-aligned box of a rotated w x h rectangle centred at c, clipped to the image."""
    cos, sin = ang.cos().abs(), ang.sin().abs()
    hx = (w * cos + h * sin) / 2
    hy = (w * sin + h * cos) / 2
    box = torch.stack([c[:, 0] - hx, c[:, 1] - hy, c[:, 0] + hx, c[:, 1] + hy], 1)
    box[:, 0::2] = box[:, 0::2].clamp(0, hw[1])
    box[:, 1::2] = box[:, 1::2].clamp(0, hw[0])
    return box


def _check(images: torch.Tensor, kind: str, scale: float, placement: str, templates: str) -> None:
    if kind not in KINDS and kind not in GEOMETRIC:
        raise ValueError(f"unknown occlusion kind {kind!r}; use one of KINDS {KINDS} or GEOMETRIC {GEOMETRIC}")
    if not isinstance(scale, (int, float)) or not math.isfinite(scale) or scale <= 0:
        raise ValueError(f"scale must be a positive number (FROM's S, e.g. 1.0, 2.0, 3.0), got {scale!r}")
    if placement not in PLACEMENTS:
        raise ValueError(f"unknown placement {placement!r}; use one of {PLACEMENTS}")
    if templates not in ("train", "test", "all"):
        raise ValueError(f"templates must be 'train', 'test' or 'all', got {templates!r}")
    if not isinstance(images, torch.Tensor) or images.dim() != 4 or images.shape[1] != 3:
        shape = tuple(images.shape) if hasattr(images, "shape") else type(images).__name__
        raise ValueError(f"images must be a (N,3,H,W) float tensor in [0,1], got {shape}; convert with "
                         "torch.as_tensor(x).permute(0,3,1,2).float()/255 where needed")
    if not images.is_floating_point():
        raise ValueError(f"images must be floating point in [0,1], got {images.dtype}; divide uint8 by 255")
    low, high = torch.aminmax(images) if images.numel() else (torch.tensor(0.0), torch.tensor(1.0))
    if low < 0 or high > 1:  # one pass over the batch, not two
        raise ValueError(f"images must lie in [0,1], got [{low:.3f}, {high:.3f}]; "
                         "undo any [-1,1] normalisation with (x + 1) / 2")


# ------------------------------------------------------------------------------------------- occlude
def _resampled_patch(canvas: torch.Tensor, size: tuple[int, int], canvas_px: tuple[float, float]
                     ) -> torch.Tensor:
    """One template resampled once to ``size`` = (ph, pw): (4, ph, pw) = RGB fill and hard mask. Pixel
    centres sit where the windowed path samples them (offsets from the occluder centre, canvas units)."""
    (ph, pw), (ch, cw) = size, canvas_px
    if ph <= 0 or pw <= 0:  # a vanishing scale pastes nothing
        return torch.zeros(4, max(ph, 0), max(pw, 0))
    u = (torch.arange(pw, dtype=torch.float32) + (0.5 - pw / 2)) * (2 / cw)
    v = (torch.arange(ph, dtype=torch.float32) + (0.5 - ph / 2)) * (2 / ch)
    gx, gy = torch.broadcast_tensors(u[None, :], v[:, None])
    smp = F.grid_sample(canvas, torch.stack([gx, gy], -1)[None], mode="bilinear", padding_mode="zeros",
                        align_corners=False)[0]
    alpha = smp[3:]
    return torch.cat([(smp[:3] / alpha.clamp_min(0.5)).clamp_(0, 1), (alpha > 0.5).float()])


def _shifted_layers(patches: list[torch.Tensor], which: torch.Tensor, y0: torch.Tensor, x0: torch.Tensor,
                    hw: tuple[int, int]) -> torch.Tensor:
    """(n,4,H,W) layers: image i shows ``patches[which[i]]`` with its top-left corner at (y0, x0), spilling
    over the border (FROM Alg. 1); ``which = -1`` gives an empty layer (a clean image).

    The patches sit in zero-padded planes; an ``as_strided`` view enumerates every H x W window of every
    plane, and one advanced index with (patch, offset) per image reads all layers in a single dense copy."""
    h, w = hw
    ph = max([p.shape[1] for p in patches] + [1])
    pw = max([p.shape[2] for p in patches] + [1])
    planes = torch.zeros(len(patches) + 1, 4, h + ph + h, w + pw + w)  # the last plane stays empty
    for k, patch in enumerate(patches):  # a few dozen templates at most
        planes[k, :, h:h + patch.shape[1], w:w + patch.shape[2]] = patch
    t, _, hp, wp = planes.shape
    windows = planes.as_strided((t, hp - h + 1, wp - w + 1, 4, h, w),
                                (4 * hp * wp, wp, 1, hp * wp, wp, 1))
    which = torch.where(which < 0, t - 1, which)
    return windows[which, (h - y0).clamp(0, hp - h), (w - x0).clamp(0, wp - w)]


def occlude(images: torch.Tensor, kind: str, scale: float = 1.0, placement: str = "semantic",
            landmarks: torch.Tensor | np.ndarray | None = None, seed: int = 0, K: int | None = None,
            templates: str = "train", rotation: float = 0.0, clean: float = 0.0, region: str | None = None,
            root: str | Path | None = None) -> Occlusion:
    """Occlude a batch of aligned faces (N,3,H,W in [0,1]) with ``kind`` (``KINDS`` or ``GEOMETRIC``).

    ``scale``: FROM's S for ``random`` (natural size = the kind's semantic size on the template face, FROM
    Alg. 1 step 2), a size factor for ``semantic`` / ``region``. ``landmarks`` (N,5,2) in output pixels
    (default: :func:`occface.data.template`). ``rotation``: max |angle| in degrees, uniform jitter (OA-GAN
    +-15). ``clean``: fraction of images left untouched (pattern 0). ``region`` fixes the region of
    ``placement="region"`` (a ``from_*`` name), otherwise drawn per image. ``K``: also return FROM's
    pattern labels (Sec. 3.4.2). Deterministic for a seed.
    """
    _check(images, kind, scale, placement, templates)
    if K is not None:
        proximate_patterns(K)
    n, _, h, w = images.shape
    hw = (h, w)
    gen = torch.Generator().manual_seed(int(seed))
    if landmarks is None:
        lm = torch.from_numpy(template(hw)).float().expand(n, 5, 2)
    else:
        lm = torch.as_tensor(landmarks, dtype=torch.float32)
        if lm.shape != (n, 5, 2):
            raise ValueError(f"landmarks must be (N,5,2) = ({n},5,2) in output pixels, got {tuple(lm.shape)}")
    lm = lm + 0.5  # pixel-centre landmark coordinates -> continuous coordinates

    # per-image random draws, always in this order (determinism does not depend on the kind's branch)
    u_tpl = torch.rand(n, generator=gen)
    u_angle = torch.rand(n, generator=gen) * 2 - 1
    u_xy = torch.rand(n, 2, generator=gen)
    u_side = torch.rand(n, generator=gen)
    u_region = torch.rand(n, generator=gen)
    u_clean = torch.rand(n, generator=gen)
    angle = u_angle * math.radians(rotation)
    side = torch.where(u_side < 0.5, -1.0, 1.0)
    regions = region_boxes(hw)

    is_template = kind in KINDS
    if is_template:
        folder = _occluder_root(root)
        bank, extent = _bank(folder, kind, templates, max(32, max(h, w)))
        t = (u_tpl * len(bank)).long().clamp_max(len(bank) - 1)
        aspect = extent[t, 0] / extent[t, 1]
    else:
        t = torch.full((n,), -1, dtype=torch.long)
        aspect = torch.ones(n)

    def region_draw(names: list[str]) -> torch.Tensor:
        boxes = torch.tensor(np.stack([regions[k] for k in names]), dtype=torch.float32)
        pick = (u_region * len(names)).long().clamp_max(len(names) - 1)
        s, off = _face_frame(lm, hw)
        b = boxes[pick]
        return torch.stack([b[:, 0] * s + off[:, 0], b[:, 1] * s + off[:, 1],
                            b[:, 2] * s + off[:, 0], b[:, 3] * s + off[:, 1]], 1)

    if kind in FROM_REGIONS or kind in RLA_CATEGORIES:
        names = [kind] if kind != "rla_quarter" else ["rla_quarter", "rla_quarter_1", "rla_quarter_2",
                                                       "rla_quarter_3"]
        b = region_draw(names)
        centre = (b[:, :2] + b[:, 2:]) / 2
        width, height = (b[:, 2] - b[:, 0]) * scale, (b[:, 3] - b[:, 1]) * scale
    elif placement == "region":
        names = [region] if region else list(FROM_REGIONS)
        if any(r not in FROM_REGIONS for r in names):
            raise ValueError(f"unknown region {region!r}; use one of {FROM_REGIONS}")
        b = region_draw(names)
        centre = (b[:, :2] + b[:, 2:]) / 2
        width, height = (b[:, 2] - b[:, 0]) * scale, (b[:, 3] - b[:, 1]) * scale
    elif kind in RECTANGLES:
        width = height = torch.full((n,), float(round(ID_GAN_BLOCK * min(h, w) * scale)))
        if placement == "random":  # ID-GAN: the block lies wholly inside the image, top-left on the pixel grid
            x0 = (u_xy[:, 0] * (w - width + 1).clamp_min(1)).floor()
            y0 = (u_xy[:, 1] * (h - height + 1).clamp_min(1)).floor()
            centre = torch.stack([x0 + width / 2, y0 + height / 2], 1)
        else:  # semantic: centred on one facial landmark (an eye, the nose or a mouth corner)
            centre = lm[torch.arange(n), (u_region * 5).long().clamp_max(4)]
    elif placement == "semantic":
        centre, width, height, base = _semantic(kind, lm, aspect, side, scale)
        if kind in ("sunglasses", "eyeglasses", "eye_mask"):  # put the template's anchor row on the eye line
            shift = (0.5 - extent[t, 2]) * height
            centre = centre + shift[:, None] * torch.stack([-base.sin(), base.cos()], 1)
        angle = angle + base
    else:  # random, FROM Alg. 1
        ref = torch.from_numpy(template(hw)).float()[None] + 0.5
        _, w0, h0, _ = _semantic(kind, ref.expand(n, 5, 2), aspect, side, 1.0)
        # official code: new size = min(W-1, int(S*occ_w)) per axis (may change the aspect at large S)
        width = torch.minimum(torch.full_like(w0, w - 1), (scale * w0).floor())
        height = torch.minimum(torch.full_like(h0, h - 1), (scale * h0).floor())
        cx, cy = (u_xy[:, 0] * w).floor(), (u_xy[:, 1] * h).floor()  # random.choice(range(W))
        # official box: [c - new//2, c + (new+1)//2)
        x0, y0 = cx - (width / 2).floor(), cy - (height / 2).floor()
        centre = torch.stack([x0 + width / 2, y0 + height / 2], 1)

    keep_clean = u_clean < clean
    box = _rect_corners_box(centre, width, height, angle, hw)
    box[keep_clean] = 0
    if is_template:
        groups = [(k, torch.nonzero(~keep_clean & (t == k)).squeeze(1)) for k in torch.unique(t).tolist()]
        cw, ch = width / extent[t, 0], height / extent[t, 1]  # the canvas spans w/extent output pixels
    else:
        groups = [(-1, torch.nonzero(~keep_clean).squeeze(1))]
        colour = kind.split("_")[1] if kind in RECTANGLES else "black"
    cos_all, sin_all = angle.cos(), angle.sin()
    y0_unclipped = (centre[:, 1] - height / 2).round().long()  # integer in random placement
    x0_unclipped = (centre[:, 0] - width / 2).round().long()
    # integer window of each occluder: only pixels inside its clipped box are ever sampled
    x0, y0 = box[:, 0].floor().long(), box[:, 1].floor().long()
    ext_w, ext_h = box[:, 2].ceil().long() - x0, box[:, 3].ceil().long() - y0
    # FROM Alg. 1 without rotation: every image of one template gets the same axis-aligned patch at an
    # integer offset, so the patch is resampled once and each image's layer is a strided read of it
    if is_template and placement == "random" and rotation == 0:
        patches, which = [], torch.full((n,), -1, dtype=torch.long)
        for k, members in groups:
            if len(members):
                j = int(members[0])  # size and phase are the same for every image of this template
                which[members] = len(patches)
                patches.append(_resampled_patch(bank[k:k + 1], (int(height[j]), int(width[j])),
                                                (float(ch[j]), float(cw[j]))))
        layer = _shifted_layers(patches, which, y0_unclipped, x0_unclipped, hw)
        mask = layer[:, 3:].clone()
        out = torch.where(mask > 0.5, layer[:, :3], images)
        groups = []  # done: nothing for the windowed path below
    else:
        out = images.clone()
        mask = torch.zeros(n, 1, h, w)
    flat_in, flat_out, flat_mask = images.reshape(n, 3, h * w), out.view(n, 3, h * w), mask.view(n, 1, h * w)
    for k, members in groups:  # one pass per template (a few dozen at most), never per image
        if len(members) == 0:
            continue
        members = members[torch.argsort(ext_w[members] * ext_h[members], stable=True)]
        for chunk in torch.split(members, _CHUNK):  # similar sizes share one window size
            hwin, wwin = int(ext_h[chunk].max()), int(ext_w[chunk].max())
            if hwin <= 0 or wwin <= 0:
                continue
            oy = y0[chunk].clamp(0, h - hwin)
            ox = x0[chunk].clamp(0, w - wwin)
            Y = oy[:, None, None] + torch.arange(hwin)[None, :, None]
            X = ox[:, None, None] + torch.arange(wwin)[None, None, :]
            # continuous pixel centres relative to the occluder centre, rotated into its frame
            px = X.float() + (0.5 - centre[chunk, 0, None, None])
            py = Y.float() + (0.5 - centre[chunk, 1, None, None])
            c, s_ = cos_all[chunk, None, None], sin_all[chunk, None, None]
            qx, qy = c * px + s_ * py, c * py - s_ * px
            flat = (Y * w + X).reshape(len(chunk), 1, -1)  # window pixels as flat indices (gather/scatter)
            win = flat_in[chunk].gather(2, flat.expand(-1, 3, -1))  # (n, 3, hwin*wwin)
            if k >= 0:
                g = torch.stack([qx * (2 / cw[chunk, None, None]), qy * (2 / ch[chunk, None, None])], -1)
                smp = F.grid_sample(bank[k:k + 1], g.reshape(1, -1, wwin, 2), mode="bilinear",
                                    padding_mode="zeros", align_corners=False)
                smp = smp.reshape(4, len(chunk), -1).transpose(0, 1)  # (n, 4, hwin*wwin)
                alpha = smp[:, 3:]
                m = alpha > 0.5
                fill = (smp[:, :3] / alpha.clamp_min(0.5)).clamp_(0, 1)
            else:
                m = ((qx.abs() < width[chunk, None, None] / 2)
                     & (qy.abs() < height[chunk, None, None] / 2)).reshape(len(chunk), 1, -1)
                if colour == "noise":
                    fill = torch.rand(win.shape, generator=gen)
                else:
                    fill = torch.full((1, 1, 1), 1.0 if colour == "white" else 0.0)
            rows = flat_out[chunk]  # whole rows copied out and back: cheaper than element-wise put_
            rows.scatter_(2, flat.expand(-1, 3, -1), torch.where(m, fill, win))
            flat_out[chunk] = rows
            mrows = flat_mask[chunk]
            mrows.scatter_(2, flat, m.float())
            flat_mask[chunk] = mrows

    box_area = (box[:, 2] - box[:, 0]) * (box[:, 3] - box[:, 1]) / (h * w)
    area = mask.mean(dim=(1, 2, 3))
    t = torch.where(keep_clean, torch.full_like(t, -1), t)
    pattern = pattern_labels(box, hw, K) if K is not None else None
    return Occlusion(images=out, mask=mask, box=box, area=area, box_area=box_area, pattern=pattern,
                     template=t, angle=torch.rad2deg(angle))
