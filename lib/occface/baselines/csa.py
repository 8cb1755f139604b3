"""# CSA: coherent semantic attention for image inpainting

Liu, Jiang, Xiao, Yang, ICCV 2019 (OA-GAN's "CSA", its ref. [37]; OA-GAN re-implemented it). Facts the paper
leaves out come from the official code (KumapowerLIU/CSA-inpainting; official-code-notes.md Sec. 4). The file
reads like Sec. 3 of the paper:

1. rough network: a U-Net on the image whose hole is pre-filled with a mean colour (official: pix2pix
   ``unet_256`` and ImageNet's mean colour);
2. refinement network: a U-Net on [rough composite, input] with the CSA layer in its encoder at 1/8 scale
   (official: on the 32x32 features of 256 px);
3. the CSA layer (Sec. 3.2): a search stage (each hole patch's best cosine-matched known patch k_i, score
   D_max) and a generation stage in raster order over the hole, m_1 = k_1, m_i = (D_ad m_(i-1) + D_max k_i)
   / (D_ad + D_max), D_ad the cosine of m_(i-1) and the i-th hole patch; known positions pass through;
4. losses (Sec. 3.3-3.4): L1 on both stages, the consistency loss (the CSA layer's output and the matching
   decoder feature, over the hole, close to a pretrained network's features of the ground truth) and
   relativistic-average LSGAN from a patch D on images and a feature patch D on pretrained features.

Deviations. (a) The official consistency term is re-wrapped as ``Variable(loss.data, requires_grad=True)``
(CSA.py:214, 218), so it gives no gradient; we implement the paper's loss, which does. (b) The pretrained
network is FaceNet (``occface.nn.identity.feature_network()``): identity/perceptual losses on FaceNet
(CASIA-WebFace) in place of VGG-16 (ImageNet); its block17 output (896 ch) stands in for relu4_3 and its
stem (256 ch) for relu3_3; 1x1 projections (trained with the generator) map the CSA-level features to the
896 channels, as our CSA level is narrower than VGG's 512. (c) 1x1 patches (official ``shift_sz`` 1), the
D scores clamped at 1e-6 (negative cosines would flip the mixing weights), exact autograd in place of the
official hand-written backward. (d) Our U-Nets are pix2pix's (4x4/2 convs) for both stages; the official
refinement net adds a 3x3 conv per level. (e) ``quick`` drops the FaceNet terms (consistency and feature D)
for their cost. Weights: 100 L1, 0.2 GAN, 1 consistency (official ``lambda_A``, ``gan_weight``, strength).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..nn.discriminators import PatchGAN
from ..nn.gan import GANSteps
from ..profiles import BASELINE_SHARED, Profile, ProfileConfig
from .deepfill import composite, face_pairs
from ..registry import Trained, register

MEAN_COLOUR = (123 / 255, 104 / 255, 117 / 255)  # the official hole fill (ImageNet's mean, RGB)
CONSISTENCY_LEVEL, FEATURE_D_LEVEL = 2, 0        # FaceNet levels standing in for relu4_3 and relu3_3


# ## Configuration
@dataclass(frozen=True)
class CSAConfig(ProfileConfig):
    """``full``: the official widths (ngf = ndf = 64) at 128 px; smaller profiles shrink."""
    profile: str
    image_size: int
    width: int              # ngf
    disc_width: int         # ndf
    batch: int              # official 1
    steps: int
    lr: float = 2e-4        # Adam, beta1 0.5
    disc_layers: int = 3    # the image patch D's n_layers (3: 70x70 patches)
    l1: float = 100.0       # lambda_A, on both stages
    gan: float = 0.2        # gan_weight
    consistency: float = 1.0  # InnerCos strength (0: no FaceNet terms at all)
    max_train_images: int = 0
    copies: int = 1
    seed: int = 0

    # quick: no FaceNet terms (a smoke run); default: small batch and few steps, FaceNet dominating each step
    SHARED = BASELINE_SHARED
    PER_PROFILE = {
        "quick": dict(width=8, disc_width=8, batch=8, steps=150, lr=1e-3, consistency=0.0),
        "default": dict(width=16, disc_width=16, batch=8, steps=400, lr=5e-4, copies=2),
        "full": dict(width=64, disc_width=64, batch=8, steps=60000, copies=2),
    }


# ## 3. The CSA layer (Sec. 3.2)
def coherent_attention(f: Tensor, hole: Tensor) -> Tensor:
    """f [N,C,h,w], hole [N,1,H,W] (any size; a cell touching the hole is hole). Returns f with each hole
    position replaced by m_i (module docstring), visited in raster order; batched over samples."""
    n, c, h, w = f.shape
    holes = F.adaptive_max_pool2d(hole.float(), (h, w)).flatten(1) > 0  # [N, L]
    flat = f.flatten(2).transpose(1, 2)  # [N, L, C]
    unit = F.normalize(flat, dim=2, eps=1e-8)
    scores = (unit @ unit.transpose(1, 2)).masked_fill(holes[:, None, :], -2.0)  # search: known patches only
    d_max, best = scores.max(2)
    k_hat = flat.gather(1, best[..., None].expand(-1, -1, c))
    has_known = (~holes).any(1)
    d_max = d_max.clamp(min=1e-6)
    out, prev, started = [], flat[:, 0], torch.zeros(n, dtype=torch.bool, device=f.device)
    for i in range(h * w):  # generation: raster order over the hole
        d_ad = F.cosine_similarity(prev, flat[:, i], dim=1, eps=1e-8).clamp(min=1e-6)
        mixed = (d_ad[:, None] * prev + d_max[:, i, None] * k_hat[:, i]) / (d_ad + d_max[:, i])[:, None]
        m = torch.where(started[:, None], mixed, k_hat[:, i])
        use = holes[:, i] & has_known
        out.append(torch.where(use[:, None], m, flat[:, i]))
        prev = torch.where(use[:, None], m, prev)
        started = started | use
    return torch.stack(out, 1).transpose(1, 2).reshape(n, c, h, w)


# ## 1-2. The rough and refinement U-Nets
def _down(cin: int, cout: int, first: bool, inner: bool) -> nn.Sequential:
    """pix2pix's encoder step: LeakyReLU 0.2, 4x4/2 conv, BN (none on the first and the innermost)."""
    layers = [] if first else [nn.LeakyReLU(0.2)]
    layers.append(nn.Conv2d(cin, cout, 4, 2, 1, bias=first or inner))
    return nn.Sequential(*layers, *([] if first or inner else [nn.BatchNorm2d(cout)]))


def _up(cin: int, cout: int, last: bool) -> nn.Sequential:
    """pix2pix's decoder step: ReLU, 4x4/2 transposed conv, BN (tanh on the output)."""
    return nn.Sequential(nn.ReLU(), nn.ConvTranspose2d(cin, cout, 4, 2, 1, bias=last),
                         nn.Tanh() if last else nn.BatchNorm2d(cout))


class UNet(nn.Module):
    """pix2pix U-Net with ``levels`` 4x4/2 steps (size -> 1 at log2(size) levels). With ``csa_level`` the
    encoder output of that level goes through the CSA layer, and ``forward`` also returns the CSA output
    and the decoder feature of the same level (for the consistency loss)."""

    def __init__(self, cin: int, width: int, levels: int, csa_level: int | None = None):
        super().__init__()
        ch = [min(width * 2 ** i, width * 8) for i in range(levels)]
        self.csa_level = csa_level
        self.downs = nn.ModuleList(_down(cin if i == 0 else ch[i - 1], ch[i], i == 0, i == levels - 1)
                                   for i in range(levels))
        self.ups = nn.ModuleList(_up(ch[i] * (1 if i == levels - 1 else 2), ch[i - 1] if i else 3, i == 0)
                                 for i in range(levels))

    def forward(self, x: Tensor, hole: Tensor | None = None) -> tuple[Tensor, list[Tensor]]:
        skips, inner = [], []
        for i, down in enumerate(self.downs):
            x = down(x)
            if i == self.csa_level:
                x = coherent_attention(x, hole)
                inner.append(x)
            skips.append(x)
        y = skips.pop()
        for i in reversed(range(len(self.ups))):
            y = self.ups[i](y if i == len(self.ups) - 1 else torch.cat([y, skips.pop()], 1))
            if self.csa_level is not None and i == self.csa_level + 1:
                inner.append(y)
        return y, inner


class CSANet(nn.Module):
    """Rough and refinement networks; ``forward(images, hole)`` with images in [0,1] returns (rough, refined)
    in [-1,1] and the two CSA-level features (encoder after CSA, decoder), projected to ``feature_channels``."""

    def __init__(self, image_size: int, width: int, feature_channels: int = 896):
        super().__init__()
        levels = int(math.log2(image_size))
        self.rough = UNet(3, width, levels)
        self.refine = UNet(6, width, levels, csa_level=2)
        c = min(width * 4, width * 8)
        self.project = nn.ModuleList(nn.Conv2d(c, feature_channels, 1) for _ in range(2))

    def forward(self, images: Tensor, hole: Tensor) -> tuple[Tensor, Tensor, list[Tensor]]:
        fill = images.new_tensor(MEAN_COLOUR).view(1, 3, 1, 1)
        x = (images * (1 - hole) + fill * hole) * 2 - 1
        rough = self.rough(x)[0]
        refined, inner = self.refine(torch.cat([rough * hole + x * (1 - hole), x], 1), hole)
        return rough, refined, [p(f) for p, f in zip(self.project, inner)]

    def predict(self, images: Tensor, hole: Tensor) -> Tensor:
        return (self(images, hole)[1] + 1) / 2


# ## 4. Losses (Sec. 3.3-3.4)
def ralsgan(real: Tensor, fake: Tensor, for_d: bool) -> Tensor:
    """Relativistic-average LSGAN, as the official ``GANLoss``: the D form pushes real above the average fake
    by 1 and fake below the average real by 1; the G form swaps the roles."""
    sign = 1.0 if for_d else -1.0
    return 0.5 * (((real - fake.mean()) - sign).pow(2).mean() + ((fake - real.mean()) + sign).pow(2).mean())


def consistency_loss(inner: list[Tensor], target: Tensor, hole: Tensor) -> Tensor:
    """Paper's L_c: squared L2 over the hole positions between each CSA-level feature and the pretrained
    network's features of the ground truth (resized to the CSA grid); a mean over those positions."""
    h, w = inner[0].shape[-2:]
    target = F.interpolate(target, size=(h, w), mode="bilinear", align_corners=False)
    cells = F.adaptive_max_pool2d(hole.float(), (h, w))
    norm = cells.sum().clamp(min=1.0) * target.shape[1]
    return sum(((f - target).pow(2) * cells).sum() / norm for f in inner)


@dataclass
class CSAModels:
    """The generator, the image patch D and the feature patch D (None without a feature network)."""
    net: CSANet
    d_image: PatchGAN
    d_feature: nn.Module | None


def feature_discriminator(channels: int, width: int) -> nn.Module:
    """The official ``PFDiscriminator``: 4x4/2 convs 8w, 8w (instance norm), 8w; on relu3_3-level features."""
    return nn.Sequential(nn.Conv2d(channels, 8 * width, 4, 2, 1), nn.LeakyReLU(0.2),
                         nn.Conv2d(8 * width, 8 * width, 4, 2, 1), nn.InstanceNorm2d(8 * width), nn.LeakyReLU(0.2),
                         nn.Conv2d(8 * width, 8 * width, 4, 2, 1))


def make_step(m: CSAModels, features: nn.Module | None, steps: GANSteps, cfg: CSAConfig,
              batch: Callable[[int], tuple[Tensor, Tensor, Tensor]]) -> Callable[[int], dict[str, float]]:
    """The official order: forward, D step (image D and feature D, halved), G step (both stages).
    ``batch(i)`` = (occluded, clean, hole) in [0,1]; ``features`` is frozen (None: no FaceNet terms)."""
    def step(i: int) -> dict[str, float]:
        occluded, clean, hole = batch(i)
        rough, refined, inner = m.net(occluded, hole)
        real = clean * 2 - 1
        feats_real = feats_fake = None
        if features is not None:
            with torch.no_grad():
                feats_real = features(clean)
            feats_fake = features((refined + 1) / 2)

        def d_loss() -> Tensor:
            loss = ralsgan(m.d_image(real), m.d_image(refined.detach()), True)
            if feats_fake is not None:
                loss = loss + ralsgan(m.d_feature(feats_real[FEATURE_D_LEVEL]),
                                      m.d_feature(feats_fake[FEATURE_D_LEVEL].detach()), True)
            return 0.5 * loss
        d = steps.d_step(d_loss)
        logs: dict[str, float] = {}

        def g_loss() -> Tensor:
            l1 = cfg.l1 * ((refined - real).abs().mean() + (rough - real).abs().mean())
            adv = ralsgan(m.d_image(real), m.d_image(refined), False)
            cons = l1.new_zeros(())
            if feats_fake is not None:
                adv = adv + ralsgan(m.d_feature(feats_real[FEATURE_D_LEVEL]),
                                    m.d_feature(feats_fake[FEATURE_D_LEVEL]), False)
                cons = consistency_loss(inner, feats_real[CONSISTENCY_LEVEL], hole)
            logs.update(l1=l1.item(), adv=adv.item(), consistency=cons.item())
            return l1 + cfg.gan * adv + cfg.consistency * cons
        g = steps.g_step(g_loss)
        return {"d": d, "g": g, **logs}
    return step


def build(cfg: CSAConfig, features: nn.Module | None) -> CSAModels:
    """Networks for ``cfg``; the feature D's input width and the projections follow ``features``' levels."""
    channels = (896, 256)
    if features is not None:
        with torch.no_grad():
            probe = features(torch.rand(1, 3, cfg.image_size, cfg.image_size))
        channels = (probe[CONSISTENCY_LEVEL].shape[1], probe[FEATURE_D_LEVEL].shape[1])
    return CSAModels(CSANet(cfg.image_size, cfg.width, channels[0]), PatchGAN(3, cfg.disc_width, cfg.disc_layers),
                     feature_discriminator(channels[1], cfg.disc_width) if features is not None else None)


def train_csa(cfg: CSAConfig, features: nn.Module | None = None, data=None) -> Trained:
    """Train (or load) CSA at ``cfg``: the CSANet in eval mode and the loss history; ``features`` defaults to
    FaceNet's when ``cfg.consistency`` > 0."""
    from ..runtime import seed_everything
    from ..train import Trainer, checkpoint_path

    if features is None and cfg.consistency > 0:
        from ..nn.identity import feature_network
        features = feature_network()
    if features is not None:
        features = features.eval().requires_grad_(False)
    seed_everything(cfg.seed)
    data = data or face_pairs(cfg.image_size, cfg.max_train_images, cfg.seed, cfg.copies)
    m = build(cfg, features if cfg.consistency > 0 else None)
    discs = [d for d in (m.d_image, m.d_feature) if d is not None]
    adam = lambda params: torch.optim.Adam(params, lr=cfg.lr, betas=(0.5, 0.999))  # noqa: E731
    modules = {"net": m.net, "d_image": m.d_image, **({"d_feature": m.d_feature} if m.d_feature else {})}
    trainer = Trainer(modules, {"g": adam(m.net.parameters()), "d": adam([p for d in discs for p in d.parameters()])},
                      checkpoint_path("csa", dataclasses.asdict(cfg)), steps=cfg.steps, desc="CSA")
    live = CSAModels(trainer.modules["net"], trainer.modules["d_image"], trainer.modules.get("d_feature"))
    steps = GANSteps([d for d in (live.d_image, live.d_feature) if d is not None], trainer.optimizers["d"],
                     trainer.optimizers["g"], trainer)

    def batch(i: int) -> tuple[Tensor, Tensor, Tensor]:
        occ, clean, hole, _ = data.masked_batch(i, cfg.batch, cfg.seed + 5)
        return occ.to(trainer.device), clean.to(trainer.device), hole.to(trainer.device)

    history = trainer.fit(make_step(live, features if m.d_feature else None, steps, cfg, batch))
    return Trained(m.net.cpu().eval(), history)


@register("csa", "inpainter", "Liu et al., ICCV 2019 (OA-GAN's CSA)", keeps_known=True)
def _csa(profile: Profile):
    cfg = CSAConfig.for_profile(profile)
    trained = train_csa(cfg)
    return Trained(composite(trained.model.predict, cfg.image_size), trained.history)
