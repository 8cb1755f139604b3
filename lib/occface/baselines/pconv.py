"""# PConv: image inpainting for irregular holes using partial convolutions

Liu, Reda, Shih, Wang, Tao, Catanzaro, ECCV 2018 (OA-GAN's "Pconv", its ref. [13]; OA-GAN re-implemented it,
as the code was not public then). The file reads like the paper:

1. the partial convolution with mask update (Sec. 3.1, Eqs. 1-2: ``occface.nn.blocks.PartialConv2d``,
   NVIDIA's formula with the sum(1)/sum(M) factor; it takes the *valid* mask, 1 - hole);
2. the U-Net of PConv layers (Sec. 3.3 and the supplementary table): 7x7/2 (no BN), 5x5/2, 5x5/2, then
   3x3/2 layers, ReLU; decoder: nearest x2, concatenate the skip (features and masks), PConv 3x3, BN,
   LeakyReLU 0.2; the last layer sees the input image and mask and has neither BN nor activation;
3. the loss (Sec. 3.4, Eqs. 1-7): L_valid + 6 L_hole + 0.05 L_perceptual + 120 (L_style_out +
   L_style_comp) + 0.1 L_tv.

Deviations: perceptual and style losses use FaceNet (CASIA-WebFace) features
(``occface.nn.identity.feature_network()``) in place of ImageNet VGG-16 pool1-3 (no ImageNet weights can be
had here): identity/perceptual losses on FaceNet (CASIA-WebFace) in place of VGG-16 (ImageNet). All four
FaceNet levels (stem, block35, block17, block8) stand in for pool1-3. ``quick`` drops these two terms
(FaceNet at 160 px costs ~0.3 s of CPU per face and step); ``default`` and ``full`` keep them. Depth: the
paper's 8 levels take 512 px to 2x2; we keep the 2x2 bottom, so log2(size) - 1 levels.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..nn.blocks import PartialConv2d, activation, norm_layer
from ..nn.losses import PerceptualStyle, masked_l1, total_variation
from ..profiles import BASELINE_SHARED, Profile, ProfileConfig
from .deepfill import composite, face_pairs
from ..registry import Trained, register


# ## Configuration
@dataclass(frozen=True)
class PConvConfig(ProfileConfig):
    """``full``: the paper's widths (64..512) at 128 px; quick/default shrink widths and schedule."""
    profile: str
    image_size: int
    width: int               # first layer's channels (paper 64); later layers double up to 8x
    batch: int               # paper 6 per GPU (official code: 16)
    steps: int
    finetune_steps: int      # last steps: lr ``lr_finetune``, encoder BN frozen (Sec. 4.1)
    lr: float = 2e-4         # Sec. 4.1
    lr_finetune: float = 5e-5
    valid: float = 1.0       # Eq. 7 weights
    hole: float = 6.0
    perceptual: float = 0.05
    style: float = 120.0
    tv: float = 0.1
    max_train_images: int = 0
    copies: int = 1
    seed: int = 0

    # quick/default: narrow nets, small batches, few steps and a larger lr for a CPU budget. FaceNet's features
    # (at its 160 px input, ~0.3 s of one CPU thread per face and step) dominate a step, so ``quick`` leaves the
    # perceptual and style terms out (a smoke run) and ``default`` keeps them on a small batch
    SHARED = BASELINE_SHARED
    PER_PROFILE = {
        "quick": dict(width=8, batch=16, steps=150, finetune_steps=40, lr=2e-3, lr_finetune=5e-4, perceptual=0.0,
                      style=0.0),
        "default": dict(width=16, batch=4, steps=250, finetune_steps=60, lr=1e-3, lr_finetune=2.5e-4, copies=2),
        "full": dict(width=64, batch=16, steps=60000, finetune_steps=20000, lr=2e-4, lr_finetune=5e-5, copies=2),
    }


# ## 1-2. The partial-convolution U-Net (Sec. 3.3)
class PConvLayer(nn.Module):
    """PartialConv2d -> BN -> activation; ``forward(x, valid) -> (y, valid')``. Multi-channel masks in the
    decoder, where a concatenation joins features with different holes (NVIDIA's ``multi_channel``)."""

    def __init__(self, cin: int, cout: int, k: int, stride: int, bn: bool, act: str, multi: bool = False):
        super().__init__()
        self.conv = PartialConv2d(cin, cout, k, stride, k // 2, bias=not bn, multi_channel=multi)
        self.norm = norm_layer("batch" if bn else "none", cout)
        self.act = activation(act)

    def forward(self, x: Tensor, valid: Tensor) -> tuple[Tensor, Tensor]:
        y, valid = self.conv(x, valid)
        return self.act(self.norm(y)), valid[:, :1]  # every output channel has the same updated mask


class PConvUNet(nn.Module):
    """``forward(x, valid)``: x (N,3,H,W) in [-1,1], valid (N,1,H,W) 1 = known; returns (N,3,H,W), unbounded
    (the paper's last layer has no activation). ``levels`` encoder layers halve the size each."""

    def __init__(self, width: int = 64, levels: int = 8):
        super().__init__()
        ch = [min(width * 2 ** i, width * 8) for i in range(levels)]
        kernels = [7, 5, 5] + [3] * (levels - 3)
        self.encoder = nn.ModuleList(
            PConvLayer(3 if i == 0 else ch[i - 1], ch[i], kernels[i], 2, bn=i > 0, act="relu") for i in range(levels))
        skips = [3] + ch[:-1]  # decoder layer j joins the encoder output one level up (the input at the top)
        self.decoder = nn.ModuleList(
            PConvLayer(ch[i] + skips[i], skips[i] if i > 0 else 3, 3, 1, bn=i > 0, act="lrelu" if i > 0 else "none",
                       multi=True) for i in reversed(range(levels)))

    @staticmethod
    def _join(a: Tensor, ma: Tensor, b: Tensor, mb: Tensor) -> tuple[Tensor, Tensor]:
        """Concatenate features and their per-channel valid masks."""
        return torch.cat([a, b], 1), torch.cat([ma.expand(-1, a.shape[1], -1, -1),
                                                mb.expand(-1, b.shape[1], -1, -1)], 1)

    def forward(self, x: Tensor, valid: Tensor) -> Tensor:
        feats, masks = [x], [valid]
        for layer in self.encoder:
            y, m = layer(feats[-1], masks[-1])
            feats.append(y)
            masks.append(m)
        y, m = feats.pop(), masks.pop()
        for layer in self.decoder:
            up = lambda t: F.interpolate(t, scale_factor=2, mode="nearest")  # noqa: E731
            y, m = layer(*self._join(up(y), up(m), feats.pop(), masks.pop()))
        return y

    def freeze_encoder_bn(self) -> None:
        """Fine-tuning (Sec. 4.1): the encoder's BN layers use their running statistics."""
        for layer in self.encoder:
            if isinstance(layer.norm, nn.BatchNorm2d):
                layer.norm.eval()

    def predict(self, images: Tensor, hole: Tensor) -> Tensor:
        """Output in [0,1] (unclamped) for ``images`` in [0,1] and the hole mask."""
        return (self(images * 2 - 1, 1 - hole) + 1) / 2


def levels_for(size: int) -> int:
    """Encoder depth that leaves a 2x2 bottom (the paper: 512 px, 8 levels)."""
    return int(math.log2(size)) - 1


# ## 3. Loss (Sec. 3.4, Eqs. 1-7)
def pconv_loss(out: Tensor, gt: Tensor, hole: Tensor, cfg: PConvConfig, texture: PerceptualStyle | None
               ) -> tuple[Tensor, dict[str, float]]:
    """Eq. 7 on [0,1] images: L_valid + 6 L_hole (Eqs. 1-2) + 0.05 L_perc (Eq. 3, on I_out and I_comp) +
    120 (L_style_out + L_style_comp) (Eqs. 4-5) + 0.1 L_tv (Eq. 6). TV over the hole dilated by one pixel, as
    Eq. 6's region P (the official code takes the whole composite; we follow the paper). ``texture=None``
    leaves the perceptual and style terms out (``quick``)."""
    comp = hole * out + (1 - hole) * gt
    pixels = masked_l1(out, gt, hole, hole=cfg.hole, valid=cfg.valid)
    perc = style = out.new_zeros(())
    if texture is not None:
        perc, style = texture((out, comp), gt)  # the sums over I_out and I_comp; gt's features once
    tv = total_variation(comp, hole)
    total = pixels + cfg.perceptual * perc + cfg.style * style + cfg.tv * tv
    return total, {"pixels": pixels.item(), "perceptual": perc.item(), "style": style.item(), "tv": tv.item()}


def make_step(net: PConvUNet, texture: PerceptualStyle | None, opt: torch.optim.Optimizer, cfg: PConvConfig,
              batch: Callable[[int], tuple[Tensor, Tensor, Tensor]], backward: Callable | None = None
              ) -> Callable[[int], dict[str, float]]:
    """One step on ``batch(i)`` = (occluded, clean, hole) in [0,1]; the last ``cfg.finetune_steps`` steps
    use ``cfg.lr_finetune`` with the encoder's BN frozen (set per step, so a resumed run agrees)."""
    def step(i: int) -> dict[str, float]:
        finetune = i >= cfg.steps - cfg.finetune_steps
        net.train()
        if finetune:
            net.freeze_encoder_bn()
        for group in opt.param_groups:
            group["lr"] = cfg.lr_finetune if finetune else cfg.lr
        occluded, clean, hole = batch(i)
        loss, parts = pconv_loss(net.predict(occluded, hole), clean, hole, cfg, texture)
        opt.zero_grad(set_to_none=True)
        (backward or Tensor.backward)(loss)
        opt.step()
        return {"loss": loss.item(), **parts}
    return step


def train_pconv(cfg: PConvConfig, features: nn.Module | None = None, data=None) -> Trained:
    """Train (or load) PConv at ``cfg``: the net in eval mode and the loss history. ``features``: the frozen
    perceptual/style network (default: FaceNet's ``occface.nn.identity.feature_network()``)."""
    from ..runtime import seed_everything
    from ..train import Trainer, checkpoint_path

    textured = cfg.perceptual > 0 or cfg.style > 0
    if features is None and textured:
        from ..nn.identity import feature_network
        features = feature_network()
    seed_everything(cfg.seed)
    data = data or face_pairs(cfg.image_size, cfg.max_train_images, cfg.seed, cfg.copies)
    net = PConvUNet(cfg.width, levels_for(cfg.image_size))
    opt = torch.optim.Adam(net.parameters(), lr=cfg.lr)
    trainer = Trainer({"net": net}, {"opt": opt}, checkpoint_path("pconv", dataclasses.asdict(cfg)),
                      steps=cfg.steps, desc="PConv")
    texture = PerceptualStyle(features).to(trainer.device) if textured else None

    def batch(i: int) -> tuple[Tensor, Tensor, Tensor]:
        occ, clean, hole, _ = data.masked_batch(i, cfg.batch, cfg.seed + 2)
        return occ.to(trainer.device), clean.to(trainer.device), hole.to(trainer.device)

    history = trainer.fit(make_step(trainer.modules["net"], texture, trainer.optimizers["opt"], cfg, batch,
                                    trainer.backward))
    return Trained(net.cpu().eval(), history)


@register("pconv", "inpainter", "Liu et al., ECCV 2018 (OA-GAN's Pconv)", keeps_known=True)
def _pconv(profile: Profile):
    cfg = PConvConfig.for_profile(profile)
    trained = train_pconv(cfg)
    return Trained(composite(trained.model.predict, cfg.image_size), trained.history)
