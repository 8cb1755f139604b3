"""Margin softmax heads (FROM Eq. 1): one formula for SphereFace, ArcFace and CosFace; and the centre loss
(Wen et al., ECCV 2016) that joins a softmax head for the "centre loss" recognizer."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


class MarginSoftmax(nn.Module):
    """FROM Eq. 1: logits s*(cos(m1*theta_y + m2) - m3) for the true class, s*cos(theta_j) for the others.

    (m1, m2, m3) = (m, 0, 0) SphereFace, (1, m, 0) ArcFace, (1, 0, m) CosFace. Beyond m1*theta + m2 = pi the
    target logit continues monotonically as SphereFace's psi: (-1)^k cos(phi) - 2k, k = floor(phi / pi)
    (FROM's released ``SphereMarginProduct`` uses the bare cos(m*theta), which is not monotone; we follow the
    SphereFace paper). No lambda annealing: SphereFace's m1 is used as given (FROM's code uses m = 1.5).
    """

    def __init__(self, embedding: int, classes: int, s: float = 64.0, m1: float = 1.0, m2: float = 0.0,
                 m3: float = 0.0):
        super().__init__()
        self.s, self.m1, self.m2, self.m3 = s, m1, m2, m3
        self.weight = nn.Parameter(torch.empty(classes, embedding))
        nn.init.xavier_uniform_(self.weight)

    def forward(self, features: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        cos = F.linear(F.normalize(features), F.normalize(self.weight)).clamp(-1.0, 1.0)
        target_cos = cos.gather(1, labels.view(-1, 1))
        if self.m1 != 1.0 or self.m2 != 0.0:
            # clamp keeps acos' gradient finite at |cos| = 1
            phi = self.m1 * torch.acos(target_cos.clamp(-1 + 1e-7, 1 - 1e-7)) + self.m2
            k = torch.floor(phi / math.pi).detach()
            target = (1 - 2 * torch.remainder(k, 2)) * torch.cos(phi) - 2 * k
        else:
            target = target_cos
        target = target - self.m3
        logits = cos.scatter(1, labels.view(-1, 1), target)
        return self.s * logits


# FROM trains its baseline and FROM with CosFace s=30, m=0.35 (lib/models/metrics.py CosMarginProduct).
COSFACE = dict(s=30.0, m3=0.35)
ARCFACE = dict(s=64.0, m2=0.5)
SPHEREFACE = dict(s=64.0, m1=1.5)  # FROM's released SphereMarginProduct default m=1.5 (paper: 4, with annealing)
# "centerloss": the cosine softmax of "softmax" plus CENTRE_LOSS on the features that head scores (s x unit
# embedding), so the two recognizers differ only by the centre term
LOSSES = {"cosface": COSFACE, "arcface": ARCFACE, "sphereface": SPHEREFACE, "softmax": dict(s=30.0),
          "centerloss": dict(s=30.0)}
# Wen et al. (their LFW / YTF models): lambda = 0.003, alpha = 0.5. Their features are raw (a plain softmax);
# ours are s * unit embedding, the vectors the cosine head takes dot products with, so lambda keeps its meaning
CENTRE_LOSS = dict(weight=0.003, alpha=0.5)


class CentreLoss(nn.Module):
    """Wen et al. 2016, Eq. 2: L_C = 1/2 ||x_i - c_{y_i}||^2, averaged over the batch (their Caffe layer divides
    by the batch size). The centres are a buffer moved by Eq. 4, not by the optimizer:
    c_j <- c_j - alpha * sum_{i: y_i = j} (c_j - x_i) / (1 + n_j). They start at zero (Wen et al. do not say)."""

    def __init__(self, classes: int, embedding: int, alpha: float = 0.5):
        super().__init__()
        self.alpha = alpha
        self.register_buffer("centres", torch.zeros(classes, embedding))

    def forward(self, features: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return 0.5 * (features - self.centres[labels]).pow(2).sum(1).mean()

    @torch.no_grad()
    def update(self, features: torch.Tensor, labels: torch.Tensor) -> None:
        """Eq. 4 on this batch's features (one step per class present in it)."""
        diff = torch.zeros_like(self.centres).index_add_(0, labels, self.centres[labels] - features.detach())
        count = torch.bincount(labels, minlength=len(self.centres)).to(diff.dtype)
        self.centres -= self.alpha * diff / (1 + count[:, None])
