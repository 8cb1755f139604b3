"""LFW's natural-occlusion set (held-out people, attribute flags) and its scoring: the weighted EER equals the
shared metric, the clustered interval is the shared bootstrap's, the selection keeps people apart."""

import numpy as np
import pytest
from occface.eval import metrics
from occface.eval.real import clustered_eer, select_natural, weighted_eer


def _scores(n=300, seed=0):
    rng = np.random.default_rng(seed)
    same = rng.random(n) < 0.3
    scores = rng.normal(size=n) + 1.5 * same
    scores[:20] = np.round(scores[:20])  # some ties
    return scores, same


def test_weighted_eer_with_unit_or_count_weights_is_the_shared_eer():
    s, y = _scores()
    assert weighted_eer(s, y, np.ones((1, len(s))))[0] == pytest.approx(metrics.eer(s[y], s[~y]), abs=1e-12)
    counts = np.random.default_rng(1).integers(0, 3, size=len(s))
    rep = np.repeat(np.arange(len(s)), counts)
    assert weighted_eer(s, y, counts[None])[0] == pytest.approx(metrics.eer(s[rep][y[rep]], s[rep][~y[rep]]), abs=1e-12)
    no_genuine = np.where(y, 0, 1)
    assert np.isnan(weighted_eer(s, y, no_genuine[None])[0])


def test_clustered_interval_is_the_shared_bootstrap():
    s, y = _scores(240)
    cluster = np.repeat(np.arange(60), 4)
    value, ci = clustered_eer(s, y, cluster, resamples=200, seed=3)
    assert value == pytest.approx(metrics.eer(s[y], s[~y]))
    assert ci == pytest.approx(metrics.eer_interval(s, y, cluster, resamples=200, seed=3), abs=1e-12)


def test_natural_selection_is_held_out_people_with_both_kinds_of_photo(data_root):
    from occface.faces.data import TEST_FOLDS, lfw_pairs

    sel = select_natural(("sunglasses",), clean_per_person=2, occluded_per_person=3)
    test = {p.split("/")[-2] for pair in lfw_pairs(TEST_FOLDS) for p in (pair.first, pair.second)}
    assert set(sel.clean) == set(sel.occluded) and set(sel.occluded) <= test
    assert all(1 <= len(v) <= 2 for v in sel.clean.values()) and all(1 <= len(v) <= 3 for v in sel.occluded.values())
    for person in sel.occluded:  # never the same photo on both sides, always the person's own photos
        assert not set(sel.clean[person]) & set(sel.occluded[person])
        assert all(f.split("/")[-2] == person for f in sel.clean[person] + sel.occluded[person])
    both = select_natural(("sunglasses", "eyeglasses"))
    assert both.counts["people"] > sel.counts["people"] > 10
    assert select_natural(("sunglasses",), max_people=5).counts["people"] == 5
    with pytest.raises(ValueError, match="kinds"):
        select_natural(("hat",))


# ------------------------------------------------------------------ the user's own photo folder (issue 26)

def _exif_rotated(upright, path):
    """``upright`` stored as a phone stores a portrait shot: pixels turned 90 degrees, EXIF Orientation = 6."""
    from PIL import Image

    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display"
    upright.transpose(Image.Transpose.ROTATE_90).save(path, exif=exif)
    return path


def test_a_photo_stored_rotated_with_exif_orientation_is_read_upright(tmp_path):
    from PIL import Image

    from occface.faces.data import read_rgb

    upright = Image.fromarray(np.random.default_rng(0).integers(0, 255, (40, 24, 3), dtype=np.uint8))
    stored = _exif_rotated(upright, tmp_path / "phone.png")
    assert Image.open(stored).size == (40, 24)  # as stored: sideways
    assert np.array_equal(np.asarray(read_rgb(stored)), np.asarray(upright))


def test_a_phone_photo_with_exif_orientation_is_detected_like_the_upright_one(data_root, tmp_path, monkeypatch):
    """12 of 12 such photos were not detected (EER 50 % against 33 % upright)."""
    from PIL import Image

    from occface.faces.photos import align_photos

    monkeypatch.setenv("OCCFACE_CACHE", str(tmp_path / "cache"))
    source = data_root / "lfw/lfw-deepfunneled/Aaron_Eckhart/Aaron_Eckhart_0001.jpg"
    upright = Image.open(source).convert("RGB")
    upright.save(tmp_path / "upright.png")
    stored = _exif_rotated(upright, tmp_path / "rotated.png")
    aligned = align_photos([tmp_path / "upright.png", stored], 64)
    assert aligned.detected.tolist() == [True, True]
    assert (aligned.images[0] - aligned.images[1]).abs().max() < 1e-6


def _fake_align(monkeypatch):
    """align_photos without dlib: zeros, every face 'detected'; records the files it was given."""
    import torch

    from occface.faces import photos

    seen = []

    def align(files, size=64):
        seen.append([f.name for f in files])
        return photos.AlignedPhotos(torch.zeros(len(files), 3, size, size), torch.zeros(len(files), 5, 2),
                                    np.ones(len(files), bool))
    monkeypatch.setattr(photos, "align_photos", align)
    return seen


def _folder(root, layout):
    for rel in layout:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(b"photo")
    return root


def test_a_photo_folder_takes_webp_and_tif_and_lists_the_suffixes_it_takes(tmp_path, monkeypatch):
    from occface.eval.protocols import load_folder

    seen = _fake_align(monkeypatch)
    root = _folder(tmp_path / "p", ["Ann/clean/a.webp", "Ann/Occluded/b.TIF", "Bob/clean/c.tiff", "Bob/occluded/d.jpg"])
    data = load_folder(root, 32)
    assert seen == [["a.webp", "c.tiff"], ["b.TIF", "d.jpg"]] and data.people == ["Ann", "Bob"]
    bad = _folder(tmp_path / "q", ["Ann/clean/a.heic", "Ann/occluded/b.jpg"])
    with pytest.raises(ValueError, match=r"no clean images under .*accepted suffixes are \.jpg, .*\.webp, \.tif, "
                                         r"\.tiff \(any case\); ignored files of other types: a\.heic"):
        load_folder(bad, 32)


def test_a_person_without_occluded_photos_is_reported_and_kept_as_an_impostor(tmp_path, monkeypatch):
    from occface.eval.protocols import load_folder

    _fake_align(monkeypatch)
    root = _folder(tmp_path / "p", ["Ann/clean/a.jpg", "Ann/occluded/b.jpg", "Cid/clean/c.jpg", "Dee/occluded/d.jpg"])
    with pytest.warns(UserWarning, match=r"Cid: clean photos but no occluded ones, kept as impostors only; "
                                         r"Dee: occluded photos but no clean ones to match, left out"):
        data = load_folder(root, 32)
    assert data.people == ["Ann", "Cid"] and data.clean_person.tolist() == [0, 1]
    assert data.occluded_person.tolist() == [0]


def test_link_loops_and_dangling_links_in_a_photo_folder_are_named(tmp_path, monkeypatch):
    from occface.eval.protocols import load_folder

    _fake_align(monkeypatch)
    root = _folder(tmp_path / "p", ["Ann/clean/a.jpg", "Ann/occluded/b.jpg"])
    (root / "Ann/clean/gone.jpg").symlink_to(tmp_path / "deleted.jpg")
    (root / "Loop").symlink_to(root / "Loop")
    with pytest.raises(ValueError, match=r"2 entries cannot be read: .*Loop \(a link loop\); .*Ann/clean/gone\.jpg \(a link to "
                                         r"a missing file\)\. Fix or remove these links"):
        load_folder(root, 32)


def test_the_note_of_a_table_scored_on_the_users_folder_gives_the_undetected_count(tmp_path):
    import torch

    from occface.eval.real import RealSet, user_note

    data = RealSet(torch.zeros(5, 3, 8, 8), np.array([0, 0, 1, 1, 2]), torch.zeros(3, 3, 8, 8), np.array([0, 1, 2]),
                   {"all": np.ones(3, bool)}, 4, tmp_path)
    note = user_note(data)
    assert f"OCCFACE_REAL_OCCLUSIONS={tmp_path}: 3 occluded and 5 clean photos of 3 people" in note
    assert "4 of 8 faces not detected" in note
