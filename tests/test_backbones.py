"""Shapes and the stages()/head() contract of the recognition backbones."""

import torch

from occface.nn.backbones import LightCNN9, LResNetIR


def test_lresnet_stages_and_head_compose_to_forward():
    torch.manual_seed(0)
    net = LResNetIR(input_size=(56, 48), width=4, blocks=(1, 1, 1, 1), embedding=32).eval()
    x = torch.randn(2, 3, 56, 48)
    feats = net.stages(x)
    assert [f.shape[1] for f in feats] == [4, 8, 16, 32]
    assert [tuple(f.shape[2:]) for f in feats] == [(28, 24), (14, 12), (7, 6), (4, 3)]
    out = net(x)
    assert out.shape == (2, 32)
    assert torch.allclose(out, net.head(feats[-1]))


def test_lresnet_paper_geometry_top_is_7x6():
    net = LResNetIR(input_size=(112, 96), width=2, blocks=(1, 1, 1, 1), embedding=8)
    assert net.top_size == (7, 6)


def test_lightcnn_output_and_mfm_halves_channels():
    net = LightCNN9(input_size=(32, 32), width=8, embedding=16).eval()
    out = net(torch.randn(3, 3, 32, 32))
    assert out.shape == (3, 16)
    assert net.features[0].filter.out_channels == 2 * net.features[0].cout
