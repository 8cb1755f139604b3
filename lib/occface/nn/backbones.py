"""Recognition backbones shared by the papers.

- ``LResNetIR``: the LResNet-E-IR network of ArcFace / FROM (FROM uses LResNet50E-IR on 112x96 inputs).
  FROM builds its mask decoder and its feature masking on ``stages()`` (the four residual stage outputs),
  so that interface is part of the contract (docs/CONTRACTS.md).
- ``LightCNN9``: the 9-layer Light CNN with Max-Feature-Map activations (Wu et al. 2018), the frozen
  identity supervisor of FSG-GAN and OA-GAN.

Both scale by ``width`` (the profile's base channel width; the papers' value is 64 for LResNet and 48 for
LightCNN) and by ``blocks`` so the same code runs at quick / default / full.
"""

from __future__ import annotations

from typing import Sequence

import torch
from torch import nn


def _pair(size: int | Sequence[int]) -> tuple[int, int]:
    if isinstance(size, int):
        return size, size
    h, w = size
    return int(h), int(w)


class IRBlock(nn.Module):
    """Improved residual unit of ArcFace (LResNet-E-IR): BN-Conv-BN-PReLU-Conv-BN plus shortcut.

    The stride sits on the second conv, as in ArcFace's "E" setting (and FROM's ``BasicBlock`` ``IR`` variant).
    """

    def __init__(self, cin: int, cout: int, stride: int):
        super().__init__()
        self.body = nn.Sequential(
            nn.BatchNorm2d(cin),
            nn.Conv2d(cin, cout, 3, 1, 1, bias=False),
            nn.BatchNorm2d(cout),
            nn.PReLU(cout),
            nn.Conv2d(cout, cout, 3, stride, 1, bias=False),
            nn.BatchNorm2d(cout),
        )
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))
        else:
            self.shortcut = nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x) + self.shortcut(x)


class LResNetIR(nn.Module):
    """LResNet-E-IR (ArcFace Sec. 3.2; FROM Sec. 4.1 uses LResNet50E-IR with ``blocks=(3, 4, 14, 3)``).

    Input stem: 3x3 conv stride 1 (the "E" input setting, keeps 112x96 at full resolution), BN, PReLU.
    Four stages of ``IRBlock`` with widths ``width * (1, 2, 4, 8)``, each starting with stride 2
    (112x96 -> 7x6 at the top). Output head (the "E" output setting): BN-Dropout-Flatten-FC-BN.

    ``stages(x)`` returns the four stage outputs, shallow to deep; ``head(x_top)`` maps the last one to the
    embedding, and ``forward(x) = head(stages(x)[-1])``.
    """

    def __init__(self, input_size: int | Sequence[int] = (112, 96), width: int = 64,
                 blocks: Sequence[int] = (3, 4, 14, 3), embedding: int = 512, dropout: float = 0.4):
        super().__init__()
        self.input_size = _pair(input_size)
        self.width, self.blocks, self.embedding = width, tuple(blocks), embedding
        self.channels = [width, width * 2, width * 4, width * 8]
        self.stem = nn.Sequential(nn.Conv2d(3, width, 3, 1, 1, bias=False), nn.BatchNorm2d(width), nn.PReLU(width))
        layers, cin = [], width
        for cout, count in zip(self.channels, self.blocks):
            stage = [IRBlock(cin, cout, 2)] + [IRBlock(cout, cout, 1) for _ in range(count - 1)]
            layers.append(nn.Sequential(*stage))
            cin = cout
        self.layers = nn.ModuleList(layers)
        h, w = self.input_size
        for _ in range(4):  # each stride-2 3x3 conv with padding 1: ceil(n / 2)
            h, w = (h + 1) // 2, (w + 1) // 2
        self.top_size = (h, w)
        self.output_layer = nn.Sequential(
            nn.BatchNorm2d(cin), nn.Dropout(dropout), nn.Flatten(),
            nn.Linear(cin * h * w, embedding), nn.BatchNorm1d(embedding))
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                if m.bias is not None:
                    nn.init.zeros_(m.bias)

    def stages(self, x: torch.Tensor) -> list[torch.Tensor]:
        """The four residual stage outputs (N, C_i, H/2^i, W/2^i), i = 1..4, shallow to deep."""
        out, x = [], self.stem(x)
        for layer in self.layers:
            x = layer(x)
            out.append(x)
        return out

    def head(self, x_top: torch.Tensor) -> torch.Tensor:
        """BN-Dropout-Flatten-FC-BN on the top stage output (FROM: applied to the *masked* top feature)."""
        return self.output_layer(x_top)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.stages(x)[-1])


class MFM(nn.Module):
    """Max-Feature-Map (LightCNN Eq. 1): a conv/linear to 2C outputs, then the element-wise max of the halves."""

    def __init__(self, cin: int, cout: int, kernel: int = 3, stride: int = 1, padding: int = 1, linear: bool = False):
        super().__init__()
        self.cout = cout
        self.filter = nn.Linear(cin, 2 * cout) if linear else nn.Conv2d(cin, 2 * cout, kernel, stride, padding)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a, b = torch.split(self.filter(x), self.cout, dim=1)
        return torch.maximum(a, b)


class _Group(nn.Module):
    """LightCNN 'group': 1x1 MFM then 3x3 MFM (network-in-network style)."""

    def __init__(self, cin: int, cout: int):
        super().__init__()
        self.a = MFM(cin, cin, 1, 1, 0)
        self.b = MFM(cin, cout, 3, 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.b(self.a(x))


class LightCNN9(nn.Module):
    """LightCNN-9 (Wu et al., "A Light CNN for Deep Face Representation with Noisy Labels", Table 2).

    conv1 5x5 MFM(48) - pool - group(96) - pool - group(192) - pool - group(128) - group(128) - pool -
    fc MFM(256). Channel widths scale by ``width / 48`` (48 = the paper's). Pooling is 2x2 max with
    ceil_mode, so any input size works (the paper's is 128x128 grey; we feed RGB at the profile's size).
    """

    def __init__(self, input_size: int | Sequence[int] = 128, width: int = 48, embedding: int = 256,
                 in_channels: int = 3, dropout: float = 0.0):
        super().__init__()
        self.input_size = _pair(input_size)
        c = [max(4, round(k * width / 48)) for k in (48, 96, 192, 128, 128)]
        pool = lambda: nn.MaxPool2d(2, 2, ceil_mode=True)  # noqa: E731
        self.features = nn.Sequential(
            MFM(in_channels, c[0], 5, 1, 2), pool(),
            _Group(c[0], c[1]), pool(),
            _Group(c[1], c[2]), pool(),
            _Group(c[2], c[3]),
            _Group(c[3], c[4]), pool(),
        )
        h, w = self.input_size
        for _ in range(4):
            h, w = -(-h // 2), -(-w // 2)
        self.top_size = (h, w)
        self.dropout = nn.Dropout(dropout)
        self.fc = MFM(c[4] * h * w, embedding, linear=True)
        # Not in the paper (softmax on raw MFM features): a BatchNorm on the embedding, as LResNet-E-IR's head
        # has, removes the shared mean direction of MFM features; without it normalized-softmax losses
        # (CosFace, FROM Eq. 1) see every face at cosine ~0.96 and barely train from scratch.
        self.bn = nn.BatchNorm1d(embedding)
        self.embedding = embedding
        # He init (the paper's Caffe models use 'xavier'; with PyTorch's default the activations shrink layer by
        # layer until the fc bias dominates and every face maps to the same direction: CosFace then cannot train)
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
                nn.init.zeros_(m.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.bn(self.fc(self.dropout(self.features(x).flatten(1))))


__all__ = ["IRBlock", "LResNetIR", "MFM", "LightCNN9"]
