"""Re-measure ``occface.eval.recognizers.CHIP_POINTS``: where our five template points land in dlib's
150x150 chip, on average over some LFW faces.

    python scripts/measure_chip_points.py [N]     # one face per 60th person by default (80 faces)
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Sequence

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lib"))
from occface.eval.recognizers import CHIP_PADDING, CHIP_SIZE  # noqa: E402
from occface.faces.align import five_from_68, model_path  # noqa: E402
from occface.faces.data import list_images  # noqa: E402
from occface.paths import data_root  # noqa: E402


def measure_chip_points(paths: Sequence[str]) -> np.ndarray:
    """Re-measure ``CHIP_POINTS``: for each image, dlib's HOG detector + 5-point predictor give the chip
    (``get_face_chip``, 150 px, padding 0.25); the 68-point predictor gives our five points, which are mapped
    into the chip. The chip-to-image map is read exactly by chipping two coordinate ramps (bilinear
    interpolation reproduces a linear ramp exactly). Returns the mean (5,2) chip position."""
    import dlib
    from PIL import Image

    det = dlib.get_frontal_face_detector()
    sp5 = dlib.shape_predictor(model_path("shape_predictor_5_face_landmarks.dat"))
    sp68 = dlib.shape_predictor(model_path("shape_predictor_68_face_landmarks.dat"))
    u, v = np.meshgrid(np.arange(CHIP_SIZE, dtype=np.float64), np.arange(CHIP_SIZE, dtype=np.float64))
    out = []
    for path in paths:
        img = np.asarray(Image.open(path).convert("RGB"))
        h, w = img.shape[:2]
        found = det(img, 0)
        if not len(found):
            continue
        rect = min(found, key=lambda r: (r.center().x - w / 2) ** 2 + (r.center().y - h / 2) ** 2)
        s5, s68 = sp5(img, rect), sp68(img, rect)
        pts = five_from_68(np.array([[p.x, p.y] for p in s68.parts()]))
        rx = np.tile(np.arange(w, dtype=np.float64), (h, 1))
        ry = np.tile(np.arange(h, dtype=np.float64)[:, None], (1, w))
        cx = dlib.get_face_chip(rx, s5, CHIP_SIZE, CHIP_PADDING)
        cy = dlib.get_face_chip(ry, s5, CHIP_SIZE, CHIP_PADDING)
        design = np.c_[cx.ravel(), cy.ravel(), np.ones(cx.size)]
        image_to_chip, *_ = np.linalg.lstsq(design, np.c_[u.ravel(), v.ravel()], rcond=None)
        out.append(np.c_[pts, np.ones(5)] @ image_to_chip)
    return np.mean(out, axis=0)


if __name__ == "__main__":
    root = data_root(("lfw",))
    files = list_images("lfw")
    people = sorted({Path(f).parent.name for f in files})[::60][: int(sys.argv[1]) if len(sys.argv) > 1 else None]
    first = {Path(f).parent.name: f for f in reversed(files)}
    points = measure_chip_points([str(root / first[p]) for p in people])
    print(np.array2string(points, precision=3, separator=", "))
