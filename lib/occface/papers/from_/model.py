"""FROM: Face Recognition with Occlusion Masks (Qiu et al., TPAMI 2021), read top to bottom like the paper.

One network, trained end to end (paper Fig. 2):

1. a **Feature Pyramid Extractor** (Sec. 3.2): an LResNet-IR body gives the stage outputs C3, C2, C1 (shallow
   to deep); the top conv features are ``X1 = C1`` and a top-down pyramid (Eqs. 2-3) builds ``X2`` and ``X3``;
2. a **Mask Decoder** (Sec. 3.3, Fig. 3a) decodes a mask ``M`` in (0,1) of the shape of ``X1`` (C x H x W) from
   ``X3``; the cleaned features are ``X1' = X1 * M``, which the backbone's FC head turns into the face embedding;
3. an **Occlusion Pattern Predictor** (Sec. 3.4, Fig. 3b) classifies ``M`` into one of the
   ``(K(K+1)/2)^2 + 1`` proximate occlusion patterns (Sec. 3.4.1), which supervises the decoder;
4. the objective ``L = L_margin + lambda * L_pred`` (Eq. 6) with CosFace as ``L_margin`` (Eq. 1 with
   ``(0, 0, m3)``, s=30, m3=0.35) and softmax (Eq. 4) or box regression (Eq. 5) as ``L_pred``.

Ablation variants share this file (``FROMConfig.mask`` / ``.pattern_head``): masks on the FC features
(Sec. 3.3.2, Table 7 "FC"), one 2-D mask shared by all channels (Sec. 3.3.3, "2D"), pattern regression
(Sec. 3.4.3, Table 8 "REG"), and ``mask="none"`` for the plain backbone (Baseline / Baseline-Aug, Sec. 4.2).

Layer details the paper leaves open follow the official code (github.com/haibo-qiu/FROM, ``lib/models/fpn.py``):
pyramid width 256 for the 64-wide backbone, 1x1 lateral and 3x3 output convs, the decoder reading the
pyramid level at C3's resolution, the predictor's FC without bias, dropout 0.5.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from ...profiles import ProfileConfig

MASKS = ("none", "3d", "2d", "fc")
PATTERN_HEADS = ("cls", "reg")


def num_patterns(K: int) -> int:
    """Number of proximate occlusion patterns (Sec. 3.4.1): ``(K(K+1)/2)^2 + 1`` (K=4: 101, K=5: 226)."""
    return (K * (K + 1) // 2) ** 2 + 1


# ---------------------------------------------------------------------------------------------------------
# Configuration (plain dataclass; one per profile, nanoGPT style)
# ---------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class FROMConfig(ProfileConfig):
    """Everything that shapes a FROM network. ``for_profile`` scales the paper's LResNet50E-IR down."""
    input_size: tuple[int, int] = (112, 96)   # (H, W); the paper aligns faces to 112x96 (Sec. 4.2)
    width: int = 64                            # channels of the first stage (LResNet50E-IR: 64)
    blocks: tuple[int, ...] = (3, 4, 14, 3)    # residual units per stage (LResNet50E-IR)
    embedding: int = 512                       # face representation size
    pyramid: int = 256                         # pyramid channels (official code: 256)
    mask: str = "3d"                           # "none" | "3d" | "2d" | "fc"
    pattern_head: str = "cls"                  # "cls" (Eq. 4) | "reg" (Eq. 5)
    K: int = 5                                 # face divided into K x K blocks (Sec. 3.4.1; paper picks 5)
    lam: float = 1.0                           # lambda of Eq. 6 (paper picks 1.0)
    dropout: float = 0.5                       # in the predictor's BN-Dropout-FC-BN (official code)
    s: float = 30.0                            # CosFace scale (Eq. 1)
    m: float = 0.35                            # CosFace additive cosine margin m3 (Eq. 1)

    def __post_init__(self) -> None:
        if self.mask not in MASKS:
            raise ValueError(f"mask must be one of {MASKS}, got {self.mask!r}")
        if self.pattern_head not in PATTERN_HEADS:
            raise ValueError(f"pattern_head must be one of {PATTERN_HEADS}, got {self.pattern_head!r}")
        if self.K < 1 and self.mask != "none":
            raise ValueError("K must be >= 1 for a masked model (K=0 is the Baseline: use mask='none')")

    # the paper's network for ``full`` (LResNet50E-IR, 512-d, pyramid 4 x width); shallower on the CPU profiles
    SHARED = {"input_size": "recog_size", "width": "width"}
    PER_PROFILE = {"quick": dict(blocks=(1, 1, 1, 1), pyramid=32, embedding=64),
                   "default": dict(blocks=(1, 2, 2, 1), pyramid=64, embedding=128),
                   "full": dict(blocks=(3, 4, 14, 3), pyramid=256, embedding=512)}

    def replace(self, **changes) -> "FROMConfig":
        return dataclasses.replace(self, **changes)

    @property
    def patterns(self) -> int:
        return num_patterns(self.K)


# ---------------------------------------------------------------------------------------------------------
# 3.2-3.3.1  Feature Pyramid Extractor: Eqs. (2) and (3)
# ---------------------------------------------------------------------------------------------------------

def upsample_to(x: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """``upsample(.)`` of Eqs. 2-3: nearest, x2. Sized to ``like`` so odd maps (e.g. 7 -> 4 -> 7) line up."""
    return F.interpolate(x, size=like.shape[-2:], mode="nearest")


class FeaturePyramid(nn.Module):
    """Top-down pyramid with lateral connections (FPN [31]) over the backbone's three deepest stages.

    Eq. 2:  X2 = conv(upsample(conv(X1)) + conv(C2))
    Eq. 3:  X3 = conv(upsample(conv(X2)) + conv(C3))

    Inner convs are 1x1 (channel matching), outer convs 3x3 (smoothing), as in the official code. The
    official code upsamples the un-smoothed sum of level 2; we follow Eq. 3 as printed (conv of X2).
    """

    def __init__(self, c1: int, c2: int, c3: int, d: int):
        super().__init__()
        self.top1, self.lateral2 = nn.Conv2d(c1, d, 1), nn.Conv2d(c2, d, 1)
        self.out2 = nn.Conv2d(d, d, 3, padding=1)
        self.top2, self.lateral3 = nn.Conv2d(d, d, 1), nn.Conv2d(c3, d, 1)
        self.out3 = nn.Conv2d(d, d, 3, padding=1)

    def forward(self, x1: torch.Tensor, c2: torch.Tensor, c3: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x2 = self.out2(upsample_to(self.top1(x1), c2) + self.lateral2(c2))   # Eq. 2
        x3 = self.out3(upsample_to(self.top2(x2), c3) + self.lateral3(c3))   # Eq. 3
        return x2, x3


# ---------------------------------------------------------------------------------------------------------
# 3.3  Mask Decoder (Fig. 3a): Conv-PReLU-BN-Conv-Sigmoid, both convs stride 2
# ---------------------------------------------------------------------------------------------------------

class MaskDecoder(nn.Module):
    """Decodes the feature mask ``M`` from ``X3``.

    ``X3`` lies two pyramid levels below ``X1``, so two stride-2 convs bring it down 4x to ``X1``'s H x W
    (Sec. 3.3). The Sigmoid keeps ``M`` in (0, 1) (soft mask, Sec. 4.3.1).

    - ``"3d"`` (FROM, Sec. 3.3.3): ``M`` is C x H x W, one value per element of ``X1``.
    - ``"2d"`` (Table 7 "2D"): the last conv has one output channel; ``M`` is 1 x H x W and broadcasts
      over the C channels ("same 2D masks across all of the channels", Sec. 4.6).
    - ``"fc"`` (Table 7 "FC", Sec. 3.3.2): ``M`` is E-dimensional and multiplies the FC features; the conv
      part is flattened into FC-BN-Sigmoid as in the official ``LResNet_Occ_FC``.
    """

    def __init__(self, d: int, channels: int, kind: str = "3d", top_hw: tuple[int, int] = (7, 6),
                 embedding: int = 512):
        super().__init__()
        self.kind = kind
        out = 1 if kind == "2d" else channels
        layers: list[nn.Module] = [
            nn.Conv2d(d, d, 3, stride=2, padding=1, bias=False), nn.PReLU(d), nn.BatchNorm2d(d),
            nn.Conv2d(d, out, 3, stride=2, padding=1, bias=False),
        ]
        if kind == "fc":
            layers += [nn.PReLU(out), nn.BatchNorm2d(out), nn.Flatten(),
                       nn.Linear(out * top_hw[0] * top_hw[1], embedding), nn.BatchNorm1d(embedding)]
        layers.append(nn.Sigmoid())
        self.net = nn.Sequential(*layers)

    def forward(self, x3: torch.Tensor) -> torch.Tensor:
        return self.net(x3)


# ---------------------------------------------------------------------------------------------------------
# 3.4  Occlusion Pattern Predictor (Fig. 3b): BN-Dropout-FC-BN
# ---------------------------------------------------------------------------------------------------------

class PatternPredictor(nn.Module):
    """Maps the flattened mask to pattern logits (Eq. 4, ``out = #patterns``) or to a box (Eq. 5, ``out = 4``).

    It reads the mask, not the image features, so it can only be right when the mask encodes where the
    occlusion is: this is how it guides the Mask Decoder (Sec. 3.4).
    """

    def __init__(self, mask_numel: int, out: int, dropout: float = 0.5):
        super().__init__()
        self.net = nn.Sequential(nn.Flatten(), nn.BatchNorm1d(mask_numel), nn.Dropout(dropout),
                                 nn.Linear(mask_numel, out, bias=False), nn.BatchNorm1d(out))

    def forward(self, mask: torch.Tensor) -> torch.Tensor:
        return self.net(mask)


# ---------------------------------------------------------------------------------------------------------
# 3.5  The whole network
# ---------------------------------------------------------------------------------------------------------

class FROMOutput(NamedTuple):
    embedding: torch.Tensor            # (N, E) face representation from the cleaned features
    mask: torch.Tensor | None          # (N, C, H, W) | (N, 1, H, W) | (N, E); None without a decoder
    pattern: torch.Tensor | None       # (N, P) logits or (N, 4) box; None when not asked for


def binarize(mask: torch.Tensor, threshold: float) -> torch.Tensor:
    """Hard mask of Sec. 4.3.1: B(x) = 1 if x >= t else 0."""
    return (mask >= threshold).to(mask.dtype)


class FROMNet(nn.Module):
    """Backbone + pyramid + Mask Decoder + Occlusion Pattern Predictor (Fig. 2).

    ``backbone`` must offer ``stages(x) -> [C4, C3, C2, C1]`` (shallow to deep) and ``head(x_top) -> (N, E)``
    (occface.backbones.LResNetIR); it is built from the config when not given. Images come in [0, 1] and
    are mapped to [-1, 1] here, as the paper normalises its inputs (Sec. 4.2).
    """

    def __init__(self, config: FROMConfig, backbone: nn.Module | None = None):
        super().__init__()
        self.config = config
        if backbone is None:
            from ...nn.backbones import LResNetIR
            backbone = LResNetIR(input_size=config.input_size, width=config.width, blocks=config.blocks,
                                 embedding=config.embedding)
        self.backbone = backbone
        if config.mask == "none":
            return
        c3, c2, c1 = self._stage_shapes()[-3:]
        down4 = tuple((((n + 1) // 2) + 1) // 2 for n in c3[1:])  # two stride-2 convs (k3, pad 1)
        if down4 != tuple(c1[1:]):
            raise ValueError(f"the Mask Decoder maps C3's {c3[1:]} to {down4}, but X1 is {c1[1:]}; the "
                             "backbone must halve the resolution twice between C3 and C1")
        d = config.pyramid
        self.pyramid = FeaturePyramid(c1[0], c2[0], c3[0], d)
        self.decoder = MaskDecoder(d, c1[0], config.mask, top_hw=tuple(c1[1:]), embedding=config.embedding)
        mask_numel = {"3d": c1[0] * c1[1] * c1[2], "2d": c1[1] * c1[2], "fc": config.embedding}[config.mask]
        out = config.patterns if config.pattern_head == "cls" else 4
        self.predictor = PatternPredictor(mask_numel, out, config.dropout)

    @torch.no_grad()
    def _stage_shapes(self) -> list[tuple[int, int, int]]:
        was_training = self.backbone.training
        self.backbone.eval()  # a dry run must not touch BatchNorm statistics
        stages = self.backbone.stages(torch.zeros(1, 3, *self.config.input_size))
        self.backbone.train(was_training)
        return [tuple(s.shape[1:]) for s in stages]

    def forward(self, images: torch.Tensor, threshold: float | None = None,
                predict: bool = True) -> FROMOutput:
        """``threshold`` binarizes the mask (Table 2); ``predict=False`` skips the pattern predictor."""
        x = images * 2.0 - 1.0
        *_, c3, c2, x1 = self.backbone.stages(x)
        if self.config.mask == "none":
            return FROMOutput(self.backbone.head(x1), None, None)
        _, x3 = self.pyramid(x1, c2, c3)
        mask = self.decoder(x3)
        used = mask if threshold is None else binarize(mask, threshold)
        if self.config.mask == "fc":
            embedding = self.backbone.head(x1) * used            # Sec. 3.3.2: mask the FC features
        else:
            embedding = self.backbone.head(x1 * used)            # X1' = X1 * M, then the FC head
        pattern = self.predictor(used) if predict else None
        return FROMOutput(embedding, mask, pattern)

    @torch.no_grad()
    def embed(self, images: torch.Tensor, threshold: float | None = None, batch: int = 256) -> torch.Tensor:
        """Face representations in eval mode, batched (what the protocols call ``embed``)."""
        was_training = self.training
        self.eval()
        device = next(self.parameters()).device
        outs = [self(images[i:i + batch].to(device), threshold, predict=False).embedding.float().cpu()
                for i in range(0, len(images), batch)]
        self.train(was_training)
        return torch.cat(outs)

    @torch.no_grad()
    def predict_patterns(self, images: torch.Tensor, batch: int = 256) -> torch.Tensor:
        """Most likely proximate pattern per image (argmax of Eq. 4's logits); for Fig. 5."""
        if self.config.mask == "none" or self.config.pattern_head != "cls":
            raise ValueError("pattern prediction needs a masked model with pattern_head='cls'")
        was_training = self.training
        self.eval()
        device = next(self.parameters()).device
        outs = [self(images[i:i + batch].to(device)).pattern.argmax(1).cpu()
                for i in range(0, len(images), batch)]
        self.train(was_training)
        return torch.cat(outs)


# ---------------------------------------------------------------------------------------------------------
# Losses: Eq. (4), Eq. (5), Eq. (6)
# ---------------------------------------------------------------------------------------------------------

def pattern_loss(pattern: torch.Tensor, target: torch.Tensor, head: str = "cls") -> torch.Tensor:
    """``L_pred``: softmax over the proximate patterns (Eq. 4) or the L2 box regression (Eq. 5).

    For ``"reg"`` the target is the occluded box (x0, y0, x1, y1) normalised to [0, 1] (all zeros for a
    clean face); Eq. 5 averages the (not squared) Euclidean distance over the batch.
    """
    if head == "cls":
        return F.cross_entropy(pattern.float(), target)
    return (pattern.float() - target.float()).norm(dim=1).mean()


class FROMLoss(NamedTuple):
    total: torch.Tensor
    margin: torch.Tensor
    pred: torch.Tensor | None   # None when lambda = 0 (the predictor is not run at all)


def from_loss(model: FROMNet, margin_head: nn.Module, images: torch.Tensor, identity: torch.Tensor,
              target: torch.Tensor | None, lam: float | None = None) -> FROMLoss:
    """Eq. 6: ``L_total = L_margin + lambda * L_pred``.

    ``margin_head(features, labels) -> logits`` is CosFace (Eq. 1 with (0, 0, m3)). With ``lambda = 0``
    (Baseline-MD, Sec. 4.2) the predictor is skipped entirely, so it receives no gradient and the Mask
    Decoder learns from the recognition loss alone.
    """
    config = getattr(model, "module", model).config  # unwrap DistributedDataParallel
    lam = config.lam if lam is None else lam
    use_pred = lam > 0 and config.mask != "none" and target is not None
    out = model(images, predict=use_pred)
    margin = F.cross_entropy(margin_head(out.embedding, identity).float(), identity)
    if not use_pred:
        return FROMLoss(margin, margin, None)
    pred = pattern_loss(out.pattern, target, config.pattern_head)
    return FROMLoss(margin + lam * pred, margin, pred)
