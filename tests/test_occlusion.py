
import pytest
import torch

from occface.faces.align import template
from occface.faces.occlusion import (GEOMETRIC, KINDS, PLACEMENTS, occlude, pattern_labels, proximate_patterns,
                               template_names)


@pytest.mark.parametrize("K", [3, 4, 5, 6])
def test_pattern_counts(K):
    p = proximate_patterns(K)
    assert p.shape == ((K * (K + 1) // 2) ** 2 + 1, K, K) and p.dtype == torch.bool
    assert not p[0].any() and p[1:].flatten(1).any(1).all()
    assert len({tuple(x.flatten().tolist()) for x in p}) == len(p)  # all distinct
    if K == 4:
        assert len(p) == 101
    if K == 5:
        assert len(p) == 226


def test_pattern_label_matches_block():
    # a box exactly on block (row 1, col 2) of a 4x4 grid on 64x64 -> that single-block pattern
    box = torch.tensor([[32.0, 16.0, 48.0, 32.0], [0.0, 0.0, 0.0, 0.0]])
    lab = pattern_labels(box, (64, 64), 4)
    pat = proximate_patterns(4)[lab[0]]
    assert pat.sum() == 1 and pat[1, 2] and lab[1] == 0


def test_template_split_disjoint(data_root):
    for kind in KINDS:
        tr, te = set(template_names(kind, "train")), set(template_names(kind, "test"))
        assert tr and te and (not tr & te or len(template_names(kind, "all")) == 1)
        assert tr | te == set(template_names(kind, "all"))


@pytest.mark.parametrize("kind", KINDS + GEOMETRIC)
def test_every_kind_and_placement(kind, faces128):
    x, lm = faces128
    for placement in PLACEMENTS:
        o = occlude(x, kind, 1.0, placement, landmarks=lm, seed=2, K=4, rotation=10)
        assert o.images.shape == x.shape and o.mask.shape == (len(x), 1, 128, 128)
        assert set(o.mask.unique().tolist()) <= {0.0, 1.0} and o.area.gt(0).all()
        # mask correctness: pixels change only where the mask is 1, and are pasted (kept) exactly there
        changed = (o.images != x).any(1, keepdim=True)
        assert not (changed & (o.mask == 0)).any()
        assert torch.allclose(o.area, o.mask.mean((1, 2, 3)))
        assert (o.box[:, 2] >= o.box[:, 0]).all() and o.pattern.min() >= 0


def test_mask_is_thresholded_alpha(faces128):
    """Mask equals where the template's alpha was pasted: re-warping an all-opaque occluder image of a single
    white template reproduces the mask as the set of pixels that turned exactly to the template colour."""
    x = torch.zeros(4, 3, 64, 64)
    o = occlude(x, "block_white", 1.0, "random", seed=0)
    assert torch.equal(o.mask.bool(), (o.images == 1).all(1, keepdim=True))
    side = round(48 / 128 * 64)
    assert (o.mask.sum((1, 2, 3)) == side * side).all()  # ID-GAN block: exactly side x side pixels


def test_semantic_covers_landmarks(faces128):
    x, lm = faces128
    n = len(x)
    idx = torch.arange(n)

    def covered(o, k):
        px = lm[:, k].round().long().clamp(0, 127)
        return o.mask[idx, 0, px[:, 1], px[:, 0]]

    sun = occlude(x, "sunglasses", 1.0, "semantic", landmarks=lm, seed=0, templates="all")
    assert (covered(sun, 0) == 1).all() and (covered(sun, 1) == 1).all()
    mm = occlude(x, "mouth_mask", 1.0, "semantic", landmarks=lm, seed=0, templates="all")
    assert (covered(mm, 3) == 1).all() and (covered(mm, 4) == 1).all()


def test_random_placement_follows_alg1():
    x = torch.rand(64, 3, 112, 96)
    small = occlude(x, "sunglasses", 1.0, "random", seed=0)
    big = occlude(x, "sunglasses", 3.0, "random", seed=0)
    assert big.box_area.mean() > small.box_area.mean()
    wid = big.box[:, 2] - big.box[:, 0]
    assert (wid <= 96).all()
    centre = (small.box[:, :2] + small.box[:, 2:]) / 2
    assert centre.min() >= -1 and centre[:, 0].max() <= 97


def test_deterministic_and_seeded(faces128):
    x, lm = faces128
    a = occlude(x, "hand", 2.0, "random", seed=5, K=5, rotation=15)
    b = occlude(x, "hand", 2.0, "random", seed=5, K=5, rotation=15)
    c = occlude(x, "hand", 2.0, "random", seed=6, K=5, rotation=15)
    assert torch.equal(a.images, b.images) and torch.equal(a.pattern, b.pattern)
    assert not torch.equal(a.images, c.images)


def test_clean_fraction_gets_clean_pattern(faces128):
    x, _ = faces128
    o = occlude(x, "cup", 1.0, "random", seed=0, K=4, clean=0.5)
    clean = o.mask.sum((1, 2, 3)) == 0
    assert clean.any() and (o.pattern[clean] == 0).all()
    assert torch.equal(o.images[clean], x[clean])


def test_rotation_jitter_range():
    o = occlude(torch.rand(200, 3, 64, 64), "block_black", 1.0, "random", seed=0, rotation=15)
    assert o.angle.abs().max() <= 15 + 1e-4 and o.angle.abs().max() > 10


def test_bad_inputs(monkeypatch, tmp_path):
    x = torch.rand(2, 3, 32, 32)
    with pytest.raises(ValueError, match="unknown occlusion kind"):
        occlude(x, "hat")
    with pytest.raises(ValueError, match="scale"):
        occlude(x, "block_black", 0)
    with pytest.raises(ValueError, match="scale"):
        occlude(x, "block_black", -1.0)
    with pytest.raises(ValueError, match="N,3,H,W"):
        occlude(torch.rand(3, 32, 32), "block_black")
    with pytest.raises(ValueError, match="N,3,H,W"):
        occlude(torch.rand(2, 1, 32, 32), "block_black")
    with pytest.raises(ValueError, match=r"\[0,1\]"):
        occlude(x * 2 - 1, "block_black")
    with pytest.raises(ValueError, match="floating"):
        occlude((x * 255).to(torch.uint8), "block_black")
    with pytest.raises(ValueError, match="placement"):
        occlude(x, "block_black", placement="anywhere")
    with pytest.raises(ValueError, match="landmarks"):
        occlude(x, "sunglasses", landmarks=torch.zeros(3, 5, 2))
    with pytest.raises(ValueError, match="K"):
        occlude(x, "block_black", K=0)
    with pytest.raises(ValueError, match="occluders"):
        occlude(x, "sunglasses", root=tmp_path)
    monkeypatch.delenv("OCCFACE_DATA", raising=False)
    with pytest.raises(ValueError, match="OCCFACE_DATA"):
        occlude(x, "sunglasses")


@pytest.mark.parametrize("bad, name", [
    (lambda lm: lm.index_fill(0, torch.tensor([2]), float("nan")), "a missed detection"),
    (lambda lm: torch.full_like(lm, float("nan")), "no detection at all"),
    (lambda lm: lm / 64.0, "landmarks normalised to [0,1]"),
])
def test_unusable_landmarks_are_refused_naming_the_rows(bad, name):
    faces = torch.rand(4, 3, 64, 64)
    lm = torch.from_numpy(template(64)).float().expand(4, 5, 2).clone()
    with pytest.raises(ValueError, match=r"landmarks of images \[.*\] are unusable"):
        occlude(faces, "block_black", landmarks=bad(lm))


def test_non_finite_pixels_and_rotation_are_refused():
    faces = torch.rand(3, 3, 32, 32)
    faces[1, 0, 5, 5] = float("nan")
    with pytest.raises(ValueError, match=r"images \[1\] contain NaN"):
        occlude(faces, "block_black")
    with pytest.raises(ValueError, match="rotation must be a finite"):
        occlude(torch.rand(2, 3, 32, 32), "block_black", rotation=float("nan"))


def test_numpy_scalars_and_half_precision_are_accepted():
    import numpy as np

    faces = torch.rand(2, 3, 32, 32)
    ref = occlude(faces, "block_black", scale=1.0, seed=0)
    assert torch.equal(occlude(faces, "block_black", scale=np.float32(1.0), seed=0).images, ref.images)
    assert torch.equal(occlude(faces, "block_black", scale=np.int64(1), seed=0).images, ref.images)
    half = occlude(faces.half(), "block_black", seed=0)
    assert half.images.dtype == torch.float16
    assert torch.allclose(half.images.float(), occlude(faces.half().float(), "block_black", seed=0).images, atol=1e-3)


def test_eyes_placement_centres_the_block_between_the_eyes(faces128):
    x, lm = faces128
    o = occlude(x, "block_white", placement="eyes", landmarks=lm, seed=0)
    side = round(48 / 128 * 128)
    assert torch.equal(o.mask.sum((1, 2, 3)), torch.full((len(x),), float(side * side)))
    ys, xs = torch.meshgrid(torch.arange(128.0), torch.arange(128.0), indexing="ij")
    centre = torch.stack([(o.mask[:, 0] * xs).sum((1, 2)), (o.mask[:, 0] * ys).sum((1, 2))], 1) / side ** 2
    assert torch.allclose(centre, lm[:, :2].mean(1), atol=1.0)
    with pytest.raises(ValueError, match="placement 'eyes'"):
        occlude(x, "sunglasses", placement="eyes", landmarks=lm)
