"""Occlusion synthesis rate on ONE CPU core: occface.occlude vs a naive per-image PIL paste loop.

    OCCFACE_DATA=/work/shared/data python scripts/bench_occlusion.py [--n 2048] [--size 128]

Both paste random templates of all nine kinds at FROM Alg. 1 positions (random centre, scale S) on the
same 128x128 faces; occlude() runs in batches of 256 (a training batch). Prints faces/s and the ratio.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lib"))

from occface.faces.occlusion import KINDS, _occluder_root, occlude, template_names  # noqa: E402


def naive(images: torch.Tensor, kind: str, scale: float, rng: np.random.Generator, cache: dict) -> torch.Tensor:
    """The usual per-image loop: tensor -> PIL, resize template, alpha paste, PIL -> tensor."""
    folder = _occluder_root(None)
    names = template_names(kind, "train")
    out = []
    n, _, h, w = images.shape
    for img in images:
        name = names[rng.integers(len(names))]
        if name not in cache:
            occ = Image.open(folder / name).convert("RGBA")
            occ = occ.crop(occ.getchannel("A").getbbox())
            f = 0.45 * w / max(occ.size)
            cache[name] = occ.resize((max(1, int(occ.width * f)), max(1, int(occ.height * f))))
        occ = cache[name]
        ow, oh = min(w - 1, int(scale * occ.width)), min(h - 1, int(scale * occ.height))
        occ = occ.resize((ow, oh))
        cx, cy = rng.integers(w), rng.integers(h)
        pil = Image.fromarray((img.permute(1, 2, 0).numpy() * 255).astype(np.uint8))
        pil.paste(occ, (cx - ow // 2, cy - oh // 2), occ)
        out.append(torch.from_numpy(np.asarray(pil)).permute(2, 0, 1).float() / 255)
    return torch.stack(out)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=2048)
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--batch", type=int, default=256)
    args = parser.parse_args()
    torch.set_num_threads(1)
    gen = torch.Generator().manual_seed(0)
    faces = torch.rand(args.n, 3, args.size, args.size, generator=gen)
    occlude(faces[:4], "hand", 1.0, "random")  # template banks built outside the timing
    for kind in KINDS:
        occlude(faces[:2], kind, 1.0, "random")
    print(f"occlude(): {args.n} faces of {args.size}x{args.size}, batches of {args.batch}, 1 thread")
    rates = {}
    for placement, scale in (("random", 1.0), ("random", 2.0), ("random", 3.0), ("semantic", 1.0)):
        start = time.perf_counter()
        for i, batch in enumerate(faces.split(args.batch)):
            occlude(batch, KINDS[i % len(KINDS)], scale, placement, seed=i)
        rates[(placement, scale)] = args.n / (time.perf_counter() - start)
        print(f"  {placement:8s} S={scale:.1f}: {rates[(placement, scale)]:7.0f} faces/s", flush=True)
    rng, cache = np.random.default_rng(0), {}
    m = min(args.n, 512)
    for kind in KINDS:  # warm the naive loop's template cache too
        naive(faces[:2], kind, 1.0, rng, cache)
    start = time.perf_counter()
    for i, batch in enumerate(faces[:m].split(args.batch)):
        naive(batch, KINDS[i % len(KINDS)], 1.0, rng, cache)
    naive_rate = m / (time.perf_counter() - start)
    print(f"naive PIL loop  S=1.0: {naive_rate:7.0f} faces/s  ({m} faces)")
    print(f"ratio occlude()/naive at S=1: {rates[('random', 1.0)] / naive_rate:.1f}x")


if __name__ == "__main__":
    main()
