"""FROM (paper 4): shapes and ranges of masks and patterns, Eqs. 2-6, and that lambda=0 switches L_pred off.

Runs on random tensors with a tiny stand-in backbone (same stages()/head() contract as LResNetIR).
"""

from __future__ import annotations

import pytest
import torch
from torch import nn

from occface.papers.from_.model import (FeaturePyramid, FROMConfig, FROMNet, MaskDecoder, binarize, from_loss,
                                     num_patterns, pattern_loss)

torch.set_num_threads(1)
SIZE = (28, 24)  # stages: 14x12, 7x6, 4x3, 2x2 -> decoder maps C3 (7x6) to X1's 2x2


class StubBackbone(nn.Module):
    """Four stride-2 conv stages and a BN-Flatten-FC-BN head: the LResNetIR interface, tiny."""

    def __init__(self, width: int = 4, embedding: int = 16, size: tuple[int, int] = SIZE):
        super().__init__()
        chans = [width, 2 * width, 4 * width, 8 * width]
        cin, layers = 3, []
        for c in chans:
            layers.append(nn.Sequential(nn.Conv2d(cin, c, 3, 2, 1), nn.BatchNorm2d(c), nn.PReLU(c)))
            cin = c
        self.layers = nn.ModuleList(layers)
        h, w = size
        for _ in range(4):
            h, w = (h + 1) // 2, (w + 1) // 2
        self.out = nn.Sequential(nn.BatchNorm2d(cin), nn.Flatten(), nn.Linear(cin * h * w, embedding),
                                 nn.BatchNorm1d(embedding))

    def stages(self, x):
        out = []
        for layer in self.layers:
            x = layer(x)
            out.append(x)
        return out

    def head(self, x):
        return self.out(x)


class CosFace(nn.Module):
    """Eq. 1 with (0, 0, m3); a local stand-in for occface.eval.recognizers.MarginSoftmax."""

    def __init__(self, emb: int, classes: int, s: float = 30.0, m: float = 0.35):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(classes, emb))
        self.s, self.m = s, m

    def forward(self, x, y):
        cos = nn.functional.normalize(x) @ nn.functional.normalize(self.weight).T
        return self.s * (cos - self.m * nn.functional.one_hot(y, cos.shape[1]))


def make(mask: str = "3d", head: str = "cls", K: int = 5, lam: float = 1.0, seed: int = 0) -> FROMNet:
    torch.manual_seed(seed)
    cfg = FROMConfig(input_size=SIZE, width=4, embedding=16, pyramid=8, mask=mask, pattern_head=head, K=K,
                     lam=lam)
    return FROMNet(cfg, backbone=StubBackbone())


def test_number_of_proximate_patterns_matches_the_paper():
    assert num_patterns(4) == 101 and num_patterns(5) == 226  # Sec. 3.4.1 / 3.4.2
    assert [num_patterns(k) for k in (3, 6)] == [37, 442]


def test_pyramid_eqs_2_3_bring_x1_up_to_c2_and_c3_resolution():
    pyr = FeaturePyramid(c1=32, c2=16, c3=8, d=12)
    x1, c2, c3 = torch.randn(2, 32, 4, 3), torch.randn(2, 16, 7, 6), torch.randn(2, 8, 14, 12)
    x2, x3 = pyr(x1, c2, c3)
    assert x2.shape == (2, 12, 7, 6) and x3.shape == (2, 12, 14, 12)


@pytest.mark.parametrize("kind,shape", [("3d", (5, 32, 2, 2)), ("2d", (5, 1, 2, 2)), ("fc", (5, 16))])
def test_mask_shapes_and_range(kind, shape):
    model = make(kind).eval()
    with torch.no_grad():
        out = model(torch.rand(5, 3, *SIZE))
    assert out.mask.shape == shape
    assert out.embedding.shape == (5, 16)
    assert float(out.mask.min()) > 0.0 and float(out.mask.max()) < 1.0  # Sigmoid: soft mask in (0, 1)


def test_3d_mask_has_the_shape_of_the_top_conv_features():
    model = make("3d").eval()
    x = torch.rand(3, 3, *SIZE)
    x1 = model.backbone.stages(x * 2 - 1)[-1]
    assert model(x).mask.shape == x1.shape  # C x H x W (Sec. 3.3.3)


def test_decoder_is_conv_prelu_bn_conv_sigmoid_with_stride_2():
    dec = MaskDecoder(d=8, channels=32, kind="3d")
    kinds = [type(m).__name__ for m in dec.net]
    assert kinds == ["Conv2d", "PReLU", "BatchNorm2d", "Conv2d", "Sigmoid"]
    assert dec.net[0].stride == (2, 2) and dec.net[3].stride == (2, 2)


def test_mask_multiplies_x1_binarized_all_ones_equals_unmasked_head():
    model = make("3d").eval()
    x = torch.rand(4, 3, *SIZE)
    with torch.no_grad():
        plain = model.backbone.head(model.backbone.stages(x * 2 - 1)[-1])
        ones = model(x, threshold=0.0).embedding      # B(x) = 1 everywhere
        zeros = model(x, threshold=1.01).embedding    # B(x) = 0 everywhere
        soft = model(x).embedding
    torch.testing.assert_close(ones, plain)
    assert not torch.allclose(soft, plain)
    assert torch.allclose(zeros, zeros[:1].expand_as(zeros))  # all-zero X1': every face looks the same


def test_binarize_is_a_hard_threshold_at_t():
    m = torch.tensor([0.1, 0.3, 0.5, 0.9])
    assert binarize(m, 0.3).tolist() == [0.0, 1.0, 1.0, 1.0]
    assert binarize(m, 0.6).tolist() == [0.0, 0.0, 0.0, 1.0]


@pytest.mark.parametrize("K", [3, 4, 5, 6])
def test_pattern_logits_have_one_entry_per_proximate_pattern(K):
    out = make("3d", K=K).eval()(torch.rand(3, 3, *SIZE))
    assert out.pattern.shape == (3, num_patterns(K))


def test_regression_head_outputs_a_box_and_eq5_is_mean_l2_distance():
    out = make("3d", head="reg").eval()(torch.rand(3, 3, *SIZE))
    assert out.pattern.shape == (3, 4)
    f = torch.tensor([[0.3, 0.4, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]])
    r = torch.zeros(2, 4)
    assert float(pattern_loss(f, r, "reg")) == pytest.approx((0.5 + 0.0) / 2)


def test_eq4_is_softmax_cross_entropy_over_patterns():
    logits = torch.tensor([[0.0, 0.0, 0.0, 0.0]])
    assert float(pattern_loss(logits, torch.tensor([2]))) == pytest.approx(torch.log(torch.tensor(4.0)).item())


def _grads(module: nn.Module) -> list[torch.Tensor | None]:
    return [p.grad for p in module.parameters()]


def test_lambda_zero_switches_the_pattern_loss_off():
    model, head = make("3d", lam=0.0).train(), CosFace(16, 7)
    x, y, pat = torch.rand(6, 3, *SIZE), torch.randint(0, 7, (6,)), torch.randint(0, 226, (6,))
    loss = from_loss(model, head, x, y, pat)
    assert loss.pred is None and loss.total is loss.margin
    loss.total.backward()
    assert all(g is None for g in _grads(model.predictor))       # the predictor is not trained
    assert any(g is not None and g.abs().sum() > 0 for g in _grads(model.decoder))  # decoder learns from L_margin


def test_lambda_positive_adds_weighted_pattern_loss_and_trains_the_predictor():
    x, y, pat = torch.rand(6, 3, *SIZE), torch.randint(0, 7, (6,)), torch.randint(0, 226, (6,))
    totals = {}
    for lam in (0.5, 1.0):
        model, head = make("3d", lam=lam, seed=1).train(), CosFace(16, 7)
        torch.manual_seed(5)  # same dropout draw for both lambdas
        loss = from_loss(model, head, x, y, pat)
        torch.testing.assert_close(loss.total, loss.margin + lam * loss.pred)
        totals[lam] = (float(loss.margin), float(loss.pred))
        loss.total.backward()
        assert all(g is not None for g in _grads(model.predictor))
    assert totals[0.5] == pytest.approx(totals[1.0], rel=1e-4)  # lambda only weighs, never changes, the terms


def test_baseline_has_no_mask_branch_and_shares_backbone_keys():
    base = FROMNet(FROMConfig(input_size=SIZE, width=4, embedding=16, mask="none"), backbone=StubBackbone())
    out = base(torch.rand(2, 3, *SIZE))
    assert out.mask is None and out.pattern is None
    full = make("3d")
    missing, unexpected = full.load_state_dict(base.state_dict(), strict=False)
    assert not unexpected and all(k.split(".")[0] in {"pyramid", "decoder", "predictor"} for k in missing)


def test_config_for_profile_scales_down_and_rejects_bad_values():
    quick = FROMConfig.for_profile("quick")
    assert quick.input_size == (56, 48) and quick.width == 8 and quick.K == 5 and quick.lam == 1.0
    full = FROMConfig.for_profile("full")
    assert full.input_size == (112, 96) and full.blocks == (3, 4, 14, 3) and full.embedding == 512
    with pytest.raises(ValueError):
        FROMConfig(mask="4d")
    with pytest.raises(ValueError):
        FROMConfig(K=0)


def test_real_backbone_at_quick_size_builds_and_masks():
    cfg = FROMConfig.for_profile("quick")
    model = FROMNet(cfg).eval()
    out = model(torch.rand(2, 3, *cfg.input_size))
    assert out.mask.shape == (2, 8 * cfg.width, 4, 3) and out.pattern.shape == (2, 226)
