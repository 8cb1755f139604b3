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
    template stretched over one of FROM's nine regions. ``eyes`` (blocks only): the block centred between the
    two eyes, where ID-GAN's Fig. 4 puts it.

Every image gets one similarity (scale, rotation, translation) into one ``affine_grid``/``grid_sample``
call per template (no Python loop per image); masks are the pasted alpha thresholded at 0.5, and the
composite uses that same hard mask, so ``mask == 1`` exactly where template pixels were written.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from .align import template
from .geometry import FROM_REGIONS, face_frame, rect_corners_box, semantic_placement, region_boxes
from .patterns import pattern_labels, proximate_patterns
from .templates import KINDS, occluder_root, template_bank, template_names

__all__ = ["KINDS", "GEOMETRIC", "PLACEMENTS", "BLOCK_PLACEMENTS", "FROM_REGIONS", "RLA_CATEGORIES", "Occlusion",
           "occlude", "proximate_patterns", "pattern_labels", "template_names", "region_boxes"]

RECTANGLES = ("block_black", "block_white", "block_noise")
RLA_CATEGORIES = ("rla_quarter", "rla_left_half", "rla_right_half", "rla_upper", "rla_lower")
GEOMETRIC = RECTANGLES + FROM_REGIONS + RLA_CATEGORIES
PLACEMENTS = ("semantic", "random", "region")
BLOCK_PLACEMENTS = ("eyes",)  # for the geometric kinds only: ID-GAN Fig. 4's block over the eyes
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


def _check(images: torch.Tensor, kind: str, scale: float, placement: str, templates: str,
           rotation: float) -> None:
    if kind not in KINDS and kind not in GEOMETRIC:
        raise ValueError(f"unknown occlusion kind {kind!r}; use one of KINDS {KINDS} or GEOMETRIC {GEOMETRIC}")
    if not isinstance(scale, (int, float, np.integer, np.floating)) or not math.isfinite(scale) or scale <= 0:
        raise ValueError(f"scale must be a positive number (FROM's S, e.g. 1.0, 2.0, 3.0), got {scale!r}")
    if not isinstance(rotation, (int, float, np.integer, np.floating)) or not math.isfinite(rotation):
        raise ValueError(f"rotation must be a finite number of degrees (OA-GAN uses 15), got {rotation!r}")
    if placement not in PLACEMENTS + BLOCK_PLACEMENTS:
        raise ValueError(f"unknown placement {placement!r}; use one of {PLACEMENTS + BLOCK_PLACEMENTS}")
    if placement in BLOCK_PLACEMENTS and kind in KINDS:
        raise ValueError(f"placement 'eyes' centres a block on the eyes; use it with {RECTANGLES}, not {kind!r}")
    if templates not in ("train", "test", "all"):
        raise ValueError(f"templates must be 'train', 'test' or 'all', got {templates!r}")
    if not isinstance(images, torch.Tensor) or images.dim() != 4 or images.shape[1] != 3:
        shape = tuple(images.shape) if hasattr(images, "shape") else type(images).__name__
        raise ValueError(f"images must be a (N,3,H,W) float tensor in [0,1], got {shape}; convert with "
                         "torch.as_tensor(x).permute(0,3,1,2).float()/255 where needed")
    if not images.is_floating_point():
        raise ValueError(f"images must be floating point in [0,1], got {images.dtype}; divide uint8 by 255")
    if images.numel() and not torch.isfinite(images).all():
        bad = torch.nonzero(~torch.isfinite(images).flatten(1).all(1)).flatten().tolist()
        raise ValueError(f"images {bad[:10]} contain NaN or infinite pixels; clean or drop them first")
    low, high = torch.aminmax(images) if images.numel() else (torch.tensor(0.0), torch.tensor(1.0))
    if low < 0 or high > 1:  # one pass over the batch, not two
        raise ValueError(f"images must lie in [0,1], got [{low:.3f}, {high:.3f}]; "
                         "undo any [-1,1] normalisation with (x + 1) / 2")


def _landmarks(landmarks, n: int, hw: tuple[int, int]) -> torch.Tensor:
    """(N,5,2) landmarks in continuous coordinates (pixel centres + 0.5); the template when None. Missed
    detections (NaN), points far outside the image or coordinates normalised to [0,1] are refused."""
    if landmarks is None:
        return torch.from_numpy(template(hw)).float().expand(n, 5, 2) + 0.5
    lm = torch.as_tensor(np.asarray(landmarks), dtype=torch.float32)
    if lm.shape != (n, 5, 2):
        raise ValueError(f"landmarks must be (N,5,2) = ({n},5,2) in output pixels, got {tuple(lm.shape)}")
    h, w = hw
    finite = torch.isfinite(lm).flatten(1).all(1)
    spread = (lm[:, 1] - lm[:, 0]).norm(dim=1)  # inter-ocular distance
    inside = ((lm[..., 0] > -w) & (lm[..., 0] < 2 * w) & (lm[..., 1] > -h) & (lm[..., 1] < 2 * h)).all(1)
    bad = ~finite | ~inside | ~(spread > 0.05 * min(h, w))
    if bad.any():
        rows = torch.nonzero(bad).flatten().tolist()
        raise ValueError(f"landmarks of images {rows[:10]} are unusable (NaN from a missed detection, outside "
                         f"the {h}x{w} image, or normalised to [0,1] instead of pixels); pass pixel coordinates "
                         "of the aligned faces, or landmarks=None for the template")
    return lm + 0.5  # pixel-centre landmark coordinates -> continuous coordinates


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


@dataclass
class _Draws:
    """Per-image uniform draws, always made in this order, so determinism never depends on the kind."""
    template: torch.Tensor
    angle: torch.Tensor
    xy: torch.Tensor
    side: torch.Tensor
    region: torch.Tensor
    clean: torch.Tensor

    @classmethod
    def make(cls, n: int, gen: torch.Generator) -> "_Draws":
        return cls(*(torch.rand(n, generator=gen) for _ in range(2)), torch.rand(n, 2, generator=gen),
                   *(torch.rand(n, generator=gen) for _ in range(3)))


@dataclass
class _Placement:
    """Where each occluder goes: centre (N,2), width, height, angle (radians) in continuous pixels."""
    centre: torch.Tensor
    width: torch.Tensor
    height: torch.Tensor
    angle: torch.Tensor


def _region_box(lm: torch.Tensor, hw: tuple[int, int], names: list[str], u: torch.Tensor) -> torch.Tensor:
    """One region box per image (drawn among ``names`` by ``u``), mapped onto each face's landmarks."""
    regions = region_boxes(hw)
    boxes = torch.tensor(np.stack([regions[k] for k in names]), dtype=torch.float32)
    b = boxes[(u * len(names)).long().clamp_max(len(names) - 1)]
    s, off = face_frame(lm, hw)
    return torch.stack([b[:, 0] * s + off[:, 0], b[:, 1] * s + off[:, 1],
                        b[:, 2] * s + off[:, 0], b[:, 3] * s + off[:, 1]], 1)


def _stretched(b: torch.Tensor, scale: float, angle: torch.Tensor) -> _Placement:
    return _Placement((b[:, :2] + b[:, 2:]) / 2, (b[:, 2] - b[:, 0]) * scale, (b[:, 3] - b[:, 1]) * scale, angle)


def _place(kind: str, placement: str, scale: float, lm: torch.Tensor, hw: tuple[int, int], u: _Draws,
           angle: torch.Tensor, aspect: torch.Tensor, anchor: torch.Tensor | None, region: str | None) -> _Placement:
    """The geometry of every kind x placement (see the module docstring)."""
    n, (h, w) = len(lm), hw
    if kind in FROM_REGIONS or kind in RLA_CATEGORIES:
        names = [kind] if kind != "rla_quarter" else ["rla_quarter", "rla_quarter_1", "rla_quarter_2", "rla_quarter_3"]
        return _stretched(_region_box(lm, hw, names, u.region), scale, angle)
    if placement == "region":
        names = [region] if region else list(FROM_REGIONS)
        if any(r not in FROM_REGIONS for r in names):
            raise ValueError(f"unknown region {region!r}; use one of {FROM_REGIONS}")
        return _stretched(_region_box(lm, hw, names, u.region), scale, angle)
    if kind in RECTANGLES:
        side = torch.full((n,), float(round(ID_GAN_BLOCK * min(h, w) * scale)))
        if placement == "random":  # ID-GAN: the block lies wholly inside the image, top-left on the pixel grid
            x0 = (u.xy[:, 0] * (w - side + 1).clamp_min(1)).floor()
            y0 = (u.xy[:, 1] * (h - side + 1).clamp_min(1)).floor()
            return _Placement(torch.stack([x0 + side / 2, y0 + side / 2], 1), side, side, angle)
        if placement == "eyes":  # ID-GAN Fig. 4: the block over both eyes, centred between them
            return _Placement(lm[:, :2].mean(1), side, side, angle)
        # semantic: centred on one facial landmark (an eye, the nose or a mouth corner)
        return _Placement(lm[torch.arange(n), (u.region * 5).long().clamp_max(4)], side, side, angle)
    side = torch.where(u.side < 0.5, -1.0, 1.0)
    if placement == "semantic":
        centre, width, height, base = semantic_placement(kind, lm, aspect, side, scale)
        if anchor is not None:  # put the template's anchor row on the eye line
            shift = (0.5 - anchor) * height
            centre = centre + shift[:, None] * torch.stack([-base.sin(), base.cos()], 1)
        return _Placement(centre, width, height, angle + base)
    # random, FROM Alg. 1
    ref = torch.from_numpy(template(hw)).float()[None] + 0.5
    _, w0, h0, _ = semantic_placement(kind, ref.expand(n, 5, 2), aspect, side, 1.0)
    # official code: new size = min(W-1, int(S*occ_w)) per axis (may change the aspect at large S)
    width = torch.minimum(torch.full_like(w0, w - 1), (scale * w0).floor())
    height = torch.minimum(torch.full_like(h0, h - 1), (scale * h0).floor())
    cx, cy = (u.xy[:, 0] * w).floor(), (u.xy[:, 1] * h).floor()  # random.choice(range(W))
    x0, y0 = cx - (width / 2).floor(), cy - (height / 2).floor()  # official box: [c - new//2, c + (new+1)//2)
    return _Placement(torch.stack([x0 + width / 2, y0 + height / 2], 1), width, height, angle)


def _paste_strided(images: torch.Tensor, bank: torch.Tensor, groups: list, at: _Placement, cw: torch.Tensor,
                   ch: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """FROM Alg. 1 without rotation: every image of one template gets the same axis-aligned patch at an
    integer offset, so the patch is resampled once and each image's layer is a strided read of it."""
    n = len(images)
    patches, which = [], torch.full((n,), -1, dtype=torch.long)
    for k, members in groups:
        if len(members):
            j = int(members[0])  # size and phase are the same for every image of this template
            which[members] = len(patches)
            patches.append(_resampled_patch(bank[k:k + 1], (int(at.height[j]), int(at.width[j])),
                                            (float(ch[j]), float(cw[j]))))
    y0 = (at.centre[:, 1] - at.height / 2).round().long()  # integer in random placement
    x0 = (at.centre[:, 0] - at.width / 2).round().long()
    layer = _shifted_layers(patches, which, y0, x0, tuple(images.shape[-2:]))
    mask = layer[:, 3:].clone()
    return torch.where(mask > 0.5, layer[:, :3], images), mask


def _window_fill(k: int, qx: torch.Tensor, qy: torch.Tensor, chunk: torch.Tensor, at: _Placement,
                 bank: torch.Tensor | None, cw: torch.Tensor, ch: torch.Tensor, colour: str,
                 shape: torch.Size, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """(mask, fill) of one window chunk: a template sampled in its rotated frame, or a plain rectangle."""
    if k >= 0:
        g = torch.stack([qx * (2 / cw[chunk, None, None]), qy * (2 / ch[chunk, None, None])], -1)
        smp = F.grid_sample(bank[k:k + 1], g.reshape(1, -1, qx.shape[-1], 2), mode="bilinear",
                            padding_mode="zeros", align_corners=False)
        smp = smp.reshape(4, len(chunk), -1).transpose(0, 1)  # (n, 4, hwin*wwin)
        alpha = smp[:, 3:]
        return alpha > 0.5, (smp[:, :3] / alpha.clamp_min(0.5)).clamp_(0, 1)
    m = ((qx.abs() < at.width[chunk, None, None] / 2)
         & (qy.abs() < at.height[chunk, None, None] / 2)).reshape(len(chunk), 1, -1)
    if colour == "noise":
        return m, torch.rand(shape, generator=gen)
    return m, torch.full((1, 1, 1), 1.0 if colour == "white" else 0.0)


def _paste_windows(images: torch.Tensor, out: torch.Tensor, mask: torch.Tensor, groups: list, box: torch.Tensor,
                   at: _Placement, bank: torch.Tensor | None, cw: torch.Tensor, ch: torch.Tensor, colour: str,
                   gen: torch.Generator) -> None:
    """Paste every occluder through the integer window of its clipped box (only those pixels are sampled),
    one pass per template (a few dozen at most), never per image; writes ``out`` and ``mask`` in place."""
    n, _, h, w = images.shape
    flat_in, flat_out, flat_mask = images.reshape(n, 3, h * w), out.view(n, 3, h * w), mask.view(n, 1, h * w)
    x0, y0 = box[:, 0].floor().long(), box[:, 1].floor().long()
    ext_w, ext_h = box[:, 2].ceil().long() - x0, box[:, 3].ceil().long() - y0
    cos_all, sin_all = at.angle.cos(), at.angle.sin()
    for k, members in groups:
        members = members[torch.argsort(ext_w[members] * ext_h[members], stable=True)]
        for chunk in torch.split(members, _CHUNK):  # similar sizes share one window size
            hwin, wwin = int(ext_h[chunk].max()), int(ext_w[chunk].max())
            if hwin <= 0 or wwin <= 0:
                continue
            Y = y0[chunk].clamp(0, h - hwin)[:, None, None] + torch.arange(hwin)[None, :, None]
            X = x0[chunk].clamp(0, w - wwin)[:, None, None] + torch.arange(wwin)[None, None, :]
            # continuous pixel centres relative to the occluder centre, rotated into its frame
            px = X.float() + (0.5 - at.centre[chunk, 0, None, None])
            py = Y.float() + (0.5 - at.centre[chunk, 1, None, None])
            c, s_ = cos_all[chunk, None, None], sin_all[chunk, None, None]
            flat = (Y * w + X).reshape(len(chunk), 1, -1)  # window pixels as flat indices (gather/scatter)
            win = flat_in[chunk].gather(2, flat.expand(-1, 3, -1))  # (n, 3, hwin*wwin)
            m, fill = _window_fill(k, c * px + s_ * py, c * py - s_ * px, chunk, at, bank, cw, ch, colour,
                                   win.shape, gen)
            rows = flat_out[chunk]  # whole rows copied out and back: cheaper than element-wise put_
            rows.scatter_(2, flat.expand(-1, 3, -1), torch.where(m, fill, win))
            flat_out[chunk] = rows
            mrows = flat_mask[chunk]
            mrows.scatter_(2, flat, m.float())
            flat_mask[chunk] = mrows


def occlude(images: torch.Tensor, kind: str, scale: float = 1.0, placement: str = "semantic",
            landmarks: torch.Tensor | np.ndarray | None = None, seed: int = 0, K: int | None = None,
            templates: str = "train", rotation: float = 0.0, clean: float = 0.0, region: str | None = None,
            root: str | Path | None = None) -> Occlusion:
    """Occlude a batch of aligned faces (N,3,H,W in [0,1]) with ``kind`` (``KINDS`` or ``GEOMETRIC``).

    ``scale``: FROM's S for ``random`` (natural size = the kind's semantic size on the template face, FROM
    Alg. 1 step 2), a size factor for ``semantic`` / ``region``. ``landmarks`` (N,5,2) in output pixels
    (default: :func:`occface.faces.align.template`). ``rotation``: max |angle| in degrees, uniform jitter
    (OA-GAN +-15). ``clean``: fraction of images left untouched (pattern 0). ``region`` fixes the region of
    ``placement="region"`` (a ``from_*`` name), otherwise drawn per image. ``K``: also return FROM's
    pattern labels (Sec. 3.4.2). Deterministic for a seed. float16 / bfloat16 images are computed in
    float32 and returned in their own dtype.
    """
    _check(images, kind, scale, placement, templates, rotation)
    if K is not None:
        proximate_patterns(K)
    dtype, images = images.dtype, images.float()
    n, _, h, w = images.shape
    hw = (h, w)
    lm = _landmarks(landmarks, n, hw)
    gen = torch.Generator().manual_seed(int(seed))
    u = _Draws.make(n, gen)
    angle = (u.angle * 2 - 1) * math.radians(float(rotation))
    bank, t, aspect, anchor = None, torch.full((n,), -1, dtype=torch.long), torch.ones(n), None
    if kind in KINDS:
        bank, extent = template_bank(occluder_root(root), kind, templates, max(32, max(h, w)))
        t = (u.template * len(bank)).long().clamp_max(len(bank) - 1)
        aspect = extent[t, 0] / extent[t, 1]
        anchor = extent[t, 2] if kind in ("sunglasses", "eyeglasses", "eye_mask") else None
    at = _place(kind, placement, float(scale), lm, hw, u, angle, aspect, anchor, region)
    keep_clean = u.clean < clean
    box = rect_corners_box(at.centre, at.width, at.height, at.angle, hw)
    box[keep_clean] = 0
    if bank is not None:
        groups = [(k, torch.nonzero(~keep_clean & (t == k)).squeeze(1)) for k in torch.unique(t).tolist()]
        cw, ch = at.width / extent[t, 0], at.height / extent[t, 1]  # the canvas spans w/extent output pixels
    else:
        groups, cw, ch = [(-1, torch.nonzero(~keep_clean).squeeze(1))], None, None
    groups = [(k, m) for k, m in groups if len(m)]
    if bank is not None and placement == "random" and rotation == 0:
        out, mask = _paste_strided(images, bank, groups, at, cw, ch)
    else:
        out, mask = images.clone(), torch.zeros(n, 1, h, w)
        colour = kind.split("_")[1] if kind in RECTANGLES else "black"
        _paste_windows(images, out, mask, groups, box, at, bank, cw, ch, colour, gen)
    t = torch.where(keep_clean, torch.full_like(t, -1), t)
    return Occlusion(images=out.to(dtype), mask=mask, box=box, area=mask.mean(dim=(1, 2, 3)),
                     box_area=(box[:, 2] - box[:, 0]) * (box[:, 3] - box[:, 1]) / (h * w),
                     pattern=pattern_labels(box, hw, K) if K is not None else None, template=t,
                     angle=torch.rad2deg(at.angle))
