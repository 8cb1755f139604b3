"""Building blocks of the generators: conv-norm-act, residual, hybrid dilated, gated, partial convolution
and DeepFill's contextual attention.

Norm and activation are chosen by name, as in pix2pix's ``get_norm_layer``: norm in {"batch", "instance",
"none"} (instance norm without affine parameters, as pix2pix), act in {"relu", "lrelu" (slope 0.2), "elu",
"swish", "none"}. Convolutions are "same"-padded: stride s maps H to H/s (transposed: H to H*s).
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

NORMS = ("batch", "instance", "none")
ACTS = ("relu", "lrelu", "elu", "swish", "none")


def norm_layer(norm: str, channels: int) -> nn.Module:
    """BatchNorm2d, InstanceNorm2d (no affine, as pix2pix) or Identity, by name."""
    if norm == "batch":
        return nn.BatchNorm2d(channels)
    if norm == "instance":
        return nn.InstanceNorm2d(channels, affine=False, track_running_stats=False)
    if norm == "none":
        return nn.Identity()
    raise ValueError(f"unknown norm {norm!r}; valid: {', '.join(NORMS)}")


def activation(act: str) -> nn.Module:
    """ReLU, LeakyReLU(0.2), ELU, SiLU (swish) or Identity, by name."""
    table = {"relu": nn.ReLU, "lrelu": lambda: nn.LeakyReLU(0.2), "elu": nn.ELU, "swish": nn.SiLU,
             "none": nn.Identity}
    if act not in table:
        raise ValueError(f"unknown activation {act!r}; valid: {', '.join(ACTS)}")
    return table[act]()


def conv_norm_act(cin: int, cout: int, k: int = 3, stride: int = 1, dilation: int = 1, norm: str = "batch",
                  act: str = "relu", spectral: bool = False, transpose: bool = False) -> nn.Sequential:
    """conv (or transposed conv) -> norm -> activation, as ``Sequential(conv=..., norm=..., act=...)``.

    The conv has a bias unless a batch norm follows (its shift replaces it). ``spectral`` wraps the conv
    in spectral normalisation (Miyato et al. 2018).
    """
    pad = dilation * (k - 1) // 2
    bias = norm != "batch"
    if transpose:  # output_padding makes the output exactly stride * H
        extra = stride - 1 + 2 * pad - dilation * (k - 1)
        conv: nn.Module = nn.ConvTranspose2d(cin, cout, k, stride, pad, output_padding=extra, bias=bias,
                                             dilation=dilation)
    else:
        conv = nn.Conv2d(cin, cout, k, stride, pad, dilation=dilation, bias=bias)
    if spectral:
        conv = nn.utils.parametrizations.spectral_norm(conv)
    layers = [("conv", conv)]
    if norm != "none":
        layers.append(("norm", norm_layer(norm, cout)))
    if act != "none":
        layers.append(("act", activation(act)))
    return nn.Sequential(OrderedDict(layers))


class ResidualBlock(nn.Module):
    """x + norm(conv(act(norm(conv(x))))): pix2pix's ResnetBlock (zero padding, no dropout)."""

    def __init__(self, ch: int, norm: str = "batch", act: str = "relu", dilation: int = 1):
        super().__init__()
        self.body = nn.Sequential(conv_norm_act(ch, ch, 3, dilation=dilation, norm=norm, act=act),
                                  conv_norm_act(ch, ch, 3, norm=norm, act="none"))

    def forward(self, x: Tensor) -> Tensor:
        return x + self.body(x)


class HybridDilatedBlock(nn.Module):
    """FSG-GAN's hybrid dilated convolution (HDC): parallel 3x3 branches at dilation ``rates`` (1, 2, 5: no
    common factor, so no gridding; Wang et al. 2018) plus a 1x1 branch, concatenated and fused by a 1x1."""

    def __init__(self, cin: int, cout: int, rates: Sequence[int] = (1, 2, 5), norm: str = "batch",
                 act: str = "relu"):
        super().__init__()
        self.branches = nn.ModuleList(
            [conv_norm_act(cin, cout, 3, dilation=r, norm=norm, act=act) for r in rates]
            + [conv_norm_act(cin, cout, 1, norm=norm, act=act)])
        self.fuse = conv_norm_act(cout * (len(rates) + 1), cout, 1, norm=norm, act=act)

    def forward(self, x: Tensor) -> Tensor:
        return self.fuse(torch.cat([b(x) for b in self.branches], dim=1))


class GatedConv2d(nn.Module):
    """Gated convolution (Yu et al. ICCV 2019, DeepFill v2, Eq. 1): act(feature) * sigmoid(gate), both from
    one convolution with 2 * cout channels (as the official ``gen_conv``)."""

    def __init__(self, cin: int, cout: int, k: int = 3, stride: int = 1, dilation: int = 1, act: str = "elu"):
        super().__init__()
        self.conv = nn.Conv2d(cin, 2 * cout, k, stride, dilation * (k - 1) // 2, dilation=dilation)
        self.act = activation(act)

    def forward(self, x: Tensor) -> Tensor:
        feature, gate = self.conv(x).chunk(2, dim=1)
        return self.act(feature) * torch.sigmoid(gate)


class PartialConv2d(nn.Conv2d):
    """Partial convolution (Liu et al. ECCV 2018, Eqs. 1-2) with NVIDIA's mask update.

    Takes the *valid* mask M (1 = known pixel; ``1 - hole``), [N,1,H,W] or, with ``multi_channel``,
    [N,C_in,H,W]. Returns ``(out, new_valid)`` with
        out = (W^T (X*M)) * sum(1)/sum(M) + b  where sum(M) > 0, else 0;   M' = clamp(conv(M, 1), 0, 1),
    sum(1) = k*k (single-channel mask) or C_in*k*k (multi-channel). On an all-ones mask it is a plain conv.
    """

    def __init__(self, *args, multi_channel: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.multi_channel = multi_channel
        k = self.kernel_size
        shape = (self.out_channels, self.in_channels, *k) if multi_channel else (1, 1, *k)
        self.register_buffer("mask_kernel", torch.ones(shape), persistent=False)
        self.window = float(shape[1] * k[0] * k[1])

    def forward(self, x: Tensor, valid: Tensor | None = None) -> tuple[Tensor, Tensor]:
        if valid is None:
            valid = x.new_ones(x.shape[0], x.shape[1] if self.multi_channel else 1, *x.shape[2:])
        with torch.no_grad(), torch.autocast(x.device.type, enabled=False):  # exact window counts
            count = F.conv2d(valid.float(), self.mask_kernel, None, self.stride, self.padding, self.dilation)
            new_valid = count.clamp(0, 1)
            ratio = self.window / (count + 1e-8) * new_valid
        raw = F.conv2d(x * valid.to(x.dtype), self.weight, None, self.stride, self.padding, self.dilation,
                       self.groups)
        out = raw * ratio.to(raw.dtype)
        if self.bias is not None:
            out = out + self.bias.view(1, -1, 1, 1) * new_valid.to(raw.dtype)
        return out, new_valid.to(x.dtype)


def _same_pad(size: int, k: int, stride: int) -> tuple[int, int]:
    """TensorFlow's SAME padding (before, after) for one axis."""
    total = max((-(-size // stride) - 1) * stride + k - size, 0)
    return total // 2, total - total // 2


class ContextualAttention(nn.Module):
    """Contextual attention (Yu et al. CVPR 2018, DeepFill v1, Sec. 4.1), a port of ``contextual_attention``.

    forward(f, b, mask): foreground f and background b, both [N,C,H,W]; mask [N or 1,1,h,w], 1 = hole, at
    any resolution (max-pooled to the matching grid, so a cell touching the hole counts as hole).
    1. b's raw 2r x 2r patches (stride r, r = ``rate``) are kept for pasting; f, b are subsampled by r.
    2. Scores s[q, l] = <f patch at q, b patch l / max(||b patch l||, 1e-4)> over 3x3 patches (Eq. 1).
    3. ``fuse``: scores are convolved with a 3x3 identity kernel in the (q, l) plane, once in row-major and
       once in column-major flattening, favouring coherent patch shifts (the TF code's two passes).
    4. Background patches overlapping the hole are excluded; attention = softmax over l of scale * s.
       (TF multiplies those scores by 0 before the softmax, leaving them some mass that it then zeroes;
       here they get -1e4, so the attention over valid patches sums to 1.)
    5. Output = conv_transpose(attention, raw patches, stride r) / 4 (each pixel is covered by 4 patches).
    Batched: every sample uses its own mask and its own background; no loop over samples.
    """

    def __init__(self, patch: int = 3, rate: int = 2, softmax_scale: float = 10.0, fuse: bool = True,
                 fuse_k: int = 3):
        super().__init__()
        self.patch, self.rate, self.scale, self.fuse, self.fuse_k = patch, rate, softmax_scale, fuse, fuse_k
        self.register_buffer("fuse_kernel", torch.eye(fuse_k).view(1, 1, fuse_k, fuse_k), persistent=False)

    def _raw_patches(self, b: Tensor) -> Tensor:
        """[N, L, C, 2r, 2r] patches of b at stride r, TF SAME padding (what DeepFill pastes back)."""
        r, k = self.rate, 2 * self.rate
        (top, bottom), (left, right) = _same_pad(b.shape[2], k, r), _same_pad(b.shape[3], k, r)
        cols = F.unfold(F.pad(b, (left, right, top, bottom)), k, stride=r)  # [N, C*k*k, L]
        n, c = b.shape[:2]
        return cols.transpose(1, 2).reshape(n, -1, c, k, k)

    def _fuse(self, scores: Tensor, fh: int, fw: int, bh: int, bw: int) -> Tensor:
        """Two identity-kernel passes over [N, Q, L] scores: row-major, then column-major flattening."""
        n, p = scores.shape[0], self.fuse_k // 2
        y = F.conv2d(scores.reshape(n, 1, fh * fw, bh * bw), self.fuse_kernel.to(scores.dtype), padding=p)
        y = y.reshape(n, fh, fw, bh, bw).permute(0, 2, 1, 4, 3).reshape(n, 1, fw * fh, bw * bh)
        y = F.conv2d(y, self.fuse_kernel.to(scores.dtype), padding=p)
        return y.reshape(n, fw, fh, bw, bh).permute(0, 2, 1, 4, 3).reshape(n, fh * fw, bh * bw)

    def forward(self, f: Tensor, b: Tensor, mask: Tensor | None = None) -> Tensor:
        n, c, h, w = f.shape
        r, p = self.rate, self.patch
        raw = self._raw_patches(b)
        fd, bd = f[..., ::r, ::r], b[..., ::r, ::r]  # nearest-neighbour downsampling by r
        fh, fw, bh, bw = *fd.shape[2:], *bd.shape[2:]
        w_cols = F.unfold(bd, p, padding=p // 2)  # [N, C*p*p, L]
        w_cols = w_cols / w_cols.norm(dim=1, keepdim=True).clamp(min=1e-4)
        scores = F.unfold(fd, p, padding=p // 2).transpose(1, 2) @ w_cols  # [N, Q, L]
        if self.fuse:
            scores = self._fuse(scores, fh, fw, bh, bw)
        if mask is None:
            mask = b.new_zeros(1, 1, h, w)
        md = F.adaptive_max_pool2d(mask.to(b.dtype).amax(1, keepdim=True), (bh, bw))
        valid = F.unfold(md, p, padding=p // 2).amax(1) == 0  # [N or 1, L]: patch clear of the hole
        logits = (scores * self.scale).masked_fill(~valid[:, None, :], -1e4)
        attention = torch.softmax(logits, dim=2) * valid[:, None, :]  # [N, Q, L]
        attention = attention.transpose(1, 2).reshape(n, bh * bw, fh, fw)
        out = F.conv_transpose2d(attention.reshape(1, n * bh * bw, fh, fw),
                                 raw.reshape(n * bh * bw, c, 2 * r, 2 * r), stride=r, groups=n)
        top, left = _same_pad(h, 2 * r, r)[0], _same_pad(w, 2 * r, r)[0]  # TF's SAME conv2d_transpose
        return out.reshape(n, c, *out.shape[2:])[..., top:top + h, left:left + w] / 4.0
