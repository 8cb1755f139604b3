"""Reconstruction, texture and identity losses of the inpainting GANs.

Masks are 1 over the hole (0 = known pixel), shaped [N,1,H,W] (or anything broadcastable to the images).
Every loss is a mean over *all* elements of the image batch (N*C*H*W), as PConv normalises by N_Igt
(Liu et al. 2018, Eqs. 1-2): a hole term therefore grows with the hole's area; it is not a per-hole-pixel
average. Weights such as PConv's 6 (hole) / 1 (valid) go in ``hole`` / ``valid``.
"""

from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn


def _masked(err: Tensor, mask: Tensor, hole: float, valid: float) -> Tensor:
    mask = mask.to(err.dtype)
    weight = hole * mask + valid * (1 - mask)
    return (weight * err).mean()  # weight broadcasts over channels; the mean is over N*C*H*W


def masked_l1(x: Tensor, y: Tensor, mask: Tensor, hole: float = 1.0, valid: float = 1.0) -> Tensor:
    """PConv Eqs. 1-2: hole * mean(M |x-y|) + valid * mean((1-M) |x-y|), M = 1 over the hole."""
    return _masked((x - y).abs(), mask, hole, valid)


def masked_l2(x: Tensor, y: Tensor, mask: Tensor, hole: float = 1.0, valid: float = 1.0) -> Tensor:
    """``masked_l1`` with squared errors: hole * mean(M (x-y)^2) + valid * mean((1-M) (x-y)^2)."""
    return _masked((x - y).pow(2), mask, hole, valid)


@torch.no_grad()
def chessboard_distance(mask: Tensor) -> Tensor:
    """Chessboard (8-neighbour) distance of each hole pixel to the nearest known pixel; 0 outside the hole.

    Vectorised over the batch by repeated 3x3 erosion (one max-pool per pixel of hole depth). The image
    frame does not count as known. A sample that is hole everywhere has no known pixel: its distances
    stop growing once the erosion stops changing it (they equal the number of iterations run).
    """
    shape = mask.shape
    cur = (mask.reshape(-1, 1, *shape[-2:]) > 0.5).float()
    dist = torch.zeros_like(cur)
    for _ in range(max(shape[-2:])):
        if not cur.any():
            break
        dist += cur
        eroded = -F.max_pool2d(-cur, 3, stride=1, padding=1)  # min-pool; padding is -inf, i.e. ignored
        if torch.equal(eroded, cur):
            break
        cur = eroded
    return dist.reshape(shape)


def spatial_discount(mask: Tensor, gamma: float = 0.9, outside: float = 1.0) -> Tensor:
    """DeepFill v1 (Yu et al. 2018, Sec. 3.1) / ID-GAN Eq. 2 spatially discounted weight map gamma^d.

    d = chessboard distance to the nearest known pixel minus 1, so hole pixels touching the known region
    (8-neighbourhood) weigh 1 and deeper ones gamma, gamma^2, ... For DeepFill's rectangular holes this is
    exactly its ``max(gamma^min(i, H-i), gamma^min(j, W-j))`` (up to its one-pixel asymmetry). Known pixels
    get ``outside``: 1 by default, i.e. no discount outside the hole, so ``discounted_l1`` adds a plain L1 on
    the known pixels (DeepFill's separate ``ae_loss`` term); pass ``outside=0`` for a hole-only loss.
    """
    dist = chessboard_distance(mask)
    hole = dist > 0
    weight = torch.pow(torch.as_tensor(gamma, dtype=torch.float32, device=mask.device), (dist - 1).clamp(min=0))
    return torch.where(hole, weight, torch.full_like(weight, outside))


def discounted_l1(x: Tensor, y: Tensor, mask: Tensor, gamma: float = 0.9) -> Tensor:
    """mean(w |x-y|) with w = ``spatial_discount(mask, gamma)`` (1 on known pixels)."""
    return (spatial_discount(mask, gamma).to(x.dtype) * (x - y).abs()).mean()


def discounted_l2(x: Tensor, y: Tensor, mask: Tensor, gamma: float = 0.9) -> Tensor:
    """mean(w (x-y)^2) with w = ``spatial_discount(mask, gamma)`` (1 on known pixels)."""
    return (spatial_discount(mask, gamma).to(x.dtype) * (x - y).pow(2)).mean()


def total_variation(x: Tensor, mask: Tensor | None = None) -> Tensor:
    """Anisotropic L1 TV: mean |x[i,j+1]-x[i,j]| + mean |x[i+1,j]-x[i,j]| over all neighbour pairs.

    With ``mask`` (1 = hole) only pairs with both pixels in the hole dilated by one pixel count, as PConv's
    L_tv (Liu et al. 2018, Eq. 6, region P); the normalisation stays the total pair count (PConv's 1/N).
    """
    dh = (x[..., :, 1:] - x[..., :, :-1]).abs()
    dv = (x[..., 1:, :] - x[..., :-1, :]).abs()
    if mask is None:
        return dh.mean() + dv.mean()
    region = F.max_pool2d(mask.to(x.dtype).reshape(-1, 1, *mask.shape[-2:]), 3, 1, 1).reshape(mask.shape)
    wh = region[..., :, 1:] * region[..., :, :-1]
    wv = region[..., 1:, :] * region[..., :-1, :]
    return (wh * dh).sum() / dh.numel() + (wv * dv).sum() / dv.numel()


def gram(features: Tensor) -> Tensor:
    """Gram matrix F F^T / (C H W) of [N,C,H,W] features -> [N,C,C] (Gatys et al. 2016; PConv Eq. 4's K_p)."""
    n, c, h, w = features.shape
    flat = features.reshape(n, c, h * w)
    return flat @ flat.transpose(1, 2) / (c * h * w)


class PerceptualStyle(nn.Module):
    """PConv Eqs. 3-5: perceptual = sum_p mean|phi_p(x) - phi_p(y)|, style = sum_p mean|G(phi_p(x)) - G(phi_p(y))|.

    ``extractor(x)`` returns a list of feature maps (e.g. VGG-16 pool1..pool3). Its parameters are frozen
    and it stays in eval mode (``train()`` does not switch it back). ``y`` is the target: its features are
    computed without gradient.
    """

    def __init__(self, extractor: nn.Module):
        super().__init__()
        self.extractor = extractor.eval()
        for p in self.extractor.parameters():
            p.requires_grad_(False)

    def train(self, mode: bool = True) -> "PerceptualStyle":
        super().train(mode)
        self.extractor.eval()
        return self

    def _features(self, x: Tensor) -> Sequence[Tensor]:
        out = self.extractor(x)
        return [out] if isinstance(out, Tensor) else list(out)

    def forward(self, x: Tensor | Sequence[Tensor], y: Tensor) -> tuple[Tensor, Tensor]:
        """(perceptual, style) of ``x`` against ``y``; for several outputs ``x = (x1, x2, ...)`` the sums over
        them, with the target's features and Gram matrices computed once (PConv's I_out and I_comp, OA-GAN's
        x_synth and x_final share one target)."""
        xs = [x] if isinstance(x, Tensor) else list(x)
        with torch.no_grad():
            fy = self._features(y)
            gy = [gram(b) for b in fy]
        perceptual = style = None
        for one in xs:
            fx = self._features(one)
            p = sum(F.l1_loss(a, b) for a, b in zip(fx, fy))
            s = sum(F.l1_loss(gram(a), g) for a, g in zip(fx, gy))
            perceptual, style = (p, s) if perceptual is None else (perceptual + p, style + s)
        return perceptual, style


def identity_cosine(emb_x: Tensor, emb_y: Tensor) -> Tensor:
    """Identity-preserving loss mean(1 - cos(e_x, e_y)) between recognizer embeddings [N, D]."""
    return (1 - F.cosine_similarity(emb_x, emb_y, dim=1)).mean()
