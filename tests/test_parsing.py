"""Face parsing: polygon filling, labels on their landmarks (real faces, dlib), and the parser's training."""

from __future__ import annotations

import pytest
import torch

from occface.nn import parsing as P


def test_fill_polygons_fills_pixel_centres_inside_a_square():
    square = torch.tensor([[[1.5, 1.5], [4.5, 1.5], [4.5, 4.5], [1.5, 4.5]]])  # pixel centres 2..4 inside
    inside = P.fill_polygons(square, 8)[0]
    expected = torch.zeros(8, 8, dtype=torch.bool)
    expected[2:5, 2:5] = True
    assert torch.equal(inside, expected)


def test_fill_polygons_handles_concave_shapes_and_batches():
    ell = torch.tensor([[0.5, 0.5], [6.5, 0.5], [6.5, 2.5], [2.5, 2.5], [2.5, 6.5], [0.5, 6.5]])
    inside = P.fill_polygons(torch.stack([ell, ell + 1]), 8)
    assert inside[0, 1, 5] and inside[0, 5, 1] and not inside[0, 5, 5]  # the notch stays empty
    assert torch.equal(inside[1, 1:, 1:], inside[0, :-1, :-1])


def test_labels_shape_dtype_and_range():
    g = torch.Generator().manual_seed(0)
    lm = 8 + torch.rand(3, 68, 2, generator=g) * 16
    labels = P.parsing_labels(lm, 32)
    assert labels.shape == (3, 32, 32) and labels.dtype == torch.int64
    assert labels.min() >= 0 and labels.max() < len(P.CLASSES)
    assert P.colorize(labels).shape == (3, 3, 32, 32)


@pytest.fixture(scope="module")
def real(data_root):
    from occface.faces.data import load_faces

    faces = load_faces("lfw", size=64, split="test", max_images=8, seed=0)
    lm = P.predict_landmarks68(faces.images)
    return faces, lm, P.parsing_labels(lm, 64)


def _label_at(labels: torch.Tensor, points: torch.Tensor) -> torch.Tensor:
    xy = points.round().long()
    return labels[torch.arange(len(labels)), xy[:, 1], xy[:, 0]]


def test_landmarks_agree_with_the_five_alignment_points(real):
    from occface.faces.align import five_from_68

    faces, lm, _ = real
    five = torch.stack([torch.from_numpy(five_from_68(p.numpy())).float() for p in lm])
    iod = (faces.landmarks[:, 1] - faces.landmarks[:, 0]).norm(dim=1)
    assert ((five - faces.landmarks).norm(dim=2) / iod[:, None]).median() < 0.1


def test_each_polygon_lands_on_its_landmarks(real):
    _, lm, labels = real
    cls = {name: k for k, name in enumerate(P.CLASSES)}
    iod = (lm[:, 42:48].mean(1) - lm[:, 36:42].mean(1)).norm(dim=1, keepdim=True)
    checks = {"nose": lm[:, 30], "left_eye": lm[:, 36:42].mean(1), "right_eye": lm[:, 42:48].mean(1),
              "upper_lip": (lm[:, 51] + lm[:, 62]) / 2, "lower_lip": (lm[:, 57] + lm[:, 66]) / 2,
              "left_brow": lm[:, 19] + torch.cat([torch.zeros_like(iod), 0.075 * iod], 1),
              "skin": (lm[:, 3] + lm[:, 30]) / 2}
    for name, points in checks.items():
        hits = (_label_at(labels, points) == cls[name]).float().mean()
        assert hits >= 0.75, f"{name}: {hits:.2f} of its landmarks fall in its class"
    assert (labels[:, 0, 0] == cls["background"]).all()


def test_parser_trains_on_a_fixed_batch():
    torch.manual_seed(0)
    images = torch.rand(4, 3, 16, 16)
    labels = (images[:, 0] > 0.5).long() * 4 + (images[:, 1] > 0.5).long()  # a learnable pixel rule
    parser = P.FaceParser(width=4)
    opt = torch.optim.Adam(parser.parameters(), lr=1e-2)
    losses = [P.parser_step(parser, opt, images, labels) for _ in range(40)]
    assert losses[-1] < 0.6 * losses[0]
    acc = P.parser_accuracy(parser.eval(), images, labels)
    assert 0 <= acc["pixel_accuracy"] <= 1 and set(P.CLASSES) <= set(acc)


def test_class_weights_favour_rare_classes():
    labels = torch.zeros(1, 10, 10, dtype=torch.long)
    labels[0, :5] = 1
    labels[0, 0, 0] = 4
    w = P.class_weights(labels)
    assert w[4] > w[0] and w.shape == (len(P.CLASSES),)
