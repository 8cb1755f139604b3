"""Real photos aligned like LFW: dlib's HOG detector and 68-point predictor give five points, one similarity
warp puts them on the project's template (the pipeline ``scripts/compute_landmarks.py`` ran for LFW).

A photo whose face is not detected is aligned from a fixed central box (the fallback LFW also uses) and
counted, so every report can say how many faces were not detected. Photos are read upright (their EXIF
orientation applied). Aligned crops are cached, keyed on the photos' names, sizes and modification times.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import torch
from ..progress import tqdm

from ..paths import cache_dir
from ..results import atomic_write_bytes
from .align import DETECTED, LandmarkDetector, as_hw
from .data import CACHE_VERSION, read_rgb, source_fingerprint, warp_to_template

USER_FIX = "re-save it or remove it from the folder"


@dataclass
class AlignedPhotos:
    """``images`` (N,3,H,W) float in [0,1] on the template, ``landmarks`` (N,5,2) in output pixels,
    ``detected`` (N,) bool: False where the central-box fallback was used."""
    images: torch.Tensor
    landmarks: torch.Tensor
    detected: np.ndarray

    @property
    def undetected(self) -> int:
        return int((~self.detected).sum())


def _align(files: Sequence[Path], hw: tuple[int, int]) -> dict[str, np.ndarray]:
    detector = LandmarkDetector(upsample=1)  # real photos may show small faces: one upsampling step
    images = np.empty((len(files), 3, *hw), np.uint8)
    marks = np.empty((len(files), 5, 2), np.float32)
    detected = np.empty(len(files), bool)
    with tqdm(files, desc="aligning photos (cached once)", mininterval=2.0) as bar:
        for i, f in enumerate(bar):  # closed even when a photo fails to read
            image = read_rgb(f, USER_FIX)
            w, h = image.size
            points, method = detector(np.asarray(image), (w // 5, h // 5, w - w // 5, h - h // 5))
            face, marks[i] = warp_to_template(image, points, hw)
            images[i], detected[i] = face.transpose(2, 0, 1), method == DETECTED
    return {"images": images, "landmarks": marks, "detected": detected}


def align_photos(files: Sequence[str | Path], size: int | tuple[int, int] = 64) -> AlignedPhotos:
    """Detect, landmark and align every photo in ``files`` at ``size`` (cached)."""
    files = [Path(f) for f in files]
    hw = as_hw(size)
    # "upright": photos are read with their EXIF orientation applied (crops cached before that are not reused)
    digest = hashlib.sha256(f"{CACHE_VERSION}:upright:{hw}:{[str(f.resolve()) for f in files]}".encode())
    digest.update(source_fingerprint(files))
    path = cache_dir("photos") / f"photos_{hw[0]}x{hw[1]}_{digest.hexdigest()[:20]}.npz"
    if path.exists():
        with np.load(path, allow_pickle=False) as z:
            data = {k: z[k] for k in ("images", "landmarks", "detected")}
    else:
        data = _align(files, hw)
        buffer = io.BytesIO()
        np.savez_compressed(buffer, **data)
        atomic_write_bytes(path, buffer.getvalue())  # an interrupted run leaves no half-written cache
    return AlignedPhotos(torch.from_numpy(data["images"]).float().div_(255), torch.from_numpy(data["landmarks"]),
                         data["detected"])
