"""Discriminators and critics. All return raw logits / critic scores (no sigmoid): pair with ``GANLoss``.

- ``DCGANDiscriminator``  strided-conv image classifier (RLA's D of Eq. 18; old RLA checkpoints load)
- ``PatchGAN``            pix2pix / CycleGAN 70x70 NLayerDiscriminator: a map of patch logits
- ``GlobalLocalCritic``   DeepFill v1's WGAN critics on the whole image and on a crop around the hole
- ``MultiReceptiveFieldDiscriminator``  FSG-GAN Eqs. 9-10: per-level patch scores, softmax-weighted
"""

from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .blocks import norm_layer


class DCGANDiscriminator(nn.Module):
    """Conv4x4/2 -> BN -> LeakyReLU(0.2) blocks down to 4x4 (no BN after the first), then a linear head.

    Widths double from ``width`` up to 8 * ``width``. Identical layers and names to RLA's ``Discriminator``
    (``features``, ``head``), so its checkpoints load; ``channels`` is the input's channel count.
    """

    def __init__(self, image_size: int, channels: int = 1, width: int = 32):
        super().__init__()
        layers: list[nn.Module] = []
        size = image_size
        while size > 4:
            out = min(width * 2 ** len(layers[::3]), width * 8)
            layers += [nn.Conv2d(channels, out, 4, 2, 1), nn.BatchNorm2d(out) if layers else nn.Identity(),
                       nn.LeakyReLU(0.2)]
            channels, size = out, size // 2
        self.features = nn.Sequential(*layers)
        self.head = nn.Linear(channels * size * size, 1)

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.features(x).flatten(1)).squeeze(1)


class PatchGAN(nn.Module):
    """pix2pix's NLayerDiscriminator (Isola et al. 2017): C64-C128-C256 (4x4, stride 2), C512 (stride 1),
    then a 1-channel 4x4 conv; LeakyReLU 0.2, no norm on the first layer. With ``layers=3`` each output
    logit sees a 70x70 patch. Same ``model.<i>`` layout as pix2pix, so its checkpoints load."""

    def __init__(self, in_channels: int = 3, width: int = 64, layers: int = 3, norm: str = "instance"):
        super().__init__()
        bias = norm != "batch"
        seq: list[nn.Module] = [nn.Conv2d(in_channels, width, 4, 2, 1), nn.LeakyReLU(0.2, True)]
        mult = 1
        for n in range(1, layers + 1):
            prev, mult = mult, min(2 ** n, 8)
            stride = 2 if n < layers else 1
            seq += [nn.Conv2d(width * prev, width * mult, 4, stride, 1, bias=bias), norm_layer(norm, width * mult),
                    nn.LeakyReLU(0.2, True)]
        seq.append(nn.Conv2d(width * mult, 1, 4, 1, 1))
        self.model = nn.Sequential(*seq)

    def forward(self, x: Tensor) -> Tensor:
        return self.model(x)


def crop_boxes(images: Tensor, boxes: Tensor, size: int) -> Tensor:
    """Crop per-sample boxes (x0, y0, x1, y1), pixels, x1/y1 exclusive, and resize to ``size`` x ``size``.

    One ``affine_grid`` + bilinear ``grid_sample`` for the whole batch (differentiable, so WGAN-GP works
    through it). A box of exactly ``size`` pixels at integer corners is an exact crop.
    """
    n, _, h, w = images.shape
    boxes = boxes.to(images.dtype)
    x0, y0, x1, y1 = boxes.unbind(1)
    theta = images.new_zeros(n, 2, 3)
    theta[:, 0, 0], theta[:, 0, 2] = (x1 - x0) / w, (x0 + x1) / w - 1
    theta[:, 1, 1], theta[:, 1, 2] = (y1 - y0) / h, (y0 + y1) / h - 1
    grid = F.affine_grid(theta, [n, images.shape[1], size, size], align_corners=False)
    return F.grid_sample(images, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


def _wgan_critic(channels: int, widths: Sequence[int], size: int) -> nn.Sequential:
    """DeepFill's ``dis_conv`` stack: conv 5x5 stride 2 + LeakyReLU(0.2) per width, flatten, linear -> 1."""
    layers: list[nn.Module] = []
    for out in widths:
        layers += [nn.Conv2d(channels, out, 5, 2, 2), nn.LeakyReLU(0.2)]
        channels, size = out, (size + 1) // 2
    return nn.Sequential(*layers, nn.Flatten(), nn.Linear(channels * size * size, 1))


class GlobalLocalCritic(nn.Module):
    """DeepFill v1 (Yu et al. 2018) global and local WGAN-GP critics, 4 x (conv5x5/2 + LeakyReLU 0.2) + linear.

    forward(images, boxes) -> (global_score [N], local_score [N]); ``boxes`` [N,4] = (x0, y0, x1, y1) per
    sample, cropped and resized to ``local_size`` by ``crop_boxes``. Widths 64-128-256-512 (local) and
    64-128-256-256 (global) for ``width=64``, as the official critics.
    """

    def __init__(self, image_size: int, local_size: int, width: int = 64, channels: int = 3):
        super().__init__()
        self.local_size = local_size
        self.global_net = _wgan_critic(channels, [width, 2 * width, 4 * width, 4 * width], image_size)
        self.local_net = _wgan_critic(channels, [width, 2 * width, 4 * width, 8 * width], local_size)

    def forward(self, images: Tensor, boxes: Tensor) -> tuple[Tensor, Tensor]:
        local = crop_boxes(images, boxes, self.local_size)
        return self.global_net(images).squeeze(1), self.local_net(local).squeeze(1)


def softmax_weighted(scores: Tensor, lam: float) -> Tensor:
    """FSG-GAN Eq. 10: sum_i softmax(lam * d)_i * d_i over the L levels of ``scores`` [N, L] -> [N].

    lam = 0 gives the mean of the levels, lam -> +inf their max (-inf: their min).
    """
    return (torch.softmax(lam * scores, dim=1) * scores).sum(1)


EQ10_ON = ("probabilities", "logits")


class MultiReceptiveFieldDiscriminator(nn.Module):
    """FSG-GAN Eqs. 9-10: a trunk of ``blocks`` (applied in turn); after block i a patch head
    (conv1x1 -> ``head_width`` -> BN -> swish -> conv1x1 -> 1) gives a patch-logit map (a growing receptive
    field per level), and d_i averages that level's patch responses; the output is
    ``softmax_weighted(d, lam)``, returned as a logit so that Eq. 11 is a BCE on logits either way.

    ``on="probabilities"`` (the paper, Eqs. 9-10: "the i-th layer output d_i is an average of all these
    responses", the official heads ending in a sigmoid): d_i = mean of sigmoid(patch logits) in [0, 1], so the
    weights softmax(lam d) stay within e^lam : 1 of each other and every level keeps a share. ``on="logits"``
    (this project's earlier variant): d_i = mean patch logit; logits spread over several units, so the top
    level takes nearly all the weight and D acts as a max over its levels.

    ``head_channels[i]`` is block i's output channel count. ``level_scores(x)`` returns the mean patch
    logits [N, L]; ``levels(x)`` the d_i of Eq. 10 and ``level_weights(x)`` their softmax weights.
    """

    def __init__(self, blocks: Sequence[nn.Module], head_channels: Sequence[int], lam: float = 1.0,
                 head_width: int = 64, on: str = "probabilities"):
        super().__init__()
        if len(blocks) != len(head_channels):
            raise ValueError(f"{len(blocks)} blocks but {len(head_channels)} head_channels")
        if on not in EQ10_ON:
            raise ValueError(f"Eq. 10 weights the levels' {' or '.join(EQ10_ON)}, got on={on!r}")
        self.blocks = nn.ModuleList(blocks)
        self.heads = nn.ModuleList(
            nn.Sequential(nn.Conv2d(c, head_width, 1), nn.BatchNorm2d(head_width), nn.SiLU(),
                          nn.Conv2d(head_width, 1, 1)) for c in head_channels)
        self.lam = lam
        self.on = on

    def _patch_logits(self, x: Tensor) -> list[Tensor]:
        maps = []
        for block, head in zip(self.blocks, self.heads):
            x = block(x)
            maps.append(head(x))
        return maps

    def level_scores(self, x: Tensor) -> Tensor:
        """Mean patch logit per level, [N, L] (the official losses' per-level BCE takes these)."""
        return torch.stack([m.mean(dim=(1, 2, 3)) for m in self._patch_logits(x)], dim=1)

    def levels(self, x: Tensor) -> Tensor:
        """d_i of Eqs. 9-10, [N, L]: mean patch probability (``on="probabilities"``) or mean patch logit."""
        if self.on == "logits":
            return self.level_scores(x)
        return torch.stack([torch.sigmoid(m).mean(dim=(1, 2, 3)) for m in self._patch_logits(x)], dim=1)

    def level_weights(self, x: Tensor) -> Tensor:
        """Eq. 10's w_i = softmax(lam d)_i, [N, L]."""
        return torch.softmax(self.lam * self.levels(x), dim=1)

    def forward(self, x: Tensor) -> Tensor:
        """Eq. 9's d_u as a logit [N]: with probabilities, logit(d_u) (clamped 1e-6 from 0 and 1), so
        BCE-with-logits on it is Eq. 11's -log d_u; with logits, d_u itself."""
        d_u = softmax_weighted(self.levels(x), self.lam)
        if self.on == "logits":
            return d_u
        return torch.logit(d_u, eps=1e-6)
