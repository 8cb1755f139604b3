"""# CA / DeepFill v1: generative inpainting with contextual attention

Yu, Lin, Yang, Shen, Lu, Huang, *Generative Image Inpainting with Contextual Attention*, CVPR 2018.
One method under three names: FSG-GAN's "DeepFill" (its ref. [49]), OA-GAN's "GnIpt" (ref. [5]) and ID-GAN's
"CA" (ref. [22]) all cite this same CVPR 2018 paper, so it is registered once, as ``deepfill``; its aliases
map the papers' names to it. Facts the paper leaves out come from the official TF code (v1.0.0,
``inpaint_model.py``; /work/shared/papers/official-code-notes.md, Sec. 4). The file reads like Sec. 3-4:

1. the coarse network (Sec. 3.1): a dilated encoder-decoder on [x, 1, M];
2. the refinement network (Sec. 3.1, Fig. 4): a dilated branch beside a contextual-attention branch
   (Sec. 4.1, ``occface.nn.blocks.ContextualAttention``), concatenated and decoded;
3. the losses (Sec. 3.1): spatially discounted L1 (gamma = 0.9) on both stages + global/local WGAN-GP.

Also here, shared by the other inpainting baselines of this package: :func:`face_pairs` (the training
set) and :func:`composite` (an inpainter at its training size that keeps the known pixels).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..faces.pairs import TrainingPairs, occlude_mixed
from ..nn.adversarial import GANLoss, gradient_penalty
from ..nn.blocks import ContextualAttention, conv_norm_act
from ..nn.discriminators import GlobalLocalCritic
from ..nn.gan import GANSteps
from ..nn.losses import spatial_discount
from ..profiles import BASELINE_SHARED, Profile, ProfileConfig
from ..registry import Trained, register


# ## Shared by the inpainting baselines: training pairs and the inpainter wrapper
def face_pairs(image_size: int, max_images: int, seed: int, copies: int = 1) -> TrainingPairs:
    """LFW training identities (``load_faces(split="train")``), each face occluded ``copies`` times by one of
    the nine occluder kinds from the *training* half of the templates, placed on the landmarks."""
    from ..faces.data import load_faces

    faces = load_faces("lfw", size=image_size, split="train", max_images=max_images, seed=seed)
    draws = [occlude_mixed(faces.images, seed=seed * 97 + v, templates="train", placement="semantic",
                           landmarks=faces.landmarks) for v in range(copies)]
    return TrainingPairs(occluded=torch.cat([d.images for d in draws]), clean=faces.images.repeat(copies, 1, 1, 1),
                         identity=faces.identity.repeat(copies), mask=torch.cat([d.mask for d in draws]),
                         kinds=[k for d in draws for k in d.kinds])


def composite(predict: Callable[[Tensor, Tensor], Tensor], size: int) -> Callable[[Tensor, Tensor], Tensor]:
    """An ``Inpainter``: ``predict(images, mask)`` ([0,1], 1 = hole) runs at its training ``size`` (input
    resized there and the prediction back), then the hole is pasted into the input, so known pixels are
    returned unchanged (``keeps_known``)."""
    @torch.no_grad()
    def inpaint(images: Tensor, mask: Tensor) -> Tensor:
        hw = images.shape[-2:]
        x, m = images.float(), mask.float()
        if hw != (size, size):
            x = F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False, antialias=True)
            m = (F.adaptive_max_pool2d(m, (size, size)) if hw[0] >= size else
                 F.interpolate(m, size=(size, size), mode="nearest"))
        y = predict(x * (1 - m), m).clamp(0, 1)
        if hw != (size, size):
            y = F.interpolate(y, size=hw, mode="bilinear", align_corners=False).clamp(0, 1)
        return torch.where(mask.bool().expand_as(images), y.to(images.dtype), images)
    return inpaint


# ## Configuration
@dataclass(frozen=True)
class DeepFillConfig(ProfileConfig):
    """``full``: the official sizes (cnum 32, critics 64) and schedule at 128 px; smaller profiles shrink."""
    profile: str
    image_size: int
    width: int              # cnum; official 32
    critic_width: int       # official 64
    batch: int              # official 16
    steps: int
    lr: float = 1e-4        # official Adam 1e-4, betas (0.5, 0.9)
    d_steps: int = 5        # official: 5 critic steps per generator step
    gamma: float = 0.9      # spatial discount (official inpaint.yml)
    coarse: float = 1.2     # COARSE_L1_ALPHA: weight of the coarse stage inside the L1 and AE terms
    l1: float = 1.2         # L1_LOSS_ALPHA (hole, discounted)
    ae: float = 1.2         # AE_LOSS_ALPHA (known pixels)
    gan: float = 0.001      # GAN_LOSS_ALPHA
    gp: float = 10.0        # WGAN_GP_LAMBDA
    max_train_images: int = 0
    copies: int = 1         # occlusions drawn per training face
    seed: int = 0
    masks: str = "occluders"  # training holes: "occluders" (our templates, in-domain) | "generic" (MASK_SOURCES)

    # quick/default: narrower nets, a larger lr, fewer critic steps per G step (and at default fewer steps:
    # ~0.3 s a step on one CPU thread) to fit a CPU budget
    SHARED = BASELINE_SHARED
    PER_PROFILE = {
        "quick": dict(width=4, critic_width=4, batch=8, lr=1e-3, d_steps=1),
        "default": dict(width=8, critic_width=12, batch=16, lr=4e-4, d_steps=2, copies=2, steps=1000),
        "full": dict(width=32, critic_width=64, batch=16, lr=1e-4, d_steps=5, copies=2),
    }


MASK_SOURCES = ("occluders", "generic")


def generic_pairs(image_size: int, max_images: int, seed: int, copies: int = 1) -> TrainingPairs:
    """The LFW training faces of :func:`face_pairs`, each given ``copies`` generic holes (free-form strokes or
    a rectangle, ``faces.masks``) instead of an occluder: what an off-the-shelf DeepFill learns from."""
    from ..faces.data import load_faces
    from ..faces.masks import hole_pairs

    faces = load_faces("lfw", size=image_size, split="train", max_images=max_images, seed=seed)
    draws = [hole_pairs(faces.images, seed=seed * 97 + v) for v in range(copies)]
    return TrainingPairs(occluded=torch.cat([d[0] for d in draws]), clean=faces.images.repeat(copies, 1, 1, 1),
                         identity=faces.identity.repeat(copies), mask=torch.cat([d[1] for d in draws]),
                         kinds=["generic"] * (len(faces) * copies))


def training_data(cfg: DeepFillConfig) -> TrainingPairs:
    """The training pairs ``cfg.masks`` names."""
    if cfg.masks not in MASK_SOURCES:
        raise ValueError(f"DeepFillConfig.masks must be one of {MASK_SOURCES}, got {cfg.masks!r}")
    pairs = generic_pairs if cfg.masks == "generic" else face_pairs
    return pairs(cfg.image_size, cfg.max_train_images, cfg.seed, cfg.copies)


def checkpoint_key(cfg: DeepFillConfig) -> dict:
    """The config as the checkpoint key; the in-domain default leaves ``masks`` out, so the ``deepfill``
    checkpoints trained before the field existed keep their names."""
    key = dataclasses.asdict(cfg)
    if key["masks"] == "occluders":
        key.pop("masks")
    return key


# ## 1. Coarse network (Sec. 3.1)
def _conv(cin: int, cout: int, k: int = 3, stride: int = 1, dilation: int = 1, act: str = "elu") -> nn.Module:
    """The official ``gen_conv``: a same-padded conv with ELU (no normalisation)."""
    return conv_norm_act(cin, cout, k, stride, dilation, norm="none", act=act)


def _up(cin: int, cout: int) -> nn.Module:
    """The official ``gen_deconv``: nearest-neighbour x2, then a 3x3 conv."""
    return nn.Sequential(nn.Upsample(scale_factor=2, mode="nearest"), _conv(cin, cout))


def _dilated(c: int) -> list[nn.Module]:
    return [_conv(c, c, dilation=r) for r in (2, 4, 8, 16)]


def _decoder(c: int) -> nn.Sequential:
    """conv 4c, 4c, up 2c, 2c, up c, c/2, 3 (no activation), as both stages of the official net end."""
    return nn.Sequential(_conv(4 * c, 4 * c), _conv(4 * c, 4 * c), _up(4 * c, 2 * c), _conv(2 * c, 2 * c),
                         _up(2 * c, c), _conv(c, max(c // 2, 1)), _conv(max(c // 2, 1), 3, act="none"))


class CoarseNet(nn.Module):
    """Sec. 3.1 / official stage 1: [x, 1, M] -> 5x5 c -> /2 2c -> 2c -> /2 4c -> 4c -> 4c -> dilated 4c at
    rates 2, 4, 8, 16 -> decoder; the output is clipped to [-1, 1] as the official net does."""

    def __init__(self, c: int):
        super().__init__()
        self.net = nn.Sequential(_conv(5, c, 5), _conv(c, 2 * c, stride=2), _conv(2 * c, 2 * c),
                                 _conv(2 * c, 4 * c, stride=2), _conv(4 * c, 4 * c), _conv(4 * c, 4 * c),
                                 *_dilated(4 * c), _decoder(c))

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x).clamp(-1, 1)


# ## 2. Refinement network with contextual attention (Sec. 3.1, Sec. 4.1, Fig. 4)
class RefineNet(nn.Module):
    """Two parallel encoders on the stage-1 composite: a dilated one (hallucination) and one whose 1/4-scale
    features pass through contextual attention (Sec. 4.1: foreground = background = those features, the
    mask excludes hole patches); concatenated, then the stage-1 decoder layout."""

    def __init__(self, c: int):
        super().__init__()
        self.hallucinate = nn.Sequential(_conv(5, c, 5), _conv(c, c, stride=2), _conv(c, 2 * c),
                                         _conv(2 * c, 2 * c, stride=2), _conv(2 * c, 4 * c), _conv(4 * c, 4 * c),
                                         *_dilated(4 * c))
        self.encode = nn.Sequential(_conv(5, c, 5), _conv(c, c, stride=2), _conv(c, 2 * c),
                                    _conv(2 * c, 4 * c, stride=2), _conv(4 * c, 4 * c), _conv(4 * c, 4 * c, act="relu"))
        self.attention = ContextualAttention(patch=3, rate=2, softmax_scale=10.0, fuse=True)
        self.after = nn.Sequential(_conv(4 * c, 4 * c), _conv(4 * c, 4 * c))
        self.decode = nn.Sequential(_conv(8 * c, 4 * c), *list(_decoder(c))[1:])

    def forward(self, x: Tensor, mask: Tensor) -> Tensor:
        h = self.hallucinate(x)
        f = self.encode(x)
        a = self.after(self.attention(f, f, mask))
        return self.decode(torch.cat([h, a], dim=1)).clamp(-1, 1)


class DeepFill(nn.Module):
    """Coarse-to-fine generator. ``forward(x, mask)`` takes x in [-1,1] (hole pixels anything) and the hole
    mask, returns (coarse, refined), both in [-1,1]."""

    def __init__(self, width: int = 32):
        super().__init__()
        self.coarse, self.refine = CoarseNet(width), RefineNet(width)

    @staticmethod
    def _input(x: Tensor, mask: Tensor) -> Tensor:
        return torch.cat([x, torch.ones_like(mask), mask], dim=1)  # official: [x, ones, ones * mask]

    def forward(self, x: Tensor, mask: Tensor) -> tuple[Tensor, Tensor]:
        known = x * (1 - mask)  # the official input zeroes the hole (0 = grey in [-1,1])
        x1 = self.coarse(self._input(known, mask))
        stage2 = x1 * mask + known  # official: no stop-gradient between the stages
        return x1, self.refine(self._input(stage2, mask), mask)

    def predict(self, images: Tensor, mask: Tensor) -> Tensor:
        """Refined output in [0,1] for ``images`` in [0,1]."""
        return (self(images * 2 - 1, mask)[1] + 1) / 2


# ## 3. Losses (Sec. 3.1): spatially discounted L1 + WGAN-GP on global and local critics
def hole_boxes(mask: Tensor) -> Tensor:
    """(x0, y0, x1, y1) per sample: the hole's bounding box (whole image when there is no hole). The official
    local critic sees the rectangular hole; ours are occluder-shaped, so it sees their bounding box."""
    h, w = mask.shape[-2:]

    def span(on: Tensor, size: int) -> tuple[Tensor, Tensor]:
        first = on.float().argmax(1)
        last = size - on.flip(1).float().argmax(1)
        has = on.any(1)
        return torch.where(has, first, 0), torch.where(has, last, size)

    y0, y1 = span(mask.amax(dim=(1, 3)) > 0, h)
    x0, x1 = span(mask.amax(dim=(1, 2)) > 0, w)
    return torch.stack([x0, y0, x1, y1], dim=1).float()


def reconstruction_loss(x1: Tensor, x2: Tensor, target: Tensor, mask: Tensor, cfg: DeepFillConfig) -> Tensor:
    """Official ``l1_loss`` and ``ae_loss``: discounted L1 over the hole (normalised by the hole's size, as
    the official code averages over the hole's patch) and L1 over the known pixels / mean(1 - M); the
    coarse stage weighs ``cfg.coarse`` inside each."""
    discount = spatial_discount(mask, cfg.gamma, outside=0.0)
    hole_n, known_n = mask.mean().clamp(min=1e-6), (1 - mask).mean().clamp(min=1e-6)
    hole = lambda y: (discount * (y - target).abs()).mean() / hole_n  # noqa: E731
    known = lambda y: ((1 - mask) * (y - target).abs()).mean() / known_n  # noqa: E731
    return (cfg.l1 * (cfg.coarse * hole(x1) + hole(x2))
            + cfg.ae * (cfg.coarse * known(x1) + known(x2)))


def critic_loss(critic: GlobalLocalCritic, real: Tensor, fake: Tensor, mask: Tensor, boxes: Tensor,
                gp: float) -> Tensor:
    """WGAN critic loss on both critics + gradient penalty restricted to the hole (official ``gp_loss``)."""
    wgan = GANLoss("wgan")
    real_g, real_l = critic(real, boxes)
    fake_g, fake_l = critic(fake, boxes)
    penalty = gradient_penalty(lambda z: critic(z, boxes), real, fake, weight=gp, mask=mask)
    return wgan.d_loss(real_g, fake_g) + wgan.d_loss(real_l, fake_l) + penalty


def generator_loss(gen: DeepFill, critic: GlobalLocalCritic, occluded: Tensor, clean: Tensor, mask: Tensor,
                   cfg: DeepFillConfig, outputs: tuple[Tensor, Tensor] | None = None
                   ) -> tuple[Tensor, dict[str, float]]:
    """Total G loss: reconstruction + ``cfg.gan`` x (global + local WGAN generator losses) on the composite.
    ``outputs``: G's (coarse, refined) on this batch when already computed with gradients (``make_step``)."""
    target = clean * 2 - 1
    x1, x2 = outputs if outputs is not None else gen(occluded * 2 - 1, mask)
    rec = reconstruction_loss(x1, x2, target, mask, cfg)
    completed = x2 * mask + target * (1 - mask)
    score_g, score_l = critic(completed, hole_boxes(mask))
    adv = GANLoss("wgan").g_loss(score_g) + GANLoss("wgan").g_loss(score_l)
    return rec + cfg.gan * adv, {"rec": rec.item(), "adv": adv.item()}


def make_step(gen: DeepFill, critic: GlobalLocalCritic, steps: GANSteps, cfg: DeepFillConfig,
              batch: Callable[[int], tuple[Tensor, Tensor, Tensor]]) -> Callable[[int], dict[str, float]]:
    """One training step: ``cfg.d_steps`` critic updates (batches ``batch(step * d_steps + k)``), then one
    generator update on the last of them. ``batch(i)`` returns (occluded, clean, mask) in [0,1]."""
    def step(i: int) -> dict[str, float]:
        for k in range(cfg.d_steps):
            occluded, clean, mask = batch(i * cfg.d_steps + k)
            last = k == cfg.d_steps - 1
            # the last critic batch is also G's: G's forward (unchanged by D's update) runs once, with gradients
            with torch.set_grad_enabled(last):
                outputs = gen(occluded * 2 - 1, mask)
            real = clean * 2 - 1
            fake = outputs[1].detach() * mask + real * (1 - mask)
            d = steps.d_step(lambda: critic_loss(critic, real, fake, mask, hole_boxes(mask), cfg.gp))
        logs: dict[str, float] = {}

        def g_loss() -> Tensor:
            loss, parts = generator_loss(gen, critic, occluded, clean, mask, cfg, outputs)
            logs.update(parts)
            return loss
        g = steps.g_step(g_loss)
        return {"d": d, "g": g, **logs}
    return step


def adam(params, lr: float) -> torch.optim.Optimizer:
    """The official optimiser: Adam, betas (0.5, 0.9)."""
    return torch.optim.Adam(params, lr=lr, betas=(0.5, 0.9))


def train_deepfill(cfg: DeepFillConfig, data: TrainingPairs | None = None) -> Trained:
    """Train (or load the finished checkpoint of) DeepFill at ``cfg``: the generator in eval mode and the loss
    history."""
    from ..runtime import seed_everything
    from ..train import Trainer, checkpoint_path

    seed_everything(cfg.seed)
    data = data or training_data(cfg)
    gen = DeepFill(cfg.width)
    critic = GlobalLocalCritic(cfg.image_size, cfg.image_size // 2, width=cfg.critic_width)
    trainer = Trainer({"g": gen, "d": critic}, {"g": adam(gen.parameters(), cfg.lr),
                                                 "d": adam(critic.parameters(), cfg.lr)},
                      checkpoint_path("deepfill", checkpoint_key(cfg)), steps=cfg.steps, desc="DeepFill")
    steps = GANSteps(trainer.modules["d"], trainer.optimizers["d"], trainer.optimizers["g"], trainer)

    def batch(i: int) -> tuple[Tensor, Tensor, Tensor]:
        occ, clean, mask, _ = data.masked_batch(i, cfg.batch, cfg.seed + 1)
        return occ.to(trainer.device), clean.to(trainer.device), mask.to(trainer.device)

    history = trainer.fit(make_step(trainer.modules["g"], trainer.modules["d"], steps, cfg, batch))
    return Trained(gen.cpu().eval(), history)


@register("deepfill", "inpainter", "Yu et al., CVPR 2018 (DeepFill v1 = FSG-GAN's DeepFill, OA-GAN's GnIpt, "
          "ID-GAN's CA)", keeps_known=True, aliases=("ca", "gnipt"))
def _deepfill(profile: Profile):
    return _inpainter(DeepFillConfig.for_profile(profile))


@register("deepfill-generic", "inpainter", "Yu et al., CVPR 2018, trained on generic free-form / rectangular holes "
          "(no occluder templates), as the released weights FSG-GAN compares against", keeps_known=True)
def _deepfill_generic(profile: Profile):
    return _inpainter(DeepFillConfig.for_profile(profile, masks="generic"))


def _inpainter(cfg: DeepFillConfig) -> Trained:
    trained = train_deepfill(cfg)
    return Trained(composite(trained.model.predict, cfg.image_size), trained.history)
