import os
import shutil
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from occface.faces.align import five_from_68, template
from occface.faces.data import TEST_FOLDS, lfw_pairs, load_faces, load_pair_faces
from occface.paths import REPO_ROOT
from runner_fakes import make_fake_data


def test_template_sizes():
    t = template((112, 96))
    assert np.allclose(t[0], [30.2946, 51.6963])
    assert np.allclose(template(112)[0], [38.2946, 51.6963])  # ArcFace 112x112
    assert template(128).shape == (5, 2) and np.allclose(template(64) * 2, template(128))


def test_five_from_68():
    pts = np.arange(136, dtype=float).reshape(68, 2)
    five = five_from_68(pts)
    assert np.allclose(five[0], pts[36:42].mean(0)) and np.allclose(five[4], pts[54])


def test_orl_alignment_puts_eyes_on_template(orl_faces):
    f = orl_faces
    assert f.images.shape == (400, 3, 64, 64) and f.images.dtype == torch.float32
    assert 0 <= f.images.min() and f.images.max() <= 1
    err = (f.landmarks - torch.from_numpy(template(64)).float()).norm(dim=2)
    assert err[:, :2].median() < 2.0  # eyes within a couple of pixels of the template
    assert sum(f.info["alignment"].values()) == 400  # every face counted, none dropped


def test_lfw_alignment_and_sizes(data_root):
    f = load_faces("lfw", (112, 96), "test", max_images=64, seed=1)
    assert f.images.shape == (64, 3, 112, 96)
    eyes = (f.landmarks[:, :2] - torch.from_numpy(template((112, 96)))[:2].float()).norm(dim=2)
    assert eyes.median() < 3.0
    assert f.identity.max().item() == len(f.names) - 1


def test_splits_identity_disjoint_and_stable(data_root):
    tr = load_faces("lfw", 64, "train")
    te = load_faces("lfw", 64, "test")
    assert not set(tr.names) & set(te.names)
    assert len(tr) + len(te) == 13233
    test_people = {p.split("/")[-2] for pair in lfw_pairs(TEST_FOLDS) for p in (pair.first, pair.second)}
    assert set(te.names) == test_people
    a = load_faces("lfw", 64, "train", max_images=200, seed=3)
    b = load_faces("lfw", 64, "train", max_images=200, seed=3)
    assert a.paths == b.paths and len(a) == 200
    o1, o2 = load_faces("orl", 64, "train", seed=0), load_faces("orl", 64, "test", seed=0)
    assert not set(o1.names) & set(o2.names) and len(o1) == 300 and len(o2) == 100


def test_pairs_folds_share_no_people(data_root):
    pairs = lfw_pairs(range(1, 11))
    assert len(pairs) == 6000 and sum(p.same for p in pairs) == 3000
    people = {}
    for p in pairs:
        for path in (p.first, p.second):
            people.setdefault(path.split("/")[-2], set()).add(p.fold)
    assert all(len(folds) == 1 for folds in people.values())


def test_pair_faces_balanced(data_root):
    pf = load_pair_faces(size=32, max_pairs=100, seed=0)
    assert pf.first.shape == (100, 3, 32, 32) and pf.same.sum() == 50
    assert torch.bincount(pf.fold)[6:].tolist() == [20] * 5


def test_cached_load_is_fast(data_root):
    from occface.faces import data
    load_faces("lfw", 64, "all")  # built (or read) once
    data._aligned.cache_clear()
    start = time.perf_counter()
    f = load_faces("lfw", 64, "all")
    assert f.info["from_cache"] and time.perf_counter() - start < 3.0 * 2  # 2x slack for a shared CI box


def test_bad_inputs(data_root):
    with pytest.raises(ValueError, match="lfw"):
        load_faces("celeba")
    with pytest.raises(ValueError, match="split"):
        load_faces("orl", 32, "val")
    with pytest.raises(ValueError, match="size"):
        load_faces("orl", -3)
    with pytest.raises(ValueError, match="folds"):
        lfw_pairs([0, 11])


def test_a_truncated_jpeg_is_named_with_make_data(tmp_path, data_root):
    from occface.faces.data import DamagedImageError, list_images, read_rgb

    good = data_root / list_images("lfw")[0]
    bad = tmp_path / good.name
    bad.write_bytes(good.read_bytes()[:2000])
    assert read_rgb(good).size == (250, 250)
    with pytest.raises(DamagedImageError, match=rf"{bad.name}.*make data"):
        read_rgb(bad)


def test_the_face_cache_key_follows_the_source_files(tmp_path):
    import os

    from occface.faces.data import source_fingerprint

    f = tmp_path / "a.jpg"
    f.write_bytes(b"x" * 100)
    before = source_fingerprint([f])
    f.write_bytes(b"x" * 40)  # truncated in place
    assert source_fingerprint([f]) != before
    os.utime(f, ns=(0, 0))
    assert source_fingerprint([f]) != before


# ---------------------------------------------------------------- make data exits non-zero

def _get_data_tree(tmp_path: Path) -> tuple[Path, Path]:
    data, sums = make_fake_data(tmp_path)
    repo = tmp_path / "repo"
    (repo / "scripts").mkdir(parents=True)
    shutil.copy(REPO_ROOT / "scripts/get_data.sh", repo / "scripts/get_data.sh")
    shutil.copytree(sums, repo / "data/checksums")
    return repo, data


def _get_data(repo: Path, data: Path) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(repo / "scripts/get_data.sh")], env=dict(os.environ, OCCFACE_DATA=str(data)),
                          capture_output=True, text=True, timeout=60)


def test_get_data_fails_and_names_every_damaged_file(tmp_path):
    repo, data = _get_data_tree(tmp_path)
    ok = _get_data(repo, data)
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.count("verified") == 3
    (data / "lfw/lfw-deepfunneled/Ann_A/Ann_A_0002.jpg").write_bytes(b"truncated")
    (data / "occluders/cup/noto/a.png").unlink()
    bad = _get_data(repo, data)
    assert bad.returncode != 0
    assert "lfw/lfw-deepfunneled/Ann_A/Ann_A_0002.jpg (checksum differs)" in bad.stderr
    assert "occluders/cup/noto/a.png (missing or unreadable)" in bad.stderr


def test_get_data_warns_but_passes_on_documentation_files(tmp_path):
    repo, data = _get_data_tree(tmp_path)
    (data / "lfw/README.md").write_text("edited\n")
    (data / "att_faces/README").unlink()
    proc = _get_data(repo, data)
    assert proc.returncode == 0, proc.stderr
    assert "warning" in proc.stderr and "lfw/README.md" in proc.stderr
