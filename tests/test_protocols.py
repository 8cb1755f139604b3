"""Protocols on tiny real inputs: counts, the first/second doubling, restore hooks, real-occlusion folders."""

import os

import numpy as np
import pytest
import torch

from occface.eval.protocols import identification, load_folder, real_occlusions, score_summary, verification

pytestmark = pytest.mark.skipif(not os.environ.get("OCCFACE_DATA"), reason="needs OCCFACE_DATA")


def pixels(images: torch.Tensor) -> np.ndarray:
    """A trivial 'recognizer': centred pixels (fast, deterministic)."""
    x = images.flatten(1)
    return (x - x.mean(1, keepdim=True)).numpy()


def test_score_summary_known_values():
    same = np.tile([True, False], 50)
    out = score_summary(np.where(same, 1.0, 0.0), same, np.arange(100) % 10, far=(0.1, 1e-3))
    assert out["eer"] == 0 and out["accuracy"] == 1 and out["tar@far=0.1"] == 1
    assert np.isnan(out["tar@far=0.001"])                  # 50 impostors cannot resolve 1e-3
    assert (out["genuine"], out["impostor"]) == (50, 50)


def test_verification_doubles_pairs_and_restore_is_applied():
    calls = []

    def restore(x):
        calls.append(len(x))
        return torch.zeros_like(x)                          # destroys identity: accuracy ~ chance

    clean = verification("quick", embed=pixels, max_pairs=40)
    occ = verification("quick", occlusion=dict(kind="block_black"), embed=pixels, max_pairs=40)
    dead = verification("quick", occlusion=dict(kind="block_black"), restore=restore, embed=pixels, max_pairs=40)
    assert clean["scored_pairs"] == 40 and occ["scored_pairs"] == 80 and occ["genuine"] == 40
    assert 0 < occ["occluded_area"] < 1 and sum(calls) == 80
    assert dead["accuracy"] <= 0.6 and clean["folds"] == 10
    assert 0.4 <= dead["accuracy"]                          # balanced folds: a blind scorer sits at chance
    again = verification("quick", embed=pixels, max_pairs=40)
    assert again["accuracy"] == clean["accuracy"] and again["eer"] == clean["eer"]    # deterministic


def test_verification_dlib_clean_is_accurate_on_a_few_pairs():
    out = verification("quick", max_pairs=20)
    assert out["evaluator"] == "dlib" and out["accuracy"] >= 0.8


def test_identification_counts_and_ranks_are_monotone():
    out = identification("quick", occlusion=dict(kind="sunglasses"), embed=pixels, people=10, repeats=2)
    assert out["people"] == 10 and out["probes"] == 50
    assert out["rank1"] <= out["rank5"] <= out["rank10"] == 1.0  # 10 people: rank 10 finds everyone


def test_real_photos_are_aligned_like_lfw(tmp_path, data_root):
    """LFW photos at their original 250x250 framing, in the real-occlusion layout: every face is detected and
    aligned onto the template, matching the project's own aligned LFW faces."""
    import shutil

    from occface.faces.data import load_faces

    faces = load_faces("lfw", size=32, split="test", min_per_identity=4)
    keep = np.concatenate([np.flatnonzero(faces.identity.numpy() == c)[:4] for c in (0, 1, 2)])
    for i, k in enumerate(keep):
        folder = tmp_path / faces.names[int(faces.identity[k])] / ("clean" if i % 2 else "occluded")
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copy(data_root / faces.paths[k], folder / f"{i:02d}.jpg")
    data = load_folder(tmp_path, size=32)
    assert data.undetected == 0 and data.people == [faces.names[c] for c in (0, 1, 2)]
    ours = torch.cat([data.occluded.images[:1], data.clean.images[:1]])
    lfw = faces.images[keep[:2]]
    assert (ours - lfw).abs().mean() < 0.03  # the same landmarks and warp as the cached LFW faces
    out = real_occlusions(tmp_path, embed=pixels, size=32)
    assert out["people"] == 3 and out["clean_images"] == out["occluded_images"] == 6 and out["undetected"] == 0
    assert out["scored_pairs"] == out["clean_images"] * out["occluded_images"]
    with pytest.raises(ValueError, match="occluded"):
        real_occlusions(tmp_path / "nothing_here")


def test_a_truncated_photo_is_named_with_the_fix(tmp_path, data_root):
    from occface.faces.data import DamagedImageError, list_images

    src = (data_root / list_images("lfw")[0]).read_bytes()
    for part in ("clean", "occluded"):
        (tmp_path / "someone" / part).mkdir(parents=True)
        (tmp_path / "someone" / part / "a.jpg").write_bytes(src if part == "clean" else src[: len(src) // 3])
    with pytest.raises(DamagedImageError, match=r"occluded/a\.jpg.*truncated"):
        load_folder(tmp_path, size=32)


def test_image_quality_feeds_an_inpainter_the_true_mask_and_gives_intervals(data_root):
    from occface.eval.protocols import image_quality

    seen = []

    def grey_fill(images, mask):
        seen.append(mask)
        return images * (1 - mask) + 0.5 * mask

    q = image_quality(None, "quick", occlusion=dict(kind="sunglasses", templates="test"), max_images=20,
                      inpaint=grey_fill)
    assert seen and set(seen[0].unique().tolist()) <= {0.0, 1.0} and seen[0].shape[1] == 1
    for key in ("psnr", "ssim", "psnr_occluded", "ssim_occluded"):
        lo, hi = q[f"{key}_ci"]
        assert lo <= q[key] <= hi
    assert q["psnr"] != q["psnr_occluded"]


def test_hole_psnr_is_psnr_inside_the_occluder_and_a_fill_raises_it_only_there(data_root):
    from occface.eval.metrics import masked_psnr
    from occface.eval.protocols import image_quality
    from occface.faces.data import load_faces
    from occface.faces.occlusion import occlude

    occlusion = dict(kind="block_white", placement="random")
    q = image_quality(None, "quick", occlusion=occlusion, max_images=12,
                      inpaint=lambda images, mask: images * (1 - mask) + 0.5 * mask)
    faces = load_faces("lfw", size=32, split="test", max_images=12, seed=0)
    occ = occlude(faces.images, landmarks=faces.landmarks, seed=0, **occlusion)
    assert q["psnr_hole_occluded"] == pytest.approx(masked_psnr(occ.images, faces.images, occ.mask))
    assert q["psnr_hole"] > q["psnr_hole_occluded"]  # grey is nearer a face than white is
    assert q["psnr_hole"] < q["psnr"]                # the untouched face around the hole lifts whole-image PSNR
    lo, hi = q["psnr_hole_ci"]
    assert lo <= q["psnr_hole"] <= hi


def test_clean_input_quality_of_a_do_nothing_and_a_darkening_restorer(data_root):
    from occface.eval.protocols import clean_input_quality

    same = clean_input_quality(lambda x: x, "quick", max_images=8, predict_mask=lambda x: torch.zeros_like(x[:, :1]))
    assert same["unchanged_faces"] == 8 and same["predicted_area_clean"] == 0.0
    dark = clean_input_quality(lambda x: x * 0.9, "quick", max_images=8,
                               predict_mask=lambda x: (torch.arange(x.shape[-1]) < x.shape[-1] // 4).float()
                               .expand(len(x), 1, x.shape[-2], -1))
    assert dark["unchanged_faces"] == 0 and 10 < dark["psnr_clean_input"] < 40
    assert dark["predicted_area_clean"] == pytest.approx(0.25)


def test_verification_per_pair_decisions_reproduce_the_accuracy(data_root):
    out = verification("quick", occlusion=dict(kind="block_black"), embed=pixels, max_pairs=20, per_pair=True)
    assert out["correct"].shape == (40,) and out["cluster"].shape == (40,)
    assert out["correct"].mean() == pytest.approx(out["accuracy"], abs=0.05)  # folds of unequal size
    assert sorted(out["cluster"].tolist()) == sorted(list(range(20)) * 2)


def test_probe_ranks_on_a_hand_built_gallery():
    from occface.eval.metrics import probe_ranks

    gallery = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]])
    ids = np.array([7, 3, 5])
    probes = np.array([[0.9, 0.1], [0.9, 0.2], [0.2, -1.0], [-1.0, 1.0]])
    # probe 0 -> person 7 is nearest (rank 0); probe 1 claims person 3, second nearest (rank 1);
    # probe 2 (pointing down) claims person 3, farthest of three (rank 2); probe 3 ties 3 and 5 (rank 0)
    ranks = probe_ranks((gallery, ids), (probes, np.array([7, 3, 3, 5])))
    assert ranks.tolist() == [0, 1, 2, 0]


def test_identification_rates_give_sd_over_draws_or_a_bootstrap_interval_over_probes():
    from occface.eval.metrics import mean_interval
    from occface.eval.protocols import identification_rates

    feats = np.array([[1.0, 0.0], [0.0, 1.0], [0.9, 0.1], [0.1, 0.9], [0.0, 1.0], [1.0, 0.1]])
    labels = np.array([0, 1, 0, 1, 0, 1])
    draws = [(np.array([0, 1]), np.array([2, 3, 4, 5])), (np.array([2, 3]), np.array([0, 1, 4, 5]))]
    sd = identification_rates((feats, labels), (feats, labels), [1], draws=draws, interval="sd")[1]
    # draw 1: probes 2, 3 right, 4, 5 wrong -> 50 %; draw 2: 0, 1 right, 4, 5 wrong -> 50 %
    assert (sd.mean, sd.low, sd.high) == (50.0, 50.0, 50.0)
    boot = identification_rates((feats, labels), (feats, labels), [1, 2], draws=draws[:1], interval="bootstrap")
    low, high = mean_interval(np.array([1.0, 1.0, 0.0, 0.0]))
    assert boot[1].mean == 50.0 and (boot[1].low, boot[1].high) == (100 * low, 100 * high)
    assert boot[2].mean == 100.0
    with pytest.raises(ValueError, match="interval"):
        identification_rates((feats, labels), (feats, labels), [1], interval="ci")
