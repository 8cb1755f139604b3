"""The runner's pre-run checks (`--check` and every run): data files, landmark assets, profile values, cache
and results folders, the data's SHA256 checksums; exit status 2 with every problem named, before any work."""

from __future__ import annotations

import dataclasses
import os
import shutil
import sys
import tempfile
import zipfile
from pathlib import Path

import pytest

from occface import checks, paths, runner, runtime
from runner_fakes import _calls, _install_fake_papermill, _notebook, make_fake_data


# ---------------------------------------------------------------- --check

def test_check_names_each_missing_data_file(sandbox, capsys):
    assert runner.main(["--profile", "quick", "--check"]) == 0
    (sandbox / "data/lfw/pairs.txt").unlink()
    (sandbox / "data/occluders/index.csv").unlink()
    shutil.rmtree(sandbox / "data/lfw/lfw-deepfunneled")
    (sandbox / "data/lfw/lfw-deepfunneled").mkdir()
    assert runner.main(["--profile", "quick", "--check"]) == 2
    err = capsys.readouterr().err
    for name in ("lfw/pairs.txt", "lfw/lfw-deepfunneled/", "occluders/index.csv"):
        assert name in err
    assert "make data" in err


def test_check_names_a_missing_or_damaged_landmark_asset(sandbox, monkeypatch, capsys):
    lib = sandbox / "lib/occface"
    (lib / "assets").mkdir(parents=True)
    with zipfile.ZipFile(lib / "assets/landmarks_lfw.npz", "w") as archive:
        archive.writestr("paths.npy", b"x" * 100)
    monkeypatch.setattr(checks, "LIB_DIR", lib)
    assert runner.main(["--profile", "quick", "--check"]) == 2
    err = capsys.readouterr().err
    assert "landmarks_orl.npz is missing" in err  # att_faces/ is there, so ORL's landmarks are needed
    (lib / "assets/landmarks_lfw.npz").write_bytes((lib / "assets/landmarks_lfw.npz").read_bytes()[:40])
    assert runner.main(["--profile", "quick", "--check"]) == 2
    assert "landmarks_lfw.npz is damaged" in capsys.readouterr().err


def test_check_rejects_a_bad_profile_value_naming_profile_and_field(sandbox, monkeypatch, capsys):
    monkeypatch.setitem(runner.PROFILES, "quick", dataclasses.replace(runner.PROFILES["quick"], image_size=0))
    assert runner.main(["--profile", "quick", "--check"]) == 2
    err = capsys.readouterr().err
    assert "profile 'quick': image_size = 0 must be a positive integer" in err
    monkeypatch.setitem(runner.PROFILES, "quick", dataclasses.replace(runner.PROFILES["quick"], image_size=32,
                                                                      recog_size=(56,)))
    assert runner.main(["--profile", "quick"]) == 2  # a run checks it too
    assert "recog_size" in capsys.readouterr().err and _calls(sandbox) == []


def test_check_says_an_unusable_cache_folder_is_one(sandbox, monkeypatch, capsys):
    monkeypatch.setenv("OCCFACE_CACHE", "/dev/null/cache")
    assert runner.main(["--profile", "quick", "--check"]) == 2
    err = capsys.readouterr().err
    assert "OCCFACE_CACHE=/dev/null/cache" in err and "/dev/null is not a folder" in err
    assert "Traceback" not in err
    with pytest.raises(paths.CacheNotWritableError, match="OCCFACE_CACHE"):
        paths.cache_dir("x")


def test_check_verifies_checksums_names_damage_and_caches_digests(sandbox, monkeypatch, capsys):
    hashed = []
    real = checks._sha256
    monkeypatch.setattr(checks, "_sha256", lambda p: hashed.append(p) or real(p))
    assert runner.main(["--profile", "quick", "--check"]) == 0
    assert len(hashed) >= 7 and (sandbox / "cache/data-checksums.json").exists()
    hashed.clear()
    assert runner.main(["--profile", "quick", "--check"]) == 0
    assert hashed == []  # unchanged (size, mtime): nothing is read again
    capsys.readouterr()
    damaged = sandbox / "data/lfw/lfw-deepfunneled/Ann_A/Ann_A_0001.jpg"
    damaged.write_bytes(b"\xff\xd8 face 0ne")  # same size, new mtime
    (sandbox / "data/att_faces/s1/1.pgm").unlink()
    assert runner.main(["--profile", "quick", "--check"]) == 2
    assert hashed == [damaged]
    err = capsys.readouterr().err
    assert "lfw/lfw-deepfunneled/Ann_A/Ann_A_0001.jpg (checksum differs)" in err
    assert "att_faces/s1/1.pgm (missing)" in err and "make data" in err

# ---------------------------------------------------------------- read-only results folder

def _as_nobody(fn) -> int:
    """Run ``fn()`` in a forked child without root's privileges (root writes through any mode bits);
    returns its exit status."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        code = 99
        try:
            if os.geteuid() == 0:
                os.setgid(65534)
                os.setuid(65534)
            code = fn()
        except BaseException as err:
            sys.stderr.write(f"child failed: {err!r}\n")
        finally:
            os._exit(code)
    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])


def test_a_read_only_results_folder_stops_the_run_before_any_notebook(monkeypatch):
    import occface.results  # noqa: F401  (imported here, not in the child)

    base = Path(tempfile.mkdtemp(prefix="occface-ro-"))
    try:
        os.chmod(base, 0o755)
        data, sums = make_fake_data(base)
        for folder in [base, *[p for p in base.rglob("*") if p.is_dir()]]:
            os.chmod(folder, 0o755)
        notebooks = base / "notebooks"
        notebooks.mkdir(mode=0o755)
        _notebook(notebooks / "00_a.ipynb")
        os.chmod(notebooks / "00_a.ipynb", 0o644)
        (base / "cache").mkdir()
        os.chmod(base / "cache", 0o777)
        results = base / "results/quick/tour"
        results.mkdir(parents=True)
        for folder in (base / "results", base / "results/quick", results):
            os.chmod(folder, 0o755)
        os.chmod(results, 0o555)  # e.g. a checkout whose results/ was made read-only
        monkeypatch.setattr(runner, "NOTEBOOK_DIR", notebooks)
        monkeypatch.setattr(checks, "CHECKSUM_DIR", sums)
        monkeypatch.setattr(runtime, "dirty_paths", lambda root=None: [])
        monkeypatch.setattr(runner, "asset_problems", lambda root: [])  # the repo's assets: not the point here
        monkeypatch.setenv("OCCFACE_DATA", str(data))
        monkeypatch.setenv("OCCFACE_RESULTS", str(base / "results"))
        monkeypatch.setenv("OCCFACE_CACHE", str(base / "cache"))
        _install_fake_papermill(monkeypatch, log=base / "cache/fake.log")
        stderr = base / "cache/stderr.txt"

        def child() -> int:
            with open(stderr, "w") as handle:
                os.dup2(handle.fileno(), 2)
                sys.stderr = open(2, "w", closefd=False)
                code = runner.main(["--profile", "quick"])
                sys.stderr.flush()
                return code

        assert _as_nobody(child) == 2, stderr.read_text() if stderr.exists() else ""
        err = stderr.read_text()
        assert f"the results folder {results} is not writable" in err and "OCCFACE_RESULTS" in err
        assert not (base / "cache/fake.log").exists()  # no notebook ran
    finally:
        for folder in [p for p in base.rglob("*") if p.is_dir()]:
            os.chmod(folder, 0o755)
        shutil.rmtree(base, ignore_errors=True)


def test_check_fails_on_a_photo_folder_that_does_not_exist(sandbox, monkeypatch, capsys):
    """Issue 26, case 1: ``OCCFACE_REAL_OCCLUSIONS`` naming no folder passed ``--check``."""
    monkeypatch.setenv("OCCFACE_REAL_OCCLUSIONS", str(sandbox / "my-photos"))
    assert runner.main(["--profile", "quick", "--check"]) == 2
    err = capsys.readouterr().err
    assert f"OCCFACE_REAL_OCCLUSIONS={sandbox / 'my-photos'} is not a folder" in err and "unset it" in err
    assert runner.main(["--profile", "quick"]) == 2 and _calls(sandbox) == []  # a run checks it too
    (sandbox / "my-photos").mkdir()
    assert runner.main(["--profile", "quick", "--check"]) == 0
