"""Blocks: shapes by name, partial conv against NVIDIA's formulas, contextual attention copy-back."""

import pytest
import torch
import torch.nn.functional as F

from occface.nn.blocks import (ContextualAttention, GatedConv2d, HybridDilatedBlock, PartialConv2d,
                               ResidualBlock, conv_norm_act)


@pytest.mark.parametrize("k,stride,dilation", [(3, 1, 1), (3, 2, 1), (4, 2, 1), (3, 1, 2), (5, 2, 1)])
def test_conv_norm_act_is_same_padded_forward_and_transposed(k, stride, dilation):
    x = torch.randn(2, 3, 16, 16)
    down = conv_norm_act(3, 5, k, stride, dilation, norm="instance", act="lrelu")
    assert down(x).shape == (2, 5, 16 // stride, 16 // stride)
    up = conv_norm_act(3, 5, k, stride, dilation, norm="none", act="swish", transpose=True)
    assert up(x).shape == (2, 5, 16 * stride, 16 * stride)


def test_conv_norm_act_names_layers_and_rejects_unknown_names():
    block = conv_norm_act(3, 4, norm="batch", act="elu", spectral=True)
    assert list(dict(block.named_children())) == ["conv", "norm", "act"]
    assert block.conv.bias is None and hasattr(block.conv, "parametrizations")
    assert list(dict(conv_norm_act(3, 4, norm="none", act="none").named_children())) == ["conv"]
    with pytest.raises(ValueError, match="batch, instance, none"):
        conv_norm_act(3, 4, norm="group")
    with pytest.raises(ValueError, match="relu, lrelu, elu, swish, none"):
        conv_norm_act(3, 4, act="gelu")


def test_residual_and_hybrid_dilated_blocks_keep_the_spatial_size():
    x = torch.randn(2, 4, 12, 12)
    assert ResidualBlock(4, "instance", "relu")(x).shape == x.shape
    hdc = HybridDilatedBlock(4, 6)
    assert [b.conv.dilation[0] for b in hdc.branches] == [1, 2, 5, 1]
    assert hdc.branches[-1].conv.kernel_size == (1, 1) and hdc.fuse.conv.in_channels == 24
    assert hdc(x).shape == (2, 6, 12, 12)


def test_gated_conv_multiplies_activated_features_by_sigmoid_gate():
    g = GatedConv2d(3, 2, act="none")
    x = torch.randn(1, 3, 6, 6)
    feature, gate = g.conv(x).chunk(2, 1)
    torch.testing.assert_close(g(x), feature * torch.sigmoid(gate))


@pytest.mark.parametrize("multi_channel", [False, True])
def test_partial_conv_on_all_ones_mask_equals_plain_conv(multi_channel):
    pconv = PartialConv2d(3, 4, 3, stride=1, padding=1, multi_channel=multi_channel)
    x = torch.randn(2, 3, 8, 8)
    ones = torch.ones(2, 3 if multi_channel else 1, 8, 8)
    out, new = pconv(x, ones)
    # at the frame the zero padding is "unknown", so the plain conv is matched in the interior
    plain = F.conv2d(x, pconv.weight, pconv.bias, padding=1)
    torch.testing.assert_close(out[..., 1:-1, 1:-1], plain[..., 1:-1, 1:-1])
    plain_valid = PartialConv2d(3, 4, 3, padding=0, multi_channel=multi_channel)
    torch.testing.assert_close(plain_valid(x, ones)[0], F.conv2d(x, plain_valid.weight, plain_valid.bias))
    assert new.shape[1] == (4 if multi_channel else 1) and torch.all(new == 1)


def test_partial_conv_renormalises_by_the_valid_count_and_zeroes_empty_windows():
    pconv = PartialConv2d(1, 1, 3, padding=1, bias=True)
    with torch.no_grad():
        pconv.weight.fill_(1.0)
        pconv.bias.fill_(0.5)
    x = torch.full((1, 1, 5, 5), 2.0)
    valid = torch.ones(1, 1, 5, 5)
    valid[..., :, :3] = 0  # columns 0-2 unknown
    out, new = pconv(x, valid)
    # column 2 sees one valid column (3 pixels) of 9: (2*3) * 9/3 + 0.5
    assert out[0, 0, 2, 2].item() == pytest.approx(2 * 3 * 3 + 0.5)
    assert out[0, 0, 2, 1].item() == 0 and new[0, 0, 2, 1] == 0 and new[0, 0, 2, 2] == 1


@pytest.mark.parametrize("k", [3, 5])
def test_partial_conv_hole_shrinks_by_half_the_kernel_per_side(k):
    pconv = PartialConv2d(2, 2, k, padding=k // 2)
    valid = torch.ones(1, 1, 20, 20)
    valid[..., 4:14, 4:14] = 0  # a 10x10 hole, larger than the receptive field
    hole = 1 - pconv(torch.randn(1, 2, 20, 20), valid)[1][0, 0]
    side = 10 - 2 * (k // 2)
    assert hole.sum().item() == side * side
    assert torch.all(hole[4 + k // 2: 14 - k // 2, 4 + k // 2: 14 - k // 2] == 1)


def _two_halves(n=1, c=4, h=12, half=12):
    left = torch.randn(n, c, h, half)
    return torch.cat([left, left], dim=3)


def test_contextual_attention_copies_a_hole_back_from_the_identical_half():
    torch.manual_seed(0)
    x = _two_halves()
    mask = torch.zeros(1, 1, 12, 24)
    mask[..., 4:8, 3:8] = 1  # hole in the left half; its content sits in the right half
    attn = ContextualAttention(rate=1, fuse=False)
    y = attn(x, x * (1 - mask), mask)
    assert y.shape == x.shape
    hole = mask.bool().expand_as(x)
    torch.testing.assert_close(y[hole], x[hole], atol=1e-4, rtol=1e-4)


def test_contextual_attention_is_batched_with_per_sample_masks():
    torch.manual_seed(1)
    f, b = torch.randn(2, 3, 16, 16), torch.randn(2, 3, 16, 16)
    mask = torch.zeros(2, 1, 16, 16)
    mask[0, :, 2:8, 2:8] = 1
    mask[1, :, 8:14, 6:12] = 1
    attn = ContextualAttention(rate=2, fuse=True)
    batched = attn(f, b, mask)
    single = torch.cat([attn(f[i:i + 1], b[i:i + 1], mask[i:i + 1]) for i in range(2)])
    assert batched.shape == f.shape
    torch.testing.assert_close(batched, single, atol=1e-5, rtol=1e-5)


def test_contextual_attention_with_rate_two_reconstructs_a_copy_in_the_interior():
    torch.manual_seed(2)
    x = _two_halves(h=16, half=16).repeat_interleave(2, 2).repeat_interleave(2, 3)  # piecewise-constant 2x2
    mask = torch.zeros(1, 1, 32, 64)
    mask[..., 12:20, 8:20] = 1
    y = ContextualAttention(rate=2, fuse=True)(x, x * (1 - mask), mask)
    hole = mask.bool().expand_as(x)
    torch.testing.assert_close(y[hole], x[hole], atol=1e-3, rtol=1e-3)


def _diag_sum(s):
    """TF's fuse pass: out[q, l] = sum_t s[q+t, l+t], t in {-1, 0, 1}, zero outside."""
    out = torch.zeros_like(s)
    for t in (-1, 0, 1):
        for q in range(s.shape[0]):
            for l in range(s.shape[1]):
                if 0 <= q + t < s.shape[0] and 0 <= l + t < s.shape[1]:
                    out[q, l] += s[q + t, l + t]
    return out


def test_contextual_attention_fuse_is_two_identity_passes_row_then_column_major():
    fh, fw, bh, bw = 2, 3, 3, 2
    s = torch.randn(1, fh * fw, bh * bw)
    one = _diag_sum(s[0]).reshape(fh, fw, bh, bw)
    col = one.permute(1, 0, 3, 2).reshape(fw * fh, bw * bh)
    expected = _diag_sum(col).reshape(fw, fh, bw, bh).permute(1, 0, 3, 2).reshape(fh * fw, bh * bw)
    torch.testing.assert_close(ContextualAttention()._fuse(s, fh, fw, bh, bw)[0], expected)
