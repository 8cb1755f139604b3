"""OA-GAN (issue 24): train one configuration and measure its mask and its removal.

Prints mask IoU (all kinds, sunglasses), the predicted hole on clean faces (fraction of the image),
PSNR(output, clean input), PSNR and hole PSNR (inside the true occluder mask) of the output and of the
occluded input, the mask's recall and precision, the hole PSNR of x_synth (the completion module's face inside
the true hole: what Eq. 2 would give with a perfect mask, the fill's own quality), the checkerboard ratio of x_synth (``eval.metrics.checkerboard_ratio``; ~1 = no stripes), and saves a figure (input, predicted hole, output, ground truth; then clean faces).

``--split val``: the weights are chosen here. The training people are split by person (seeded): the model
trains without the held-out fifth, which is then occluded with the *unseen* templates and scored. Its
checkpoints share the cache keys of full-data models, so run it under its own ``OCCFACE_CACHE``.
``--split test``: the full-data model on LFW's test people (``oa_gan.tables.test_set``), for reporting only.

    python scripts/oa_gan_mask_eval.py --profile quick --split val --set pixel_mask=learned
    python scripts/oa_gan_mask_eval.py --profile default --split val --cfg steps=300 --set known_mask=0 \
        --cfg clean_share=0     # Eqs. 8-9 as printed: no mask supervision (the former default)
"""

from __future__ import annotations

import argparse
import dataclasses
import json

import numpy as np
import torch

from occface.eval.metrics import checkerboard_ratio, masked_psnr, psnr
from occface.papers.oa_gan import natural, tables
from occface.papers.oa_gan.train import OAGANConfig, train_oa_gan
from occface.runtime import seed_everything
from occface.train import set_precision

VAL_SHARE = 0.2


def hole_psnr(images: torch.Tensor, clean: torch.Tensor, mask: torch.Tensor) -> np.ndarray:
    """Per-image PSNR (dB) inside the occluder's mask (``eval.metrics.masked_psnr``)."""
    return masked_psnr(images, clean, mask, per_image=True)


def split_people(data: natural.OAGANData, seed: int) -> tuple[natural.OAGANData, torch.Tensor]:
    """(training data without the held-out people, indices of the held-out faces)."""
    people = data.identity.unique()
    g = torch.Generator().manual_seed(seed + 4242)
    held = people[torch.randperm(len(people), generator=g)[: int(len(people) * VAL_SHARE)]]
    out = torch.isin(data.identity, held)
    keep = lambda idx: idx[~out[idx]]  # noqa: E731
    train = dataclasses.replace(data, natural=keep(data.natural), clean=keep(data.clean), paired=keep(data.paired))
    clean_val = data.clean[out[data.clean]]
    return train, clean_val


def evaluate(model, occluded, clean, mask, kinds) -> dict[str, float]:
    hole = model.predict_mask(occluded)
    out = model.restore(occluded)
    iou = tables.mask_iou(hole, mask)
    kinds = np.array(kinds)
    clean_hole = model.predict_mask(clean)
    found, true = (hole > tables.THRESHOLD).float(), (mask > 0.5).float()
    synth = model.synthesize(occluded)  # x_synth inside the true hole: the fill, apart from where M failed
    hole_out, hole_in = hole_psnr(out, clean, mask), hole_psnr(occluded, clean, mask)
    return {"IoU all": float(iou.mean()),
            "IoU sunglasses": float(iou[kinds == "sunglasses"].mean()) if (kinds == "sunglasses").any() else None,
            "predicted area (occluded)": float(found.mean()),
            "true area": float(mask.mean()),
            "clean: predicted area": float((clean_hole > tables.THRESHOLD).float().mean()),
            "clean: PSNR(output, input)": psnr(model.restore(clean), clean),
            "PSNR output": psnr(out, clean), "PSNR input": psnr(occluded, clean),
            "hole PSNR output": float(hole_out.mean()),
            "hole PSNR input": float(hole_in.mean()),
            "hole PSNR gain": float((hole_out - hole_in).mean()),
            "mask recall": float((found * true).sum() / true.sum()),
            "mask precision": float((found * true).sum() / found.sum().clamp_min(1)),
            "hole PSNR x_synth": float(hole_psnr(synth, clean, mask).mean()),
            "checkerboard ratio x_synth": checkerboard_ratio(synth),
            "checkerboard ratio ground truth": checkerboard_ratio(clean)}


def figure(model, occluded, clean, path: str, n: int = 8) -> None:
    from occface.plots import image_grid

    rows = {"occluded": occluded[:n], "predicted hole": model.predict_mask(occluded[:n]).expand(-1, 3, -1, -1),
            "output": model.restore(occluded[:n]), "ground truth": clean[:n],
            "clean input": clean[n:2 * n], "its hole": model.predict_mask(clean[n:2 * n]).expand(-1, 3, -1, -1),
            "its output": model.restore(clean[n:2 * n])}
    image_grid(rows).savefig(path, dpi=110, bbox_inches="tight")


def parse_value(text: str):
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="quick")
    parser.add_argument("--split", choices=("val", "test"), default="val")
    parser.add_argument("--set", action="append", default=[], help="LossWeights field=value (JSON value)")
    parser.add_argument("--cfg", action="append", default=[], help="OAGANConfig field=value (JSON value)")
    parser.add_argument("--images", type=int, default=0, help="evaluation faces (0: the tables' count)")
    parser.add_argument("--figure", default="")
    parser.add_argument("--precision", choices=("profile", "fp32"), default="profile",
                        help="training precision: the profile's, as notebook 30 (bf16 at default where the CPU "
                             "has it), or fp32 (the issue-24 validation runs)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    seed_everything(0)  # as notebook 30's start_notebook: its checkpoints are the notebook's
    set_precision(args.precision if args.precision == "fp32" else args.profile)
    weights = dict(s.split("=", 1) for s in args.set)
    overrides = {k: parse_value(v) for k, v in (s.split("=", 1) for s in args.cfg)}
    cfg = OAGANConfig.for_profile(args.profile, **overrides)
    cfg = dataclasses.replace(cfg, weights=dataclasses.replace(cfg.weights, **{k: parse_value(v)
                                                                             for k, v in weights.items()}))
    images = args.images or tables.Knobs.for_profile(cfg.profile).eval_images
    if args.split == "val":
        data = natural.load_data(cfg.net.image_size, max_images=cfg.max_train_images, seed=cfg.seed)
        train, held = split_people(data, cfg.seed)
        trained = train_oa_gan(cfg, data=train)
        held = held[:images]
        clean = data.images[held]
        occluded, mask, kinds = natural.occlude_rotated(clean, data.landmarks[held], seed=cfg.seed + 7,
                                                        templates="test")
        clean_faces = data.images[held.flip(0)]
    else:
        trained = train_oa_gan(cfg)
        test = tables.test_set(cfg.net.image_size, images, cfg.seed)
        occluded, clean, mask, kinds = test.occluded, test.clean, test.mask, test.kinds
        clean_faces = clean
    scores = evaluate(trained.model, occluded, clean, mask, kinds)
    scores["clean: predicted area"] = float((trained.model.predict_mask(clean_faces) > tables.THRESHOLD)
                                            .float().mean())
    print(json.dumps({"profile": cfg.profile, "split": args.split, "faces": len(clean), "weights": weights,
                      "cfg": overrides, "checkpoint": trained.checkpoint,
                      **{k: (round(v, 4) if isinstance(v, float) else v) for k, v in scores.items()}}))
    if args.figure:
        figure(trained.model, occluded, clean, args.figure)


if __name__ == "__main__":
    main()
