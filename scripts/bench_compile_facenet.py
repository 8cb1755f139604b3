"""Does ``torch.compile`` speed up FaceNet in a training step? (issue 23: "compiled losses where compile is
reliable"). One thread, bf16 CPU autocast as at ``default``: the trunk's features of a few faces, forward and
backward to the images (as the perceptual, style and identity losses use it), eager against compiled, the two
alternated in one process; CPU time of the process, so other processes on the cores barely move the ratio.

    python scripts/bench_compile_facenet.py --faces 4 --steps 5 --rounds 3

The weights are FaceNet's architecture at its initialisation (cost, not accuracy, is measured).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import torch  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lib"))

from occface.pretrained.facenet import FaceNet, InceptionResNetV1, prewhiten  # noqa: E402


def step(features, images: torch.Tensor) -> torch.Tensor:
    """One forward + backward of a loss on every feature level; returns the gradient on the images."""
    x = images.clone().requires_grad_(True)
    with torch.autocast("cpu", torch.bfloat16):
        loss = sum(f.float().square().mean() for f in features(x))
    loss.backward()
    return x.grad


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--faces", type=int, default=4)
    parser.add_argument("--size", type=int, default=64, help="face size before FaceNet's 160 px chips")
    parser.add_argument("--steps", type=int, default=5, help="timed steps per round and setting")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    facenet = FaceNet(InceptionResNetV1())
    images = torch.rand(args.faces, 3, args.size, args.size)
    with torch.autocast("cpu", torch.bfloat16):
        trunk = facenet.trunk()  # the bf16 channels_last copy a bf16 training step runs
    compiled_trunk = torch.compile(trunk.features)
    settings = {"eager": facenet.features,
                "compiled": lambda x: compiled_trunk(prewhiten(facenet.chips(x)))}
    grads = {}
    for name, features in settings.items():
        start = time.process_time()
        grads[name] = step(features, images)
        print(f"{name:9s} first step (compile included): {time.process_time() - start:.1f} CPU-s", flush=True)
    cosine = torch.nn.functional.cosine_similarity(grads["eager"].flatten(), grads["compiled"].flatten(), dim=0)
    print(f"gradient cosine, compiled vs eager: {cosine.item():.4f}")
    spent = dict.fromkeys(settings, 0.0)
    for _ in range(args.rounds):
        for name, features in settings.items():
            start = time.process_time()
            for _ in range(args.steps):
                step(features, images)
            spent[name] += time.process_time() - start
    per_step = {name: s / (args.rounds * args.steps) for name, s in spent.items()}
    print(", ".join(f"{name} {t:.3f} CPU-s/step" for name, t in per_step.items()),
          f"-> compiled / eager speed {per_step['eager'] / per_step['compiled']:.2f}x")


if __name__ == "__main__":
    main()
