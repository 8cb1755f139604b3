"""The restorer / inpainter contracts (docs/CONTRACTS.md), over every registered method: shape, range,
determinism for a seed, and, for inpainters that promise it, pixels outside the hole unchanged."""

from __future__ import annotations

import pytest
import torch

from occface import methods as registry
from occface.faces.occlusion import occlude


@pytest.fixture(scope="module")
def occluded(data_root):
    from occface.faces.data import load_faces

    faces = load_faces("lfw", size=32, split="test", max_images=6, seed=0)
    return occlude(faces.images, "sunglasses", landmarks=faces.landmarks, seed=1, templates="test")


@pytest.mark.slow
@pytest.mark.parametrize("name", registry.available())
def test_every_registered_method_keeps_the_contract(name, occluded):
    m = registry.method(name)
    x, hole = occluded.images, occluded.mask
    if m.kind == "inpainter":
        run = registry.inpainter(name, "quick")
        first, again = run(x, hole), run(x, hole)
    else:
        run = registry.restorer(name, "quick")
        first, again = run(x), run(x)
    assert first.shape == x.shape and first.dtype == torch.float32
    assert first.min() >= 0 and first.max() <= 1 and torch.isfinite(first).all()
    assert torch.equal(first, again)  # deterministic for a seed
    if m.keeps_known:
        assert torch.equal(first * (1 - hole), x * (1 - hole))


def test_unknown_method_lists_the_registered_ones():
    with pytest.raises(ValueError, match="registered methods are: .*pm"):
        registry.method("deepfil")


def test_an_inpainter_is_not_a_restorer_without_a_mask():
    with pytest.raises(ValueError, match="with_mask"):
        registry.restorer("pm", "quick")


def test_with_mask_thresholds_the_predicted_mask():
    seen = {}

    def inpaint(images, mask):
        seen["mask"] = mask
        return images

    images = torch.rand(2, 3, 8, 8)
    registry.with_mask(inpaint, lambda x: torch.full((2, 1, 8, 8), 0.6), threshold=0.5)(images)
    assert torch.equal(seen["mask"], torch.ones(2, 1, 8, 8))


def test_patchmatch_copies_a_hole_back_from_its_visible_twin():
    """A face-free check of PM: the hole's true content is a copy of a visible region."""
    from occface.baselines.patchmatch import PatchMatch

    g = torch.Generator().manual_seed(0)
    tile = torch.rand(1, 3, 8, 8, generator=g)
    image = tile.repeat(1, 1, 4, 4)  # a periodic texture: every 8x8 block is the same
    hole = torch.zeros(1, 1, 32, 32)
    hole[..., 12:20, 12:20] = 1
    out = PatchMatch()(image * (1 - hole), hole)
    assert (out - image).abs()[..., 12:20, 12:20].mean() < 0.05


def test_one_method_under_the_names_the_papers_give_it():
    """FSG-GAN's DeepFill, OA-GAN's GnIpt and ID-GAN's CA cite the same CVPR 2018 paper: one method."""
    assert registry.method("ca") is registry.method("gnipt") is registry.method("deepfill")
    assert registry.method("cl") is registry.method("coopnets")
