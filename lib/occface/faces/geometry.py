"""Where occluders go on an aligned face: FROM's nine regions and RLA's categories as boxes on the template,
each face's frame from its landmarks, the landmark-anchored (semantic) size and angle of each kind, and the
clipped box of a rotated rectangle."""

from __future__ import annotations

import numpy as np
import torch

from .align import template

# FROM's official region boxes (x0, y0, x1, y1) on its 112x96 crops (data/generate_occ_lfw.py)
_FROM_BOXES_96 = {"left_eye": (10, 30, 50, 70), "right_eye": (50, 30, 90, 70), "eyes": (10, 30, 90, 70),
                  "nose": (34, 48, 62, 86), "mouth": (25, 82, 75, 107), "lower_face": (8, 60, 92, 110),
                  "upper_face": (8, 8, 92, 72), "left_face": (8, 8, 50, 100), "right_face": (50, 8, 92, 100)}
FROM_REGIONS = tuple(f"from_{r}" for r in ("left_face", "right_face", "upper_face", "lower_face", "left_eye",
                                           "right_eye", "eyes", "nose", "mouth"))
# RLA's categories split the face box (FROM's face extent, 8..92 x 8..110 on 112x96) in halves / quarters
_FACE_96 = (8, 8, 92, 110)


def frame_boxes(boxes96: dict[str, tuple], hw: tuple[int, int]) -> dict[str, np.ndarray]:
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
    out = {f"from_{k}": v for k, v in frame_boxes(_FROM_BOXES_96, size).items()}
    out.update(frame_boxes(rla, size))
    return out


def face_frame(landmarks: torch.Tensor, hw: tuple[int, int]) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-image scale and offset mapping the template frame onto the given landmarks (centroid and
    inter-ocular distance; rotation ignored, the faces are aligned)."""
    ref = torch.from_numpy(template(hw)).float() + 0.5
    iod_ref = (ref[1] - ref[0]).norm()
    iod = (landmarks[:, 1] - landmarks[:, 0]).norm(dim=1)
    s = iod / iod_ref
    offset = landmarks.mean(1) - s[:, None] * ref.mean(0)
    return s, offset


def semantic_placement(kind: str, lm: torch.Tensor, aspect: torch.Tensor, side: torch.Tensor, scale: float
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


def rect_corners_box(c: torch.Tensor, w: torch.Tensor, h: torch.Tensor, ang: torch.Tensor,
                      hw: tuple[int, int]) -> torch.Tensor:
    """Axis-aligned box of a rotated w x h rectangle centred at c, clipped to the image."""
    cos, sin = ang.cos().abs(), ang.sin().abs()
    hx = (w * cos + h * sin) / 2
    hy = (w * sin + h * cos) / 2
    box = torch.stack([c[:, 0] - hx, c[:, 1] - hy, c[:, 0] + hx, c[:, 1] + hy], 1)
    box[:, 0::2] = box[:, 0::2].clamp(0, hw[1])
    box[:, 1::2] = box[:, 1::2].clamp(0, hw[0])
    return box
