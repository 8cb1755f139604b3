"""Masked / discounted reconstruction losses, TV, Gram, perceptual+style, identity: closed forms."""

import pytest
import torch
from torch import nn

from occface.nn.losses import (PerceptualStyle, chessboard_distance, discounted_l1, discounted_l2, gram,
                               identity_cosine, masked_l1, masked_l2, spatial_discount, total_variation)


def test_masked_l1_weights_hole_and_valid_and_normalises_by_element_count():
    x = torch.zeros(1, 2, 2, 2)
    y = torch.ones(1, 2, 2, 2)
    mask = torch.tensor([[[[1.0, 0.0], [0.0, 0.0]]]])  # one hole pixel of four, two channels
    assert masked_l1(x, y, mask, hole=6.0, valid=0.0).item() == pytest.approx(6.0 * 2 / 8)
    assert masked_l1(x, y, mask, hole=0.0, valid=1.0).item() == pytest.approx(6 / 8)
    assert masked_l1(x, y, mask).item() == pytest.approx(1.0)
    assert masked_l2(x, 3 * y, mask, hole=1.0, valid=0.0).item() == pytest.approx(9 * 2 / 8)


def test_spatial_discount_on_a_one_dimensional_hole():
    mask = torch.zeros(1, 1, 1, 11)
    mask[..., 2:9] = 1  # hole of 7 pixels: depths 0 1 2 3 2 1 0
    w = spatial_discount(mask, gamma=0.5)[0, 0, 0]
    expected = torch.tensor([1, 1, 1, .5, .25, .125, .25, .5, 1, 1, 1])
    torch.testing.assert_close(w, expected)
    assert spatial_discount(mask, 0.5, outside=0.0)[0, 0, 0, :2].sum() == 0


def test_spatial_discount_is_chessboard_and_one_on_the_hole_border():
    mask = torch.zeros(2, 1, 9, 9)
    mask[0, :, 2:7, 2:7] = 1
    d = chessboard_distance(mask)[0, 0]
    assert d[4, 4] == 3 and d[2, 2] == 1 and d[3, 3] == 2 and d[0, 0] == 0
    w = spatial_discount(mask, 0.9)
    border = (mask[0, 0] > 0) & (d == 1)
    assert torch.all(w[0, 0][border] == 1) and w[0, 0, 4, 4].item() == pytest.approx(0.81)
    assert torch.all(w[1] == 1)  # no hole in the second sample


def test_discounted_losses_weight_errors_by_the_discount_map():
    mask = torch.zeros(1, 1, 1, 5)
    mask[..., 1:4] = 1
    x, y = torch.zeros(1, 3, 1, 5), torch.full((1, 3, 1, 5), 2.0)
    w = torch.tensor([1, 1, 0.5, 1, 1])
    assert discounted_l1(x, y, mask, 0.5).item() == pytest.approx((2 * w).mean().item())
    assert discounted_l2(x, y, mask, 0.5).item() == pytest.approx((4 * w).mean().item())


def test_total_variation_of_a_ramp_and_restricted_to_the_dilated_hole():
    x = torch.arange(4.0).repeat(4, 1)[None, None]  # horizontal ramp: |dh| = 1, dv = 0
    assert total_variation(x).item() == pytest.approx(1.0)
    mask = torch.zeros(1, 1, 4, 4)
    mask[..., 0, 0] = 1  # dilated: rows 0-1, cols 0-1 -> 2 horizontal pairs of 12
    assert total_variation(x, mask).item() == pytest.approx(2 / 12)


def test_gram_of_a_known_tensor():
    f = torch.tensor([[1.0, 2.0], [0.0, 1.0]]).reshape(1, 2, 1, 2)  # C=2, H=1, W=2
    expected = torch.tensor([[5.0, 2.0], [2.0, 1.0]]) / 4
    torch.testing.assert_close(gram(f)[0], expected)


class _TwoLevels(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Conv2d(3, 4, 3, padding=1)
        self.b = nn.Sequential(nn.BatchNorm2d(4), nn.Conv2d(4, 4, 3, stride=2, padding=1))

    def forward(self, x):
        f1 = self.a(x)
        return [f1, self.b(f1)]


def test_perceptual_style_freezes_the_extractor_and_matches_hand_computation():
    ext = _TwoLevels()
    loss = PerceptualStyle(ext).train()
    assert not ext.training and not any(p.requires_grad for p in ext.parameters())
    x = torch.randn(2, 3, 8, 8, requires_grad=True)
    y = torch.randn(2, 3, 8, 8)
    perc, style = loss(x, y)
    fx, fy = ext(x), ext(y)
    torch.testing.assert_close(perc, sum((a - b).abs().mean() for a, b in zip(fx, fy)))
    torch.testing.assert_close(style, sum((gram(a) - gram(b)).abs().mean() for a, b in zip(fx, fy)))
    (perc + style).backward()
    assert x.grad is not None and all(p.grad is None for p in ext.parameters())
    zero_p, zero_s = loss(y, y)
    assert zero_p.item() == 0 and zero_s.item() == 0


def test_identity_cosine_is_zero_for_parallel_and_one_for_orthogonal():
    e = torch.tensor([[1.0, 0.0], [0.0, 2.0]])
    assert identity_cosine(e, 3 * e).item() == pytest.approx(0.0, abs=1e-7)
    assert identity_cosine(e, e.flip(1)).item() == pytest.approx(1.0)
