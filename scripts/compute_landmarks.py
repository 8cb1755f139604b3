"""Recompute the committed five-point landmark files lib/occface/assets/landmarks_<name>.npz.

    OCCFACE_DATA=/work/shared/data python scripts/compute_landmarks.py lfw orl

dlib's HOG detector (nearest face to the centre) + 68-point shape predictor -> 5 points. Where detection
fails the predictor runs on a fixed central box (deep-funneled LFW is roughly centred); where even that
result is implausible (eye distance or position far from the data set's median) the face falls back to the
centre crop, i.e. the median landmarks of the detected faces. Each face's ``method`` is stored, so the
loader can count and report fallbacks. Single-threaded; prints the time taken.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lib"))

from occface.faces.align import ASSETS, CENTRE_CROP, DETECTED, METHOD_NAMES, LandmarkDetector  # noqa: E402
from occface.faces.data import list_images  # noqa: E402
from occface.paths import data_root  # noqa: E402

# (left, top, right, bottom) of the fixed central box and the detector's upsampling, per data set
SETTINGS = {"lfw": dict(box=(69, 80, 173, 184), upsample=0, mode="RGB"),
            "orl": dict(box=(8, 22, 84, 98), upsample=1, mode="L")}


def compute(name: str) -> Path:
    root = data_root(required=("lfw",) if name == "lfw" else ("orl",))
    paths = list_images(name, root)
    cfg = SETTINGS[name]
    detector = LandmarkDetector(upsample=cfg["upsample"])
    marks = np.zeros((len(paths), 5, 2), np.float64)
    method = np.zeros(len(paths), np.int8)
    start = time.perf_counter()
    for i, rel in enumerate(paths):
        image = np.asarray(Image.open(root / rel).convert(cfg["mode"]))
        marks[i], method[i] = detector(image, cfg["box"])
        if i % 2000 == 0:
            print(f"{name}: {i}/{len(paths)} {time.perf_counter() - start:.0f}s", flush=True)
    elapsed = time.perf_counter() - start
    # plausibility of the fixed-box fallbacks against the detected faces' median
    ref = np.median(marks[method == DETECTED], axis=0)
    iod_ref = np.linalg.norm(ref[1] - ref[0])
    iod = np.linalg.norm(marks[:, 1] - marks[:, 0], axis=1)
    dev = np.linalg.norm(marks - ref, axis=2).mean(1)
    bad = (method != DETECTED) & ((iod < 0.6 * iod_ref) | (iod > 1.6 * iod_ref) | (dev > 0.5 * iod_ref))
    marks[bad] = ref
    method[bad] = CENTRE_CROP
    out = ASSETS / f"landmarks_{name}.npz"
    ASSETS.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(out, paths=np.array(paths), landmarks=marks.astype(np.float16), method=method,
                        seconds=np.float32(elapsed))
    counts = {METHOD_NAMES[m]: int((method == m).sum()) for m in METHOD_NAMES}
    print(f"{name}: {len(paths)} faces in {elapsed:.1f}s ({1000 * elapsed / len(paths):.1f} ms/face), {counts}"
          f" -> {out.relative_to(Path.cwd()) if out.is_relative_to(Path.cwd()) else out}", flush=True)
    return out


if __name__ == "__main__":
    for dataset in sys.argv[1:] or ["lfw", "orl"]:
        compute(dataset)
