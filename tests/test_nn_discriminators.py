"""Discriminators: checkpoint compatibility, receptive field, crops, softmax weighting limits."""

import pytest
import torch
from torch import nn

from occface.nn.discriminators import (DCGANDiscriminator, GlobalLocalCritic, MultiReceptiveFieldDiscriminator,
                                       PatchGAN, crop_boxes, softmax_weighted)


class _RLADiscriminator(nn.Module):
    """The RLA discriminator as it was (occface.models.rla.Discriminator), to check checkpoints still load."""

    def __init__(self, image_size: int, width: int = 32):
        super().__init__()
        layers: list[nn.Module] = []
        channels, size = 1, image_size
        while size > 4:
            out = min(width * 2 ** len(layers[::3]), width * 8)
            layers += [nn.Conv2d(channels, out, 4, 2, 1), nn.BatchNorm2d(out) if channels > 1 else nn.Identity(),
                       nn.LeakyReLU(0.2)]
            channels, size = out, size // 2
        self.features = nn.Sequential(*layers)
        self.head = nn.Linear(channels * size * size, 1)

    def forward(self, x):
        return self.head(self.features(x).flatten(1)).squeeze(1)


def test_dcgan_discriminator_loads_an_rla_checkpoint_and_gives_the_same_logits():
    old = _RLADiscriminator(32, width=8).eval()
    new = DCGANDiscriminator(32, width=8).eval()
    new.load_state_dict(old.state_dict(), strict=True)
    x = torch.randn(3, 1, 32, 32)
    torch.testing.assert_close(new(x), old(x))
    assert new(x).shape == (3,)


def test_dcgan_discriminator_with_rgb_input_has_no_norm_only_on_the_first_layer():
    d = DCGANDiscriminator(32, channels=3, width=8)
    norms = [type(m).__name__ for m in d.features[1::3]]
    assert norms == ["Identity", "BatchNorm2d", "BatchNorm2d"]
    assert d.features[0].in_channels == 3 and d(torch.randn(2, 3, 32, 32)).shape == (2,)


def test_patchgan_layout_matches_pix2pix_and_outputs_a_patch_map():
    d = PatchGAN(3, width=8, layers=3, norm="instance")
    convs = [m for m in d.model if isinstance(m, nn.Conv2d)]
    assert [c.out_channels for c in convs] == [8, 16, 32, 64, 1]
    assert [c.stride[0] for c in convs] == [2, 2, 2, 1, 1]
    assert isinstance(d.model[1], nn.LeakyReLU)  # no norm after the first conv
    assert d(torch.randn(2, 3, 64, 64)).shape == (2, 1, 6, 6)


def test_patchgan_receptive_field_is_70_pixels():
    d = PatchGAN(1, width=4, layers=3, norm="none")
    x = torch.randn(1, 1, 128, 128, requires_grad=True)
    out = d(x)
    out[0, 0, out.shape[2] // 2, out.shape[3] // 2].backward()
    rows = torch.nonzero(x.grad[0, 0].abs().sum(1)).flatten()
    cols = torch.nonzero(x.grad[0, 0].abs().sum(0)).flatten()
    assert rows.max() - rows.min() + 1 == 70 and cols.max() - cols.min() + 1 == 70


def test_crop_boxes_is_exact_for_boxes_of_the_crop_size_and_per_sample():
    images = torch.randn(2, 3, 16, 16)
    boxes = torch.tensor([[2, 4, 10, 12], [8, 0, 16, 8]])
    crops = crop_boxes(images, boxes, 8)
    torch.testing.assert_close(crops[0], images[0, :, 4:12, 2:10])
    torch.testing.assert_close(crops[1], images[1, :, 0:8, 8:16])


def test_global_local_critic_scores_and_gradients_flow_through_the_crop():
    critic = GlobalLocalCritic(32, 16, width=4, channels=3)
    convs = [m for m in critic.local_net if isinstance(m, nn.Conv2d)]
    assert [(c.kernel_size[0], c.stride[0]) for c in convs] == [(5, 2)] * 4
    x = torch.randn(2, 3, 32, 32, requires_grad=True)
    boxes = torch.tensor([[0, 0, 16, 16], [8, 10, 24, 26]])
    g, l = critic(x, boxes)
    assert g.shape == (2,) and l.shape == (2,)
    l.sum().backward()
    assert x.grad[0, :, 16:, :].abs().sum() == 0 and x.grad[0, :, :16, :16].abs().sum() > 0


def test_softmax_weighted_is_the_mean_at_zero_and_the_max_for_large_lambda():
    d = torch.tensor([[0.1, 2.0, -1.0], [3.0, 3.5, 0.0]])
    torch.testing.assert_close(softmax_weighted(d, 0.0), d.mean(1))
    torch.testing.assert_close(softmax_weighted(d, 200.0), d.max(1).values)
    torch.testing.assert_close(softmax_weighted(d, -200.0), d.min(1).values)


def test_multi_receptive_field_discriminator_combines_per_level_patch_scores():
    blocks = [nn.Conv2d(3, 4, 3, 2, 1), nn.Conv2d(4, 6, 3, 2, 1), nn.Conv2d(6, 8, 3, 2, 1)]
    d = MultiReceptiveFieldDiscriminator(blocks, [4, 6, 8], lam=1.0, head_width=5, on="logits")
    x = torch.randn(2, 3, 16, 16)
    levels = d.level_scores(x)
    assert levels.shape == (2, 3)
    torch.testing.assert_close(d(x), softmax_weighted(levels, 1.0))
    d.on = "probabilities"  # the paper's Eq. 10: the same heads, weighted on mean patch probabilities
    probs = d.levels(x)
    torch.testing.assert_close(torch.sigmoid(d(x)), softmax_weighted(probs, 1.0))
    with pytest.raises(ValueError, match="head_channels"):
        MultiReceptiveFieldDiscriminator(blocks, [4, 6])
