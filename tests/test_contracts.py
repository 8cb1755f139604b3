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


# ------------------------------------------------- one input check at the contract (issue 26, cases 5 and 6)

@pytest.fixture
def toys(monkeypatch):
    """A toy restorer and a toy inpainter registered for the test only (no training): they return their input
    (the inpainter fills the hole with 0.5), so what reaches them is what the contract let through."""
    from occface import registry as reg

    monkeypatch.setattr(reg, "_BUILT", {})
    monkeypatch.setitem(reg.REGISTRY, "toy-restorer", reg.Method("toy-restorer", "restorer", lambda p: lambda x: x, "test"))
    monkeypatch.setitem(reg.REGISTRY, "toy-inpainter", reg.Method(
        "toy-inpainter", "inpainter", lambda p: lambda x, m: torch.where(m.bool(), torch.full_like(x, 0.5), x), "test"))
    return reg.restorer("toy-restorer", "quick"), reg.inpainter("toy-inpainter", "quick")


def test_an_inpainter_refuses_a_0_255_or_0_2_mask_and_a_three_channel_one(toys):
    _, inpaint = toys
    x = torch.rand(2, 3, 32, 32)
    hole = torch.zeros(2, 1, 32, 32)
    hole[..., 8:16, 8:16] = 1
    assert torch.equal(inpaint(x, hole), inpaint(x, hole.bool()))  # {0,1} as float or bool: the same
    assert inpaint(x, hole * 0.5).shape == x.shape  # a soft mask in [0,1] is accepted
    with pytest.raises(ValueError, match=r"toy-inpainter: mask values must lie in \[0,1\] \(1 = hole\), got \[0, 255\]"):
        inpaint(x, (hole * 255).to(torch.uint8))
    with pytest.raises(ValueError, match=r"\[0, 2\]"):
        inpaint(x, hole * 2)
    with pytest.raises(ValueError, match=r"mask must be \(N,1,H,W\) = \(2,1,32,32\)"):
        inpaint(x, hole.expand(-1, 3, -1, -1))
    with pytest.raises(ValueError, match=r"got \(2, 32, 32\) \(add the channel axis"):
        inpaint(x, hole[:, 0])
    with pytest.raises(ValueError, match=r"got \(2, 1, 16, 16\)"):
        inpaint(x, hole[..., :16, :16])


def test_the_real_pm_refuses_a_0_255_mask_instead_of_returning_pixels_up_to_241():
    x = torch.rand(1, 3, 32, 32)
    hole = torch.zeros(1, 1, 32, 32)
    hole[..., 10:20, 10:20] = 1
    with pytest.raises(ValueError, match="divide a 0/255 mask by 255"):
        registry.inpainter("pm", "quick")(x, (hole * 255).to(torch.uint8))


@pytest.mark.parametrize("bad, message", [
    (lambda x: x * 255, r"must lie in \[0,1\], got \[0.\d\d\d, 2\d\d.\d\d\d\].*x / 255"),
    (lambda x: x * 2 - 1, r"must lie in \[0,1\], got \[-\d.\d\d\d, \d.\d\d\d\].*\(x \+ 1\) / 2"),
    (lambda x: (x * 255).to(torch.uint8), r"floating point in \[0,1\], got torch.uint8"),
    (lambda x: x.permute(0, 2, 3, 1), r"RGB \(N,3,H,W\), got \(2, 32, 32, 3\) \(channels last"),
    (lambda x: x[:, :1], r"got \(2, 1, 32, 32\) \(grayscale"),
    (lambda x: torch.nn.functional.interpolate(x, size=(48, 48)), r"must be 32x32 \(the profile's image size"),
    (lambda x: x.masked_fill(x > 0.99, float("nan")), "NaN or infinite"),
    (lambda x: x[0, 0], r"\(N,3,H,W\) float tensor in \[0,1\] \(or one \(3,H,W\) image\), got \(32, 32\)"),
])
def test_a_restorer_refuses_images_outside_the_contract_with_one_message(toys, bad, message):
    restore, inpaint = toys
    x = torch.rand(2, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    with pytest.raises(ValueError, match=message):
        restore(bad(x))
    with pytest.raises(ValueError, match=message):  # the same check for the inpainters
        inpaint(bad(x), torch.zeros(2, 1, 32, 32))


def test_float64_comes_back_float32_and_a_single_image_works_for_both_kinds(toys):
    restore, inpaint = toys
    x = torch.rand(2, 3, 32, 32)
    out = restore(x.double())
    assert out.dtype == torch.float32 and torch.equal(out, x)
    assert restore(x * (1 + 5e-5)).max() <= 1  # a resize's float rounding past 1 is clamped, not refused
    assert inpaint(x.double(), torch.zeros(2, 1, 32, 32, dtype=torch.float64)).dtype == torch.float32
    assert torch.equal(restore(x[0]), x[0])
    hole = torch.zeros(1, 32, 32)
    hole[:, :4] = 1
    single = inpaint(x[0], hole)
    assert single.shape == (3, 32, 32) and torch.equal(single, inpaint(x[:1], hole[None])[0])
    with pytest.raises(TypeError, match="call it with \\(images, mask\\)"):
        inpaint(x)
    restore_masked = registry.with_mask(inpaint, lambda images: torch.zeros_like(images[:, :1]))
    assert torch.equal(restore_masked(x[0].double()), x[0])  # the same through with_mask
    with pytest.raises(ValueError, match=r"with_mask restorer: images must lie in \[0,1\]"):
        restore_masked(x * 255)


def test_the_checked_method_still_shows_its_training_history_and_model():
    from occface.registry import Checked, Trained, unwrap

    inner = lambda x: x  # noqa: E731
    checked = Checked(Trained(inner, {"loss": [1.0, 0.5]}), "toy", "restorer", 32)
    assert checked.history == {"loss": [1.0, 0.5]} and unwrap(checked) is inner
