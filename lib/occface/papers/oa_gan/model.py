"""# OA-GAN: semi-supervised natural face de-occlusion

Cai, Han, Cui, Chen, Liu, Zhou, *Semi-Supervised Natural Face De-Occlusion*, TIFS 2020
(``papers/3-oa-gan-semi-supervised-natural-deocclusion.md``). This file reads top to bottom like Sec. III:

1. the generator (Sec. III-A, Table I): an *occlusion-aware module* that predicts the mask M and an
   intermediate face feature, the mask-filtered feature (Eq. 1), a *face completion module* and the blend
   (Eq. 2);
2. the discriminator (Sec. III-B, Table II): PatchGAN-like, with an adversarial and an attribute head (Eq. 3);
3. the losses of the alternating training (Sec. III-C): perceptual (Eq. 4), style (Eq. 5), pixel (Eq. 6),
   smoothness (Eq. 7), the L2 mask penalty and the adversarial term, combined for paired batches (Eq. 8)
   and for unpaired natural batches (Eq. 9).

**Polarity of M.** As the paper ("0 for occlusion and 1 otherwise") and the official code: M = 1 keeps the
input pixel. The project's masks are 1 over the hole, so :meth:`OAGAN.predict_mask` returns 1 - M.
Images are in [0,1] at every public boundary; the networks work in [-1,1] inside (tanh output, as Table I).
The schedule (paired / natural batches, WGAN-GP steps) lives in ``occface.papers.oa_gan.train``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ...nn.adversarial import GANLoss, gradient_penalty
from ...nn.blocks import ResidualBlock, conv_norm_act
from ...nn.losses import PerceptualStyle, masked_l1, total_variation
from ...profiles import ProfileConfig

# the ten CelebA attributes of Sec. III-B, in the paper's order (LFW's names: see ``natural.ATTRIBUTES``)
ATTRIBUTES = ("5_o_Clock_Shadow", "Goatee", "Heavy_Makeup", "Male", "Mustache", "No_Beard", "Pale_Skin",
              "Sideburns", "Wearing_Lipstick", "Young")
ABLATIONS = ("perceptual", "style", "smooth", "mask", "pixel")  # Table IV's rows (a)-(e)


@dataclass(frozen=True)
class NetConfig(ProfileConfig):
    """Network sizes; the defaults are the paper's (Tables I-II at 128x128); a profile gives size and widths."""
    image_size: int = 128
    width: int = 64          # first conv of the generator: 64 channels (Table I)
    res_blocks: int = 6      # "six residual blocks" (text; the garbled Table I row reads 3x); official: 6
    disc_width: int = 64     # first conv of the discriminator: 64 channels (Table II)
    attributes: int = 10     # 0 drops the attribute head (no attribute labels)
    # "deconv" = Table I and the official code (4x4/2 transposed convs); "resize" (beyond the paper; quick and
    # default): nearest x2 + 3x3 conv (Odena et al. 2016), since at our budgets the stacked deconvs print a
    # period-8 checkerboard into x_synth (the fills' stripes: spectrum peaks at H/8, H/4, H/2)
    upsample: str = "deconv"
    SHARED = {"image_size": "image_size", "width": "width", "disc_width": "width"}
    PER_PROFILE = {"quick": {"upsample": "resize"}, "default": {"upsample": "resize"}, "full": {}}


# ## 1. Generator (Sec. III-A, Table I)
def _down(cin: int, cout: int) -> nn.Sequential:
    """Conv 4x4/2 + IN + ReLU (IN without affine, the project's convention; official: affine IN, no bias)."""
    return conv_norm_act(cin, cout, 4, 2, norm="instance", act="relu")


def _up(cin: int, cout: int, upsample: str = "deconv") -> nn.Sequential:
    """Deconv 4x4/2 + IN + ReLU (Table I), or ``"resize"``: nearest x2, then conv 3x3 + IN + ReLU."""
    if upsample == "deconv":
        return conv_norm_act(cin, cout, 4, 2, norm="instance", act="relu", transpose=True)
    if upsample == "resize":
        return nn.Sequential(nn.Upsample(scale_factor=2, mode="nearest"),
                             conv_norm_act(cin, cout, 3, norm="instance", act="relu"))
    raise ValueError(f"unknown upsample {upsample!r}: use 'deconv' (Table I) or 'resize' (nearest + conv)")


class OcclusionAware(nn.Module):
    """Table I, top: 7x7 conv, two stride-2 convs, residual blocks, two deconvs -> the intermediate face
    feature (width x H x W); a 7x7 conv + sigmoid on it regresses the mask M (1 = keep)."""

    def __init__(self, cfg: NetConfig):
        super().__init__()
        w = cfg.width
        self.features = nn.Sequential(
            conv_norm_act(3, w, 7, norm="instance", act="relu"), _down(w, 2 * w), _down(2 * w, 4 * w),
            *[ResidualBlock(4 * w, norm="instance") for _ in range(cfg.res_blocks)],
            _up(4 * w, 2 * w, cfg.upsample), _up(2 * w, w, cfg.upsample))
        self.mask_head = nn.Conv2d(w, 1, 7, padding=3)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        feat = self.features(x)
        return feat, torch.sigmoid(self.mask_head(feat))


class FaceCompletion(nn.Module):
    """Table I, bottom: three 4x4/2 convs (to 8 x width at H/8), three deconvs, a 7x7 conv + tanh."""

    def __init__(self, cfg: NetConfig):
        super().__init__()
        w = cfg.width
        self.net = nn.Sequential(
            _down(w, 2 * w), _down(2 * w, 4 * w), _down(4 * w, 8 * w),
            _up(8 * w, 4 * w, cfg.upsample), _up(4 * w, 2 * w, cfg.upsample), _up(2 * w, w, cfg.upsample),
            nn.Conv2d(w, 3, 7, padding=3), nn.Tanh())

    def forward(self, feat_non_occ: Tensor) -> Tensor:
        return self.net(feat_non_occ)


def filter_features(feat: Tensor, keep: Tensor) -> Tensor:
    """Eq. 1: Feat_non_occ = M (.) Feat."""
    return keep * feat


def blend(x: Tensor, synth: Tensor, keep: Tensor) -> Tensor:
    """Eq. 2: x_final = M (.) x + (1 - M) (.) x_synth; an all-keep M returns x exactly."""
    return keep * x + (1 - keep) * synth


@dataclass
class GeneratorOutput:
    """``keep`` M (N,1,H,W), 1 = keep; ``synth`` x_synth and ``final`` x_final in [0,1]."""
    keep: Tensor
    synth: Tensor
    final: Tensor

    @property
    def hole(self) -> Tensor:
        return 1 - self.keep


class OAGAN(nn.Module):
    """The generator: occlusion-aware module -> Eq. 1 -> face completion module -> Eq. 2."""

    def __init__(self, cfg: NetConfig = NetConfig()):
        super().__init__()
        self.cfg = cfg
        self.aware = OcclusionAware(cfg)
        self.completion = FaceCompletion(cfg)

    def forward(self, images: Tensor) -> GeneratorOutput:
        feat, keep = self.aware(images * 2 - 1)
        synth = (self.completion(filter_features(feat, keep)) + 1) / 2
        return GeneratorOutput(keep, synth, blend(images, synth, keep))

    @torch.no_grad()
    def _run(self, images: Tensor, batch: int = 256) -> tuple[Tensor, Tensor]:
        """(hole, final) at the input's size; another size is resized to the model's and Eq. 2 is applied
        at the input's resolution with the upsampled mask, so kept pixels keep their detail. A non-square
        input (a recognizer's 112x96 crop of the same template) is moved onto the square template and back."""
        from ...eval.recognizers import resize_aligned

        was = self.training
        self.eval()
        device = next(self.parameters()).device
        size, s = tuple(images.shape[-2:]), self.cfg.image_size
        square = size[0] == size[1]
        holes, finals = [], []
        for x in images.float().split(batch):
            x = x.to(device)
            small = x if size == (s, s) else (
                F.interpolate(x, (s, s), mode="bilinear", antialias=True, align_corners=False) if square
                else resize_aligned(x, (s, s)))
            out = self(small)
            keep, synth = out.keep, out.synth
            if size != (s, s):
                keep, synth = ((F.interpolate(t, size, mode="bilinear", align_corners=False) if square
                                else resize_aligned(t, size)) for t in (keep, synth))
            holes.append((1 - keep).cpu())
            finals.append(blend(x, synth, keep).clamp(0, 1).cpu())
        self.train(was)
        return torch.cat(holes), torch.cat(finals)

    @torch.no_grad()
    def synthesize(self, images: Tensor) -> Tensor:
        """x_synth for faces at the model's size: the completion module's whole face before Eq. 2's blend (where
        upsampling artefacts show; ``eval.metrics.checkerboard_ratio``)."""
        was = self.training
        self.eval()
        synth = torch.cat([self(x).synth for x in images.float().split(256)])
        self.train(was)
        return synth

    def predict_mask(self, images: Tensor) -> Tensor:
        """(N,1,H,W) in [0,1], 1 = hole (the project's polarity: 1 - M), for ``registry.with_mask``."""
        return self._run(images)[0]

    def restore(self, images: Tensor) -> Tensor:
        """The ``Restorer`` contract: (N,3,H,W) in [0,1] -> x_final, same shape and range."""
        return self._run(images)[1]


# ## 2. Discriminator (Sec. III-B, Table II)
class Discriminator(nn.Module):
    """Conv 4x4/2 + LeakyReLU down to 2x2 (six layers, 64 -> 2048 channels at 128 px; log2(size) - 1 layers
    at other sizes), then a 3x3 adversarial head (1x2x2 critic scores) and a 2x2 attribute head (A x 1 x 1).
    LeakyReLU slope 0.01 as the official code (the paper does not say)."""

    def __init__(self, cfg: NetConfig = NetConfig()):
        super().__init__()
        layers, cin = [], 3
        for i in range(int(math.log2(cfg.image_size)) - 1):
            cout = cfg.disc_width * 2 ** i
            layers += [nn.Conv2d(cin, cout, 4, 2, 1), nn.LeakyReLU(0.01)]
            cin = cout
        self.features = nn.Sequential(*layers)
        self.adv = nn.Conv2d(cin, 1, 3, 1, 1)
        self.attr = nn.Conv2d(cin, cfg.attributes, 2) if cfg.attributes else None

    def forward(self, images: Tensor) -> tuple[Tensor, Tensor | None]:
        """(critic scores (N,1,2,2), attribute predictions (N,A) or None); input in [0,1]."""
        h = self.features(images * 2 - 1)
        return self.adv(h), (self.attr(h).flatten(1) if self.attr is not None else None)


def attribute_loss(pred: Tensor, target: Tensor, known: Tensor | None = None) -> Tensor:
    """L_attr of Eq. 3: mean squared error between predicted and true attributes (rows with labels only)."""
    err = (pred - target).pow(2).mean(1)
    if known is None:
        return err.mean()
    return (err * known).sum() / known.sum().clamp_min(1)


# ## 3. Losses (Sec. III-C)
@dataclass(frozen=True)
class LossWeights:
    """lambda_1..lambda_6 of Eq. 8 (Sec. IV-B: 0.05, 120, 1, 1e-3, -1, 1); gamma / delta of Eq. 6 and the
    attribute weight beta of Eq. 3, which the paper does not give, from the official code (hole 6, valid 1;
    attribute MSE/B x 2000 at its batch 48 = 2000/48 on a mean MSE); WGAN-GP lambda 10. ``known_mask``: the
    weight of :func:`mask_fit` on paired batches, a term neither the equations nor the official code have."""
    perceptual: float = 0.05
    style: float = 120.0
    pixel: float = 1.0
    smooth: float = 1e-3
    mask: float = -1.0
    adv: float = 1.0
    hole: float = 6.0
    valid: float = 1.0
    attr: float = 2000.0 / 48
    gp: float = 10.0
    pixel_on: str = "final"  # Eq. 6 as printed; "synth" = the official code's x_synth
    pixel_mask: str = "given"  # Eq. 6's weights: "given" | "learned" | "known" (see pixel_loss)
    # BCE of M against the synthetic occluder's mask on paired batches (see mask_fit); 0 = the printed Eqs. 8-9.
    # 10: chosen on the validation people (scripts/oa_gan_mask_eval.py --split val, default profile, 300 batches)
    known_mask: float = 10.0

    def without(self, drop: tuple[str, ...]) -> "LossWeights":
        """Table IV: the weights with the named terms (``ABLATIONS``) set to 0."""
        unknown = set(drop) - set(ABLATIONS)
        if unknown:
            raise ValueError(f"unknown ablation {sorted(unknown)}; valid: {', '.join(ABLATIONS)}")
        return replace(self, **{name: 0.0 for name in drop})


def perceptual_style(ps: PerceptualStyle, out: GeneratorOutput, gt: Tensor,
                     rows: slice = slice(None)) -> tuple[Tensor, Tensor]:
    """Eqs. 4-5: L1 between feature maps and between Gram matrices / (C H W), each for x_synth and for
    x_final against x_gt; phi is FaceNet's feature network in place of the paper's ImageNet VGG-16.
    ``rows``: the faces they are computed on (a mean over a sub-batch: the feature network is the cost)."""
    return ps((out.synth[rows], out.final[rows]), gt[rows])  # summed over both; x_gt's features once


PIXEL_MASKS = ("given", "learned", "known")


def pixel_loss(out: GeneratorOutput, gt: Tensor, hole: float, valid: float, on: str = "final",
               mask: str = "given", occluder: Tensor | None = None) -> Tensor:
    """Eq. 6 on x_final, as the paper writes it (``on="synth"``: the official code's x_synth):
    gamma |(1 - M)(x_final - x_gt)|_1 + delta |M (x_final - x_gt)|_1, means over N*C*H*W.

    ``mask="given"``: the weights (1 - M, M) carry no gradient; Eq. 6 is PConv's loss, whose mask is given,
    so M moves here only through x_final (Eq. 2) and x_synth (Eq. 1). ``"learned"`` differentiates the weights
    too (this project's earlier code): opening a hole raises a pixel's weight from delta to gamma, so the term
    pushes M towards "keep" wherever the error is not zero, the occluder included (the official code
    differentiates the mask on the prediction side only, with a detached M * x_gt target).
    ``"known"``: the weights are the synthetic occluder's mask ``occluder`` (1 = hole), PConv's given hole; the
    abstract's "paired images with known masks of artificial occlusions"."""
    if on not in ("final", "synth"):
        raise ValueError(f"pixel loss on 'final' or 'synth', got {on!r}")
    if mask not in PIXEL_MASKS:
        raise ValueError(f"Eq. 6's mask weights must be one of {PIXEL_MASKS}, got {mask!r}")
    if mask == "known" and occluder is None:
        raise ValueError("Eq. 6 with mask='known' needs the paired batch's occluder mask")
    weights = occluder if mask == "known" else out.hole.detach() if mask == "given" else out.hole
    return masked_l1(out.final if on == "final" else out.synth, gt, weights, hole=hole, valid=valid)


def mask_fit(out: GeneratorOutput, occluder: Tensor) -> Tensor:
    """Binary cross-entropy between the predicted hole 1 - M and the synthetic occluder's mask (1 = hole),
    mean over N*H*W, on paired batches only (natural batches have no mask: Eq. 9 is unchanged).

    The paper learns from "paired images with known masks of artificial occlusions" (abstract) but prints
    no term that uses those masks, and the official code never does; without one, M's only pull towards
    "hole" is the indirect one through x_final (Eq. 2). At initialisation (default profile) that pull, Eq. 6's
    +5e-6 per occluder pixel, loses to Eq. 7's TV of the still noisy x_final (-4.6e-5) and lambda_5 (-1.6e-5);
    this term at weight 1 gives +3.4e-5 (``scripts/oa_gan_mask_gradient.py``). Beyond Eqs. 8-9 (paper's
    abstract, not the official code); ``LossWeights.known_mask = 0`` turns it off."""
    hole = out.hole.clamp(1e-6, 1 - 1e-6)  # BCE on the probability: the sigmoid's logit is not kept
    return F.binary_cross_entropy(hole, occluder.to(hole.dtype))


def smooth_loss(out: GeneratorOutput) -> Tensor:
    """Eq. 7: anisotropic TV of x_final plus that of M, summed over the pixels of each image (the equation's
    sum; TV's per-pair mean times the pixels per image) and averaged over the batch."""
    return (total_variation(out.final) * out.final[0].numel()
            + total_variation(out.keep) * out.keep[0].numel())


def mask_penalty(out: GeneratorOutput) -> Tensor:
    """||M||_2^2 of Eqs. 8-9 per pixel (the official code's -mean(M)^2 is per pixel too; the paper's sum
    over 128x128 pixels would dwarf every other term). With lambda_5 = -1 it grows M, i.e. shrinks the hole."""
    return out.keep.pow(2).mean()


def generator_losses(out: GeneratorOutput, disc: Discriminator, w: LossWeights, gt: Tensor | None = None,
                     ps: PerceptualStyle | None = None, attrs: Tensor | None = None,
                     known: Tensor | None = None, perceptual_rows: slice = slice(None),
                     occluder: Tensor | None = None) -> dict[str, Tensor]:
    """Eq. 8 on a paired batch (``gt`` given) or Eq. 9 on a natural batch (``gt`` None): the weighted terms
    and their sum ``total``. The attribute term (AC-GAN style, through D's head) joins the adversarial
    one on paired batches only, as the paper says (the official code uses it on natural batches too).
    ``occluder``: the paired batch's synthetic occluder mask (1 = hole), for ``pixel_mask="known"`` and the
    ``known_mask`` term (:func:`mask_fit`)."""
    critic = GANLoss("wgan")
    scores, attr_pred = disc(out.final)
    terms = {"adv": w.adv * critic.g_loss(scores), "smooth": w.smooth * smooth_loss(out),
             "mask": w.mask * mask_penalty(out)}
    if gt is not None:
        if ps is not None and (w.perceptual or w.style):
            perc, style = perceptual_style(ps, out, gt, perceptual_rows)
            terms["perceptual"], terms["style"] = w.perceptual * perc, w.style * style
        terms["pixel"] = w.pixel * pixel_loss(out, gt, w.hole, w.valid, w.pixel_on, w.pixel_mask, occluder)
        if w.known_mask:
            if occluder is None:
                raise ValueError("known_mask > 0 needs the paired batch's occluder mask")
            terms["known_mask"] = w.known_mask * mask_fit(out, occluder)
        if attrs is not None and attr_pred is not None:
            terms["attr"] = w.adv * w.attr * attribute_loss(attr_pred, attrs, known)
    terms["total"] = sum(terms.values())
    return terms


def discriminator_losses(disc: Discriminator, real: Tensor, fake: Tensor, w: LossWeights,
                         attrs: Tensor | None = None, known: Tensor | None = None,
                         alpha: Tensor | None = None) -> dict[str, Tensor]:
    """Eq. 3: L_D = alpha L_adv + beta L_attr, with L_adv the WGAN critic loss plus the gradient penalty
    (WGAN-GP, Sec. IV-B; one step here, the official code steps the penalty separately) and L_attr the
    attribute MSE on real clean faces (paired batches only). alpha = 1; ``alpha`` here is WGAN-GP's mix."""
    fake = fake.detach()
    real_scores, real_attr = disc(real)
    fake_scores, _ = disc(fake)
    terms = {"adv": GANLoss("wgan").d_loss(real_scores, fake_scores),
             "gp": gradient_penalty(lambda z: disc(z)[0], real, fake, weight=w.gp, alpha=alpha)}
    if attrs is not None and real_attr is not None:
        terms["attr"] = w.attr * attribute_loss(real_attr, attrs, known)
    terms["total"] = sum(terms.values())
    return terms
