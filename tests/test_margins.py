"""The centre loss (Wen et al. 2016): its value on a hand-built example, Eq. 4's centre update, and that its
gradient pulls features towards their class centres."""

import torch

from occface.nn.margins import LOSSES, CentreLoss


def test_centre_loss_value_on_a_hand_built_example():
    loss = CentreLoss(classes=2, embedding=2)
    loss.centres.copy_(torch.tensor([[0.0, 0.0], [1.0, 1.0]]))
    features = torch.tensor([[3.0, 4.0], [1.0, 2.0], [0.0, 0.0]])
    labels = torch.tensor([0, 1, 1])
    # 1/2 ||x - c||^2 per face: 12.5, 0.5, 1.0; batch mean 14 / 3
    assert torch.isclose(loss(features, labels), torch.tensor(14.0 / 3))


def test_centre_update_is_eq_4():
    loss = CentreLoss(classes=3, embedding=2, alpha=0.5)
    features = torch.tensor([[2.0, 0.0], [4.0, 2.0], [1.0, 1.0]])
    loss.update(features, torch.tensor([0, 0, 1]))
    # class 0: delta = ((0 - 2) + (0 - 4), (0 - 0) + (0 - 2)) / (1 + 2) = (-2, -2/3); c <- c - 0.5 delta
    assert torch.allclose(loss.centres[0], torch.tensor([1.0, 1.0 / 3]))
    assert torch.allclose(loss.centres[1], torch.tensor([0.25, 0.25]))  # (-1, -1) / 2 * -0.5
    assert torch.equal(loss.centres[2], torch.zeros(2))                 # absent class: unmoved


def test_centre_loss_pulls_features_towards_their_centres():
    torch.manual_seed(0)
    loss = CentreLoss(classes=3, embedding=4)
    loss.centres.copy_(torch.randn(3, 4))
    labels = torch.tensor([0, 1, 2, 0, 1])
    features = torch.randn(5, 4, requires_grad=True)
    before = (features - loss.centres[labels]).norm(dim=1).detach()
    loss(features, labels).backward()
    with torch.no_grad():
        after = (features - 0.1 * features.grad - loss.centres[labels]).norm(dim=1)
    assert (after < before).all()
    # and Eq. 4 moves each centre towards its features
    centres = loss.centres.clone()
    loss.update(features.detach(), labels)
    for c in range(3):
        mean = features.detach()[labels == c].mean(0)
        assert (loss.centres[c] - mean).norm() < (centres[c] - mean).norm()


def test_centre_loss_recognizer_uses_the_softmax_head():
    assert LOSSES["centerloss"] == LOSSES["softmax"]
