"""Faults from the issue tracker, one test (or a few) per issue; each failed on the code before its fix.

Exit statuses of the runner (documented in its docstring): 2 bad input, 3 another run holds the notebook,
4 default/full refused from a dirty tree. Runner tests replace papermill by a fake module (``sys.modules["papermill"]``) that writes one table into the
staging folder the runner exports as OCCFACE_RESULTS, so no kernel starts; subprocess tests use the same fake.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import nbformat
import pytest

from occface import checks, paths, runner, runtime
from occface.paths import REPO_ROOT

# ------------------------------------------------------------------------------------------------ helpers

FAKE_PAPERMILL = '''
import json, os, sys, time, types
from pathlib import Path

def execute_notebook(input_path, output_path, parameters=None, cwd=None, **kwargs):
    staging = Path(os.environ["OCCFACE_RESULTS"])
    log = os.environ.get("FAKE_LOG")
    if log:
        with open(log, "a") as handle:
            handle.write(json.dumps({"pid": os.getpid(), "cwd": cwd, "results": str(staging),
                                     "data": os.environ.get("OCCFACE_DATA"),
                                     "cache": os.environ.get("OCCFACE_CACHE")}) + "\\n")
    folder = staging / parameters["profile"] / "tour"
    folder.mkdir(parents=True, exist_ok=True)
    time.sleep(float(os.environ.get("FAKE_SLEEP", "0")))
    gate, deadline = os.environ.get("FAKE_GATE"), time.time() + 120
    while gate and not Path(gate).exists() and time.time() < deadline:  # held open until the test says so
        time.sleep(0.05)
    (folder / "table1.csv").write_text(f"written by {os.getpid()}\\n")
    Path(output_path).write_text(Path(input_path).read_text())

sys.modules["papermill"] = types.SimpleNamespace(execute_notebook=execute_notebook)
'''


def _install_fake_papermill(monkeypatch, log: Path | None = None, sleep: float = 0.0) -> None:
    namespace: dict = {}
    real = sys.modules.get("papermill")
    exec(FAKE_PAPERMILL, namespace)  # puts the fake into sys.modules
    fake = sys.modules["papermill"]
    if real is None:
        sys.modules.pop("papermill")
        monkeypatch.setitem(sys.modules, "papermill", fake)  # removed again after the test
    else:
        sys.modules["papermill"] = real
        monkeypatch.setitem(sys.modules, "papermill", fake)  # the real one comes back after the test
    if log is not None:
        monkeypatch.setenv("FAKE_LOG", str(log))
    monkeypatch.setenv("FAKE_SLEEP", str(sleep))


def _notebook(path: Path, body: str = "print(1)") -> Path:
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell('profile = "quick"')
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell(body)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return path


def _sums(folder: Path) -> str:
    lines = []
    for path in sorted(folder.rglob("*")):
        if path.is_file() and path.name != "SHA256SUMS":
            lines.append(f"{hashlib.sha256(path.read_bytes()).hexdigest()}  ./{path.relative_to(folder)}")
    return "\n".join(lines) + "\n"


def make_fake_data(base: Path) -> tuple[Path, Path]:
    """A tiny data package (lfw/, att_faces/, occluders/) and its checksum lists: (data root, checksum dir)."""
    data, sums = base / "data", base / "checksums"
    (data / "lfw/lfw-deepfunneled/Ann_A").mkdir(parents=True)
    (data / "lfw/pairs.txt").write_text("10\t300\nAnn_A\t1\t2\n")
    (data / "lfw/README.md").write_text("lfw\n")
    (data / "lfw/lfw-deepfunneled/Ann_A/Ann_A_0001.jpg").write_bytes(b"\xff\xd8 face one")
    (data / "lfw/lfw-deepfunneled/Ann_A/Ann_A_0002.jpg").write_bytes(b"\xff\xd8 face two")
    (data / "att_faces/s1").mkdir(parents=True)
    (data / "att_faces/s1/1.pgm").write_bytes(b"P5 orl")
    (data / "att_faces/README").write_text("orl\n")
    (data / "occluders/cup/noto").mkdir(parents=True)
    (data / "occluders/index.csv").write_text("type,source,file\ncup,noto,cup/noto/a.png\n")
    (data / "occluders/cup/noto/a.png").write_bytes(b"\x89PNG cup")
    sums.mkdir()
    for name in ("lfw", "att_faces", "occluders"):
        text = _sums(data / name)
        (sums / f"{name}.SHA256SUMS").write_text(text)
        (data / name / "SHA256SUMS").write_text(text)
    return data, sums


@pytest.fixture
def sandbox(tmp_path, monkeypatch):
    """Fake data, notebooks, cache and results; papermill replaced by the fake."""
    data, sums = make_fake_data(tmp_path)
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    _notebook(notebooks / "00_a.ipynb")
    monkeypatch.setattr(runner, "NOTEBOOK_DIR", notebooks)
    monkeypatch.setattr(checks, "CHECKSUM_DIR", sums)
    monkeypatch.setenv("OCCFACE_DATA", str(data))
    monkeypatch.setenv("OCCFACE_RESULTS", str(tmp_path / "results"))
    monkeypatch.setenv("OCCFACE_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(runtime, "dirty_paths", lambda root=None: [])
    _install_fake_papermill(monkeypatch, log=tmp_path / "fake.log")
    return tmp_path


def _calls(sandbox: Path) -> list[dict]:
    log = sandbox / "fake.log"
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


# ------------------------------------------------------- 1. two runs of one notebook at once

def test_a_second_run_of_a_notebook_being_run_stops_naming_the_first_runs_pid(sandbox, capsys):
    notebook = runner.NOTEBOOK_DIR / "00_a.ipynb"
    with runner.notebook_lock("quick", notebook):  # this process plays the first run
        assert runner.main(["--profile", "quick"]) == 3
    err = capsys.readouterr().err
    assert f"PID {os.getpid()}" in err and "00_a.ipynb" in err and "--wait" in err
    assert _calls(sandbox) == []  # nothing ran
    assert runner.main(["--profile", "quick"]) == 0  # the lock is free again
    assert (sandbox / "results/quick/tour/table1.csv").exists()


def test_each_run_stages_in_its_own_folder_and_clears_killed_runs_leftovers(sandbox):
    leftover = sandbox / "cache/staging/quick/00_a/999999-deadbeef/quick/tour"
    leftover.mkdir(parents=True)
    (leftover / "half.csv").write_text("half")
    legacy = sandbox / "cache/staging/quick/00_a/executed.ipynb"  # the old shared layout
    legacy.write_text("{}")
    assert runner.main(["--profile", "quick"]) == 0
    staged = Path(_calls(sandbox)[0]["results"])
    assert staged.parent == sandbox / "cache/staging/quick/00_a"
    assert staged.name.startswith(f"{os.getpid()}-")
    assert not (sandbox / "cache/staging/quick/00_a").exists()  # ours and the leftovers are gone
    assert not (sandbox / "results/quick/tour/half.csv").exists()


RUN_SCRIPT = FAKE_PAPERMILL + '''
from occface import runner
runner.NOTEBOOK_DIR = Path(sys.argv[1])
sys.exit(runner.main(sys.argv[2:]))
'''


def _start(sandbox: Path, *args: str, gate: Path | None = None) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT / "lib"), FAKE_LOG=str(sandbox / "fake.log"),
               FAKE_GATE=str(gate) if gate else "")
    return subprocess.Popen([sys.executable, "-c", RUN_SCRIPT, str(sandbox / "notebooks"), "--profile", "quick", *args],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_two_runs_started_a_moment_apart_both_finish_and_publish(sandbox):
    """The bug: the second run deleted the first's staging (same folder) and the first crashed. Now the second
    either stops naming the first's PID, or with --wait runs after it (and skips, the results being fresh)."""
    gate = sandbox / "gate"
    first = _start(sandbox, gate=gate)  # its notebook runs until the gate opens
    lock = sandbox / "cache/locks/quick/00_a.lock"
    deadline = time.time() + 60
    while not (lock.exists() and lock.read_text().strip()):
        assert time.time() < deadline and first.poll() is None, first.communicate()
        time.sleep(0.05)
    second = _start(sandbox)
    out2, err2 = second.communicate(timeout=60)
    waiter = _start(sandbox, "--wait")
    seen = []
    while not any("waiting" in line for line in seen):
        line = waiter.stdout.readline()
        assert line, (seen, waiter.stderr.read())  # it ended without waiting
        seen.append(line)
    gate.touch()
    out1, err1 = first.communicate(timeout=60)
    out3, err3 = waiter.communicate(timeout=60)
    assert first.returncode == 0, err1
    assert second.returncode == 3 and f"PID {first.pid}" in err2, (out2, err2)
    assert waiter.returncode == 0, err3
    assert "skipped" in out3
    assert (sandbox / "results/quick/tour/table1.csv").read_text() == f"written by {first.pid}\n"
    assert [c["pid"] for c in _calls(sandbox)] == [first.pid]  # the notebook ran once
    assert not list((sandbox / "cache/staging/quick").iterdir())


# ------------------------------------------------------------- 2. make data exits non-zero

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


# ---------------------------------------------------------- 3. relative OCCFACE_DATA

def test_relative_paths_are_made_absolute_and_exported_to_the_kernels(sandbox, monkeypatch):
    monkeypatch.chdir(sandbox / "notebooks")
    monkeypatch.setenv("OCCFACE_DATA", "../data")  # the kind of value the error message suggests
    monkeypatch.setenv("OCCFACE_CACHE", "../cache")
    assert runner.main(["--profile", "quick"]) == 0
    call = _calls(sandbox)[0]
    assert call["data"] == str(sandbox / "data") and call["cache"] == str(sandbox / "cache")
    assert Path(call["results"]).is_absolute() and call["cwd"] == str(sandbox / "notebooks")
    assert (sandbox / "results/quick/tour/table1.csv").exists()


# ----------------------------------------------------------------------------- 4. --check

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


# --------------------------------------------------------------- 5. read-only results folder

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


# ------------------------------------------------------------------ 6. published file modes

@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o027, 0o640), (0o002, 0o664)])
def test_atomic_writes_get_the_usual_mode_not_mkstemps_0600(tmp_path, umask, mode):
    from occface.results import atomic_write_bytes

    old = os.umask(umask)
    try:
        atomic_write_bytes(tmp_path / "t.csv", b"x")
    finally:
        os.umask(old)
    assert (tmp_path / "t.csv").stat().st_mode & 0o777 == mode


def test_published_results_are_world_readable(sandbox):
    old = os.umask(0o022)
    try:
        assert runner.main(["--profile", "quick"]) == 0
    finally:
        os.umask(old)
    for path in [sandbox / "results/README.md", sandbox / "results/quick/.stamps/00_a.json",
                 sandbox / "results/quick/tour/table1.csv"]:
        assert path.stat().st_mode & 0o777 == 0o644, path


# ----------------------------------------------------- 7. commit out of the tables, intervals

def test_a_rerun_at_another_commit_changes_no_table_or_figure(tmp_path, monkeypatch):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from occface import results
    from occface.results import Cell, Results

    outputs = []
    for commit in ("aaaaaaaaaa", "bbbbbbbbbb+dirty"):
        monkeypatch.setattr(results, "commit_label", lambda: commit)
        res = Results("from", profile="quick", dataset="toy", seed=1, root=tmp_path / commit)
        res.table("t", [Cell("r", "c", 1.0, 2.0)], title="toy")
        fig, ax = plt.subplots()
        ax.plot([0, 1])
        res.figure("f", fig, title="toy")
        plt.close(fig)
        folder = tmp_path / commit / "quick/from"
        outputs.append({name: (folder / name).read_bytes() for name in ("t.csv", "t.md", "f.png")})
        assert json.loads((folder / "manifest.json").read_text())["t"]["commit"] == commit
    assert outputs[0] == outputs[1]
    header = outputs[0]["t.csv"].decode().splitlines()[0].split(",")
    assert "commit" not in header and {"profile", "dataset", "seed", "ci_low", "ci_high"} <= set(header)


def test_confidence_intervals_in_csv_and_markdown(tmp_path):
    from occface.results import Cell, Results

    res = Results("from", profile="quick", dataset="toy", root=tmp_path)
    res.table("t", [Cell("sym", "acc", 12.3, 13.0, ci_low=11.2, ci_high=13.4),
                    Cell("asym", "acc", 12.3, None, ci_low=11.0, ci_high=13.9),
                    Cell("none", "acc", 12.3)], title="toy", digits=1)
    rows = {r["row"]: r for r in csv.DictReader(open(tmp_path / "quick/from/t.csv"))}
    assert rows["sym"]["ci_low"] == "11.2000" and rows["sym"]["ci_high"] == "13.4000"
    assert rows["none"]["ci_low"] == "" and rows["none"]["ci_high"] == ""
    md = (tmp_path / "quick/from/t.md").read_text()
    assert "| sym | 12.3 [11.2, 13.4] | 13.0 |" in md  # one notation: no ± half-width
    assert "| asym | 12.3 [11.0, 13.9] |" in md
    assert "| none | 12.3 |" in md
    with pytest.raises(ValueError, match="both ci_low and ci_high"):
        Cell("r", "c", 1.0, ci_low=0.5)
    with pytest.raises(ValueError, match="ci_low"):
        Cell("r", "c", 1.0, ci_low=2.0, ci_high=1.0)


# -------------------------------------------------------------- 8. dirty working trees

def test_default_results_are_not_published_from_a_dirty_tree_without_allow_dirty(sandbox, monkeypatch, capsys):
    monkeypatch.setattr(runtime, "dirty_paths", lambda root=None: ["lib/occface/faces/data.py"])
    assert runner.main(["--profile", "default"]) == 4
    err = capsys.readouterr().err
    assert "lib/occface/faces/data.py" in err and "--allow-dirty" in err and "'default'" in err
    assert _calls(sandbox) == []
    assert runner.main(["--profile", "default", "--allow-dirty"]) == 0
    assert "+dirty" in capsys.readouterr().out
    assert (sandbox / "results/default/tour/table1.csv").exists()
    assert runner.main(["--profile", "default"]) == 0  # nothing to publish: nothing to refuse


def test_quick_runs_from_a_dirty_tree_and_says_so(sandbox, monkeypatch, capsys):
    monkeypatch.setattr(runtime, "dirty_paths", lambda root=None: ["notebooks/00_a.ipynb"])
    assert runner.main(["--profile", "quick"]) == 0
    assert "+dirty" in capsys.readouterr().out and len(_calls(sandbox)) == 1


def test_what_makes_a_tree_dirty(tmp_path):
    def git(*args):
        subprocess.run(["git", "-C", str(tmp_path), *args], check=True, capture_output=True,
                       env=dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@t", GIT_COMMITTER_NAME="t",
                                GIT_COMMITTER_EMAIL="t@t"))
    git("init", "-q")
    for rel in ("lib/occface/a.py", "notebooks/00_a.ipynb", "results/quick/t.csv", "tests/test_a.py",
                "pyproject.toml"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("x\n")
    (tmp_path / ".gitignore").write_text("__pycache__/\n")
    git("add", "-A")
    git("commit", "-q", "-m", "init")
    assert runtime.dirty_paths(tmp_path) == []
    assert not runtime.commit_label(tmp_path).endswith("+dirty")
    (tmp_path / "results/quick/t.csv").write_text("y\n")  # results and tests do not count
    (tmp_path / "tests/test_a.py").write_text("y\n")
    (tmp_path / "lib/occface/__pycache__").mkdir()
    (tmp_path / "lib/occface/__pycache__/a.pyc").write_text("ignored")
    assert runtime.dirty_paths(tmp_path) == []
    (tmp_path / "lib/occface/a.py").write_text("y\n")
    (tmp_path / "lib/occface/new.py").write_text("untracked counts\n")
    (tmp_path / "pyproject.toml").write_text("y\n")
    assert sorted(runtime.dirty_paths(tmp_path)) == ["lib/occface/a.py", "lib/occface/new.py", "pyproject.toml"]
    runtime.commit_label.cache_clear()
    assert runtime.commit_label(tmp_path).endswith("+dirty")
    assert runtime.dirty_paths(tmp_path / "results") is not None
    plain = tmp_path.parent / f"{tmp_path.name}-plain"
    plain.mkdir()
    assert runtime.dirty_paths(plain) is None and runtime.commit_label(plain) == "unknown"


# ------------------------------------------------------------------- 9. checkpoints

import torch  # noqa: E402
from torch import nn  # noqa: E402

from occface.runtime import seed_everything  # noqa: E402
from occface.train import (CheckpointRefusedError, CorruptCheckpointWarning, Trainer,  # noqa: E402
                           TrainingDivergedError, load_checkpoint, save_checkpoint)

UNPICKLED = []


class Foreign:
    """Something a checkpoint must never hold; unpickling it would record itself."""

    def __setstate__(self, state):
        UNPICKLED.append(state)


def _trainer(path, steps=40, generators=None):
    seed_everything(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.Dropout(0.2), nn.Linear(8, 1))
    optim = torch.optim.Adam(model.parameters(), lr=0.01)
    extra = {"generators": generators} if generators else {}
    trainer = Trainer({"model": model}, {"optim": optim}, path, steps=steps, save_every=10, desc="toy", **extra)
    return trainer, model, optim


def _per_step_batches(trainer, optim, crash_at=None, nan_from=None):
    def step_fn(step):
        if step == crash_at:
            raise KeyboardInterrupt
        g = torch.Generator().manual_seed(1000 + step)  # the batch of a step depends on the step only
        x = torch.randn(16, 4, generator=g)
        loss = ((trainer.modules["model"](x) - x.sum(1, keepdim=True)) ** 2).mean()  # dropout: global RNG
        optim.zero_grad()
        trainer.backward(loss)
        optim.step()
        return {"loss": float("nan") if nan_from is not None and step >= nan_from else loss.item()}
    return step_fn


def _weights(model):
    return [p.detach().clone() for p in model.parameters()]


def _same(a, b):
    return all(torch.equal(x, y) for x, y in zip(a, b))


def test_resume_after_a_kill_is_bit_identical_with_per_step_generators(tmp_path):
    trainer, model, optim = _trainer(tmp_path / "a.pt")
    trainer.fit(_per_step_batches(trainer, optim))
    reference = _weights(model)
    trainer, model, optim = _trainer(tmp_path / "b.pt")
    with pytest.raises(KeyboardInterrupt):
        trainer.fit(_per_step_batches(trainer, optim, crash_at=25))
    assert load_checkpoint(tmp_path / "b.partial.pt")["step"] == 20
    trainer, model, optim = _trainer(tmp_path / "b.pt")
    trainer.fit(_per_step_batches(trainer, optim))
    assert _same(_weights(model), reference)


def test_a_long_lived_generator_is_restored_on_resume(tmp_path):
    def run(path, crash_at=None):
        sampler = torch.Generator().manual_seed(7)
        trainer, model, optim = _trainer(path, generators={"sampler": sampler})

        def step_fn(step):
            if step == crash_at:
                raise KeyboardInterrupt
            x = torch.randn(16, 4, generator=sampler)  # one stream across steps
            loss = ((trainer.modules["model"](x) - x.sum(1, keepdim=True)) ** 2).mean()
            optim.zero_grad()
            trainer.backward(loss)
            optim.step()
            return {"loss": loss.item()}
        trainer.fit(step_fn)
        return _weights(model)

    reference = run(tmp_path / "a.pt")
    with pytest.raises(KeyboardInterrupt):
        run(tmp_path / "b.pt", crash_at=25)
    assert _same(run(tmp_path / "b.pt"), reference)


@pytest.mark.parametrize("which", ["finished", "partial"])
def test_a_truncated_checkpoint_is_named_moved_aside_and_training_restarts(tmp_path, which):
    trainer, model, optim = _trainer(tmp_path / "ref.pt")
    trainer.fit(_per_step_batches(trainer, optim))
    reference = _weights(model)
    path = tmp_path / "c.pt"
    trainer, model, optim = _trainer(path)
    if which == "finished":
        trainer.fit(_per_step_batches(trainer, optim))
        bad = path
    else:
        with pytest.raises(KeyboardInterrupt):
            trainer.fit(_per_step_batches(trainer, optim, crash_at=25))
        bad = tmp_path / "c.partial.pt"
    bad.write_bytes(bad.read_bytes()[: bad.stat().st_size // 2])
    trainer, model, optim = _trainer(path)
    steps = []
    step_fn = _per_step_batches(trainer, optim)
    with pytest.warns(CorruptCheckpointWarning, match=bad.name):
        trainer.fit(lambda s: steps.append(s) or step_fn(s))
    assert steps == list(range(40))  # from scratch
    assert _same(_weights(model), reference)
    aside = list(tmp_path.glob(f"{bad.name}.corrupt-*"))
    assert len(aside) == 1 and load_checkpoint(path)["finished"]


def test_a_checkpoint_holding_a_foreign_object_is_refused_naming_it(tmp_path):
    path = tmp_path / "d.pt"
    trainer, model, optim = _trainer(path)
    with pytest.raises(KeyboardInterrupt):
        trainer.fit(_per_step_batches(trainer, optim, crash_at=15))
    partial = tmp_path / "d.partial.pt"
    payload = load_checkpoint(partial)
    payload["extra"] = Foreign()
    torch.save(payload, partial)
    with pytest.raises(CheckpointRefusedError, match=r"d\.partial\.pt holds .*Foreign"):
        load_checkpoint(partial)
    trainer, model, optim = _trainer(path)
    with pytest.raises(CheckpointRefusedError, match=r"d\.partial\.pt"):
        trainer.fit(_per_step_batches(trainer, optim))
    assert UNPICKLED == [] and partial.exists()  # never unpickled, left for a person to look at


def test_divergence_names_a_partial_checkpoint_only_when_it_is_good(tmp_path):
    trainer, _, optim = _trainer(tmp_path / "e.pt")
    with pytest.raises(TrainingDivergedError, match="no partial checkpoint with finite weights"):
        trainer.fit(_per_step_batches(trainer, optim, nan_from=0))
    trainer, _, optim = _trainer(tmp_path / "f.pt")
    with pytest.raises(TrainingDivergedError, match=r"last good partial checkpoint is .*f\.partial\.pt \(step 20\)"):
        trainer.fit(_per_step_batches(trainer, optim, nan_from=25))
    partial = tmp_path / "f.partial.pt"
    payload = load_checkpoint(partial)
    next(iter(payload["modules"]["model"].values())).fill_(float("nan"))
    save_checkpoint(partial, payload)
    trainer, _, optim = _trainer(tmp_path / "f.pt")
    with pytest.raises(TrainingDivergedError, match="no partial checkpoint with finite weights"):
        trainer.fit(_per_step_batches(trainer, optim, nan_from=20))


# ------------------------------------------------------- 10. imports through subpackages

FAKE_LIB = {
    "__init__.py": "",
    "faces/__init__.py": "from . import align\n",
    "faces/align.py": "import numpy\n",
    "faces/occlusion.py": "from ..nn import blocks\nfrom .align import warp\ndef occlude(): pass\n",
    "faces/assets/templates.npz": "bytes",
    "nn/__init__.py": "",
    "nn/blocks.py": "from . import init_utils\n",
    "nn/init_utils.py": "import torch\n",
    "papers/__init__.py": "",
    "papers/rla/__init__.py": "",
    "papers/rla/model.py": "from ...faces import occlusion\nfrom .published import TABLE1\nfrom .... import nothing\n",
    "papers/rla/published.py": "TABLE1 = {}\n",
    "papers/from_/__init__.py": "",
    "papers/from_/model.py": "from occface.eval import metrics\n",
    "eval/__init__.py": "",
    "eval/metrics.py": "",
    "assets/landmarks_lfw.npz": "bytes",
}


@pytest.fixture
def fake_lib(tmp_path, monkeypatch):
    lib = tmp_path / "lib/occface"
    for rel, text in FAKE_LIB.items():
        (lib / rel).parent.mkdir(parents=True, exist_ok=True)
        (lib / rel).write_text(text)
    monkeypatch.setattr(runner, "LIB_DIR", lib)
    return lib


def test_notebook_dependencies_follow_subpackages_and_relative_imports(fake_lib, tmp_path):
    nb = _notebook(tmp_path / "10_rla.ipynb", "from occface.faces.occlusion import occlude\n"
                                             "from occface.papers.rla import model\n%matplotlib inline")
    files = {p.relative_to(fake_lib).as_posix() for p in runner.library_files(nb)}
    assert files == {"__init__.py", "faces/__init__.py", "faces/align.py", "faces/occlusion.py",
                     "nn/__init__.py", "nn/blocks.py", "nn/init_utils.py", "papers/__init__.py",
                     "papers/rla/__init__.py", "papers/rla/model.py", "papers/rla/published.py",
                     "faces/assets/templates.npz", "assets/landmarks_lfw.npz"}
    before = runner.library_fingerprint(nb)
    (fake_lib / "papers/from_/model.py").write_text("# FROM changed\n")
    assert runner.library_fingerprint(nb) == before
    (fake_lib / "nn/init_utils.py").write_text("# reached through two relative imports\n")
    assert runner.library_fingerprint(nb) != before


def test_import_of_a_subpackage_module_as_a_name(fake_lib, tmp_path):
    nb = _notebook(tmp_path / "40_from.ipynb", "import occface.papers.from_.model as m\n"
                                              "from occface import eval as ev")
    files = {p.relative_to(fake_lib).as_posix() for p in runner.library_files(nb)}
    assert {"papers/__init__.py", "papers/from_/__init__.py", "papers/from_/model.py", "eval/__init__.py",
            "eval/metrics.py"} <= files
    assert not any(f.startswith(("faces/occlusion", "nn/", "papers/rla")) for f in files)
