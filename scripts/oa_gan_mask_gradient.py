"""OA-GAN (issue 24): which way does each loss term push the mask M at initialisation?

For one paired training batch (LFW training people, training occluder templates) and a freshly initialised
generator and critic at a profile's sizes, prints the mean dL/dM of every weighted term of Eq. 8 over the
occluder pixels and over the other pixels, M = 1 meaning "keep". A gradient step moves M by -lr * dL/dM:
dL/dM > 0 on occluder pixels opens the hole there (the wanted direction), < 0 keeps the occluder.
The pixel term (Eq. 6) is shown three ways: weights from the learned mask and differentiated ("learned", the
former code), weights from the learned mask but detached ("given") and weights from the true occluder mask
("known"); the BCE of M against the known synthetic mask (``known_mask``, :func:`model.mask_fit`) at weight 1.
``--checkpoint`` measures a trained generator and critic instead (e.g. after 300 steps).

    python scripts/oa_gan_mask_gradient.py --profile default --batch 16
    python scripts/oa_gan_mask_gradient.py --profile default --checkpoint $OCCFACE_CACHE/.../oa-gan-<key>.pt
"""

from __future__ import annotations

import argparse
import dataclasses
import json

import torch

from occface.faces.pairs import step_generator
from occface.nn.losses import PerceptualStyle, masked_l1
from occface.papers.oa_gan.model import (OAGAN, Discriminator, GeneratorOutput, generator_losses, mask_fit,
                                         pixel_loss)
from occface.papers.oa_gan.train import OAGANConfig, _init_generator, training_data
from occface.runtime import seed_everything


def mean_grad(term: torch.Tensor, keep: torch.Tensor, where: torch.Tensor) -> float:
    """Mean of d term / d M over the pixels where ``where`` is 1."""
    grad, = torch.autograd.grad(term, keep, retain_graph=True, allow_unused=True)
    if grad is None:
        return 0.0
    return float((grad * where).sum() / where.sum().clamp_min(1))


def mask_gradients(cfg: OAGANConfig, batch: int, seed: int = 0, features: bool = True,
                   checkpoint: str = "") -> dict[str, tuple]:
    """{term: (mean dL/dM on occluder pixels, on the other pixels, the term's value, on the non-occluder pixels
    of the face's bottom third)} for one paired batch, at
    initialisation or with the generator and critic of ``checkpoint`` (a trained OA-GAN's file)."""
    data = training_data(cfg.net.image_size, cfg.max_train_images, cfg.seed, cfg.attributes)
    net = dataclasses.replace(cfg.net, attributes=data.attributes)
    seed_everything(seed)
    gen, disc = OAGAN(net), Discriminator(net)
    gen.apply(_init_generator)
    if checkpoint:
        from occface.train import load_checkpoint
        state = load_checkpoint(checkpoint)["modules"]
        gen.load_state_dict(state["gen"])
        disc.load_state_dict(state["disc"])
    b = data.paired_batch(step_generator(seed, 0), batch)
    feat, keep = gen.aware(b.occluded * 2 - 1)
    keep = keep.detach().requires_grad_(True)  # the leaf we differentiate against; the graph after M is intact
    synth = (gen.completion(feat.detach() * keep) + 1) / 2
    out = GeneratorOutput(keep, synth, keep * b.occluded + (1 - keep) * synth)
    ps = None
    if features:
        from occface.nn.identity import feature_network
        ps = PerceptualStyle(feature_network())
    w = cfg.weights
    terms = generator_losses(out, disc, w, b.clean, ps, b.attrs, b.known, occluder=b.mask)
    terms.pop("total")
    occ = b.mask
    rest = 1 - occ
    lower = torch.zeros_like(occ)
    lower[..., 2 * occ.shape[-2] // 3:, :] = 1  # the bottom third of the face (mouth and chin)
    lower = lower * rest
    rows = {}
    for name, term in terms.items():
        rows[name] = (mean_grad(term, keep, occ), mean_grad(term, keep, rest), float(term.detach()),
                      mean_grad(term, keep, lower))
    for label, weights in (("pixel, weights learned (former code)", "learned"),
                           ("pixel, weights given (detached; now)", "given")):
        term = w.pixel * pixel_loss(out, b.clean, w.hole, w.valid, w.pixel_on, weights)
        rows[label] = (mean_grad(term, keep, occ), mean_grad(term, keep, rest), float(term.detach()),
                       mean_grad(term, keep, lower))
    from occface.nn.losses import total_variation
    for label, t in (("smooth: TV of M only", out.keep), ("smooth: TV of x_final only", out.final)):
        term = w.smooth * total_variation(t) * t[0].numel()
        rows[label] = (mean_grad(term, keep, occ), mean_grad(term, keep, rest), float(term.detach()),
                       mean_grad(term, keep, lower))
    x = out.final if w.pixel_on == "final" else out.synth
    term = w.pixel * masked_l1(x, b.clean, occ, hole=w.hole, valid=w.valid)
    rows["pixel, weights known (true mask)"] = (mean_grad(term, keep, occ), mean_grad(term, keep, rest),
                                                float(term.detach()), mean_grad(term, keep, lower))
    term = mask_fit(out, occ)
    rows["known-mask BCE, weight 1"] = (mean_grad(term, keep, occ), mean_grad(term, keep, rest),
                                        float(term.detach()), mean_grad(term, keep, lower))
    rows["(mean M on occluder px / other px)"] = (float((keep * occ).sum() / occ.sum()),
                                                  float((keep * rest).sum() / rest.sum()), 0.0, 0.0)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="default")
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--mask-weight", type=float, default=None, help="lambda_5 (default: the config's)")
    parser.add_argument("--smooth-weight", type=float, default=None, help="lambda_4 (default: the config's)")
    parser.add_argument("--checkpoint", default="", help="a trained OA-GAN checkpoint file (default: at init)")
    parser.add_argument("--no-features", action="store_true", help="skip the perceptual / style terms")
    parser.add_argument("--set", action="append", default=[], help="LossWeights field=value (JSON value)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    cfg = OAGANConfig.for_profile(args.profile)
    changes = {k: v for k, v in (("mask", args.mask_weight), ("smooth", args.smooth_weight)) if v is not None}
    changes |= {k: json.loads(v) for k, v in (s.split("=", 1) for s in args.set)}
    cfg = dataclasses.replace(cfg, weights=dataclasses.replace(cfg.weights, **changes))
    runs = [mask_gradients(cfg, args.batch, seed, not args.no_features, args.checkpoint)
            for seed in range(args.seeds)]
    state = f"from {args.checkpoint}" if args.checkpoint else "at initialisation"
    print(f"OA-GAN {state}, profile {args.profile} ({cfg.net.image_size} px), batch {args.batch}, "
          f"{args.seeds} seeds; weights {cfg.weights}")
    print("mean dL/dM (M = 1 keeps; > 0 on occluder pixels opens the hole there)")
    print(f"{'term':42s} {'occluder px':>12s} {'other px':>12s} {'lower third':>12s} {'loss':>10s}")
    for name in runs[0]:
        occ, rest, value, lower = (sum(r[name][j] for r in runs) / len(runs) for j in range(4))
        print(f"{name:42s} {occ:12.3e} {rest:12.3e} {lower:12.3e} {value:10.4f}")


if __name__ == "__main__":
    main()
