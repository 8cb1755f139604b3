"""The `make reproduce` machinery: bad input, incremental reruns, atomic publishing, determinism, locks and
staging, dirty working trees, which library files a notebook depends on.

Exit statuses of the runner (documented in its docstring): 2 bad input, 3 another run holds the notebook,
4 default/full refused from a dirty tree. Tests using the ``sandbox`` fixture replace papermill by a fake
(``runner_fakes``), so no kernel starts; ``nb_sandbox`` tests run real notebooks (slow)."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from occface import runner, runtime
from occface.paths import REPO_ROOT
from runner_fakes import FAKE_PAPERMILL, _calls, _notebook


WRITE_TABLE = """
from occface.results import Cell, Results
res = Results("tour", profile, dataset="toy", seed=0)
res.table("table1", [Cell("a", "b", 1.0, 2.0)], title="toy")
"""


@pytest.fixture
def nb_sandbox(tmp_path, monkeypatch):
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    monkeypatch.setattr(runner, "NOTEBOOK_DIR", notebooks)
    monkeypatch.setenv("OCCFACE_RESULTS", str(tmp_path / "results"))
    monkeypatch.setenv("OCCFACE_CACHE", str(tmp_path / "cache"))
    return tmp_path


def test_missing_data_stops_before_any_work_naming_the_fix(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "OCCFACE_DATA"}
    env["PYTHONPATH"] = str(REPO_ROOT / "lib")
    proc = subprocess.run(["python3", "-m", "occface.runner", "--profile", "quick"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode == 2
    assert "OCCFACE_DATA" in proc.stderr and "make data" in proc.stderr
    env["OCCFACE_DATA"] = str(tmp_path)  # exists, but holds no lfw/
    proc = subprocess.run(["python3", "-m", "occface.runner", "--check"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode == 2 and "has no lfw" in proc.stderr


def test_outputs_and_narrative_do_not_make_a_notebook_stale(nb_sandbox):
    path = _notebook(nb_sandbox / "notebooks" / "00_a.ipynb", "print(1)")
    before = runner.notebook_source_hash(path)
    nb = nbformat.read(path, as_version=4)
    nb.cells[1].outputs = [nbformat.v4.new_output("stream", text="1\n")]
    nb.cells.append(nbformat.v4.new_markdown_cell("Why our number differs from the paper's."))
    nbformat.write(nb, path)
    assert runner.notebook_source_hash(path) == before
    nb.cells[1].source = "print(2)"
    nbformat.write(nb, path)
    assert runner.notebook_source_hash(path) != before


@pytest.mark.slow
def test_second_run_skips_and_a_changed_notebook_reruns(nb_sandbox, capsys):
    path = _notebook(nb_sandbox / "notebooks" / "00_a.ipynb", WRITE_TABLE)
    assert runner.main(["--profile", "quick"]) == 0
    assert (nb_sandbox / "results/quick/tour/table1.csv").exists()
    index = (nb_sandbox / "results/README.md").read_text()
    assert "tour/table1" in index and "notebooks/00_a.ipynb" in index
    started = time.time()
    assert runner.main(["--profile", "quick"]) == 0
    assert "up to date, skipped" in capsys.readouterr().out
    assert time.time() - started < 10
    _notebook(path, WRITE_TABLE + "\nprint('changed')")
    assert runner.main(["--profile", "quick"]) == 0
    assert "1 notebook(s) run" in capsys.readouterr().out


@pytest.mark.slow
def test_failing_notebook_publishes_nothing_names_the_cell_and_keeps_the_traceback(nb_sandbox, capsys):
    _notebook(nb_sandbox / "notebooks" / "00_bad.ipynb", WRITE_TABLE + "\nraise RuntimeError('boom')")
    assert runner.main(["--profile", "quick"]) == 1
    err = capsys.readouterr().err
    kept = nb_sandbox / "cache/failed/quick/00_bad.ipynb"
    assert "00_bad.ipynb (profile quick): cell 1 (`from occface.results import Cell, Results`) raised " \
           "RuntimeError: boom" in err and f"kept at {kept}" in err
    assert "Traceback" not in err and "boom" in kept.read_text()  # the full traceback is in the kept notebook
    assert not (nb_sandbox / "results/quick/tour").exists()
    assert not list((nb_sandbox / "cache/staging/quick").iterdir())
    assert not (nb_sandbox / "results/quick/.stamps/00_bad.json").exists()


@pytest.mark.slow
def test_two_quick_runs_of_the_tour_give_identical_csvs(tmp_path, monkeypatch):
    """Determinism: the same seed and profile give byte-identical tables on the CPU."""
    tables = []
    for attempt in ("one", "two"):
        monkeypatch.setenv("OCCFACE_RESULTS", str(tmp_path / attempt))
        assert runner.main(["--profile", "quick", "--only", "00_tour", "--force"]) == 0
        csvs = sorted((tmp_path / attempt / "quick").rglob("*.csv"))
        assert csvs, "the tour wrote no table"
        tables.append({p.relative_to(tmp_path / attempt): p.read_bytes() for p in csvs})
    assert tables[0] == tables[1]


def test_a_notebook_depends_only_on_the_modules_it_imports(nb_sandbox):
    path = _notebook(nb_sandbox / "notebooks" / "00_a.ipynb", "from occface.results import Cell, Results")
    files = {p.relative_to(runner.LIB_DIR).as_posix() for p in runner.library_files(path)}
    assert {"results.py", "profiles.py", "paths.py", "runtime.py"} <= files  # followed transitively
    assert "models/rla.py" not in files and "occlusion.py" not in files


@pytest.mark.slow
def test_a_renamed_table_replaces_the_old_file(nb_sandbox):
    path = _notebook(nb_sandbox / "notebooks" / "00_a.ipynb", WRITE_TABLE)
    assert runner.main(["--profile", "quick"]) == 0
    _notebook(path, WRITE_TABLE.replace('"table1"', '"tableI"'))
    assert runner.main(["--profile", "quick"]) == 0
    folder = nb_sandbox / "results/quick/tour"
    assert (folder / "tableI.csv").exists() and not (folder / "table1.csv").exists()
    assert set(json.loads((folder / "manifest.json").read_text())) == {"tableI"}


# ---------------------------------------------------------------- two runs of one notebook at once

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

# ---------------------------------------------------------------- relative OCCFACE_DATA

def test_relative_paths_are_made_absolute_and_exported_to_the_kernels(sandbox, monkeypatch):
    monkeypatch.chdir(sandbox / "notebooks")
    monkeypatch.setenv("OCCFACE_DATA", "../data")  # the kind of value the error message suggests
    monkeypatch.setenv("OCCFACE_CACHE", "../cache")
    assert runner.main(["--profile", "quick"]) == 0
    call = _calls(sandbox)[0]
    assert call["data"] == str(sandbox / "data") and call["cache"] == str(sandbox / "cache")
    assert Path(call["results"]).is_absolute() and call["cwd"] == str(sandbox / "notebooks")
    assert (sandbox / "results/quick/tour/table1.csv").exists()

# ---------------------------------------------------------------- published file modes

def test_published_results_are_world_readable(sandbox):
    old = os.umask(0o022)
    try:
        assert runner.main(["--profile", "quick"]) == 0
    finally:
        os.umask(old)
    for path in [sandbox / "results/README.md", sandbox / "results/quick/.stamps/00_a.json",
                 sandbox / "results/quick/tour/table1.csv"]:
        assert path.stat().st_mode & 0o777 == 0o644, path

# ---------------------------------------------------------------- dirty working trees

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


# ---------------------------------------------------------------- imports through subpackages

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


# ------------------------------------------------ the user's photo folder is an input (issue 26, case 1)

def test_the_users_photo_folder_is_an_input_of_the_notebooks_that_read_it(sandbox, monkeypatch, capsys):
    """``OCCFACE_REAL_OCCLUSIONS=/my/photos`` said "up to date, skipped", and unsetting it left the user's row
    in the table. Its contents (paths, sizes, mtimes) are now inputs of the notebooks that read it."""
    _notebook(sandbox / "notebooks/10_b.ipynb", "from occface.eval import real")
    photos = sandbox / "photos/Ann/occluded"
    photos.mkdir(parents=True)
    (photos / "a.jpg").write_bytes(b"photo")

    def ran() -> list[str]:
        capsys.readouterr()
        before = len(_calls(sandbox))
        assert runner.main(["--profile", "quick"]) == 0
        return [c["notebook"] for c in _calls(sandbox)[before:]]

    assert ran() == ["00_a.ipynb", "10_b.ipynb"]
    assert ran() == []
    monkeypatch.setenv("OCCFACE_REAL_OCCLUSIONS", str(sandbox / "photos"))
    assert ran() == ["10_b.ipynb"]  # 00_a does not read the folder
    assert ran() == []
    (photos / "b.jpg").write_bytes(b"another photo")
    assert ran() == ["10_b.ipynb"]
    os.utime(photos / "a.jpg", ns=(1, 1))
    assert ran() == ["10_b.ipynb"]
    monkeypatch.delenv("OCCFACE_REAL_OCCLUSIONS")
    assert ran() == ["10_b.ipynb"]  # the user's row goes away again


def test_the_photo_fingerprint_survives_link_loops_and_dangling_links(tmp_path):
    (tmp_path / "p/Ann/clean").mkdir(parents=True)
    (tmp_path / "p/Ann/clean/a.jpg").write_bytes(b"x")
    (tmp_path / "p/Ann/clean/loop").symlink_to(tmp_path / "p/Ann")
    (tmp_path / "p/Ann/clean/gone.jpg").symlink_to(tmp_path / "nowhere.jpg")
    first = runner.user_photos_fingerprint(tmp_path / "p")
    (tmp_path / "nowhere.jpg").write_bytes(b"now here")
    assert runner.user_photos_fingerprint(tmp_path / "p") != first


# ------------------------------------------------------- a time limit for every cell (issue 26, case 3)

def test_every_cell_runs_under_the_profiles_time_limit(sandbox, monkeypatch):
    assert runner.main(["--profile", "quick"]) == 0
    from occface.knobs import RunKnobs

    assert _calls(sandbox)[-1]["timeout"] == RunKnobs.for_profile("quick").cell_timeout_s > 0
    monkeypatch.setenv("OCCFACE_CELL_TIMEOUT", "7")
    assert runner.main(["--profile", "quick", "--force"]) == 0
    assert _calls(sandbox)[-1]["timeout"] == 7


def test_a_bad_cell_time_limit_is_refused_before_any_work(sandbox, monkeypatch, capsys):
    monkeypatch.setenv("OCCFACE_CELL_TIMEOUT", "soon")
    assert runner.main(["--profile", "quick"]) == 2
    assert "OCCFACE_CELL_TIMEOUT='soon' must be a positive whole number of seconds" in capsys.readouterr().err


@pytest.mark.slow
def test_a_cell_past_its_time_limit_stops_the_kernel_releases_the_lock_and_is_named(nb_sandbox, monkeypatch, capsys):
    """Two notebooks at once could hang for ever at a lost kernel reply, holding the lock: papermill ran with no
    execution timeout. A cell that outlives the limit is now stopped and named; the run goes on."""
    pid_file = nb_sandbox / "kernel.pid"
    _notebook(nb_sandbox / "notebooks/00_slow.ipynb",
              f"import os, time\nopen({str(pid_file)!r}, 'w').write(str(os.getpid()))\ntime.sleep(120)")
    _notebook(nb_sandbox / "notebooks/01_next.ipynb", WRITE_TABLE)
    monkeypatch.setenv("OCCFACE_CELL_TIMEOUT", "5")
    started = time.time()
    assert runner.main(["--profile", "quick"]) == 1
    assert time.time() - started < 100
    err = capsys.readouterr().err
    assert "00_slow.ipynb (profile quick): cell 1 (`import os, time`) ran longer than 5 s" in err
    assert "its kernel was stopped" in err and "Traceback" not in err
    deadline = time.time() + 20
    while Path(f"/proc/{pid_file.read_text()}").exists() and time.time() < deadline:
        time.sleep(0.2)
    assert not Path(f"/proc/{pid_file.read_text()}").exists(), "the kernel still runs"
    with runner.notebook_lock("quick", nb_sandbox / "notebooks/00_slow.ipynb"):  # released
        pass
    assert (nb_sandbox / "results/quick/tour/table1.csv").exists()  # the next notebook still ran


# --------------------------------------------- a failing cell: named, traceback kept, the run goes on

def test_a_failing_notebook_is_named_kept_and_the_others_still_run(sandbox, monkeypatch, capsys):
    _notebook(sandbox / "notebooks/01_b.ipynb")
    monkeypatch.setenv("FAKE_FAIL", "00_a.ipynb")
    assert runner.main(["--profile", "quick"]) == 1
    err = capsys.readouterr().err
    kept = sandbox / "cache/failed/quick/00_a.ipynb"
    assert "00_a.ipynb (profile quick): cell 1 (`print(1)`) raised ValueError: boom." in err and "more lines" not in err
    assert f"kept at {kept}" in err and kept.exists()
    assert "1 notebook(s) failed, nothing of them published: 00_a.ipynb" in err
    assert [c["notebook"] for c in _calls(sandbox)] == ["00_a.ipynb", "01_b.ipynb"]
    assert not (sandbox / "results/quick/.stamps/00_a.json").exists()
    assert (sandbox / "results/quick/.stamps/01_b.json").exists()


def test_a_truncated_notebook_is_named_and_caught_by_check(sandbox, capsys):
    path = sandbox / "notebooks/00_a.ipynb"
    path.write_text(path.read_text()[:100])
    with pytest.raises(runner.NotebookUnreadableError, match=r"notebook .*00_a\.ipynb is not a valid notebook"):
        runner.notebook_source_hash(path)
    assert runner.main(["--profile", "quick", "--check"]) == 2
    err = capsys.readouterr().err
    assert "00_a.ipynb is not a valid notebook" in err and "make notebooks" in err and "Traceback" not in err


# ----------------------------------------------------- publishing all-or-nothing (issue 26, case 4)

def _tree(folder: Path) -> dict:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_a_full_disk_while_publishing_restores_the_previous_run(sandbox, monkeypatch, capsys):
    """``--only 30_oa_gan`` on a nearly full disk left new CSVs beside the old run's tables and a truncated
    ``.publishing`` file, and the next run said "up to date". Now a failed publication puts everything back."""
    import errno
    import shutil as shutil_module

    monkeypatch.setenv("FAKE_TABLES", "table1,table2,table3")
    monkeypatch.setenv("FAKE_RUN", " (run one)")
    assert runner.main(["--profile", "quick"]) == 0
    before = _tree(sandbox / "results/quick")
    real_copy = shutil_module.copy2

    def full_disk(src, dst, **kwargs):
        if Path(dst).name == ".table2.csv.publishing":  # the second table: half written, then ENOSPC
            Path(dst).write_bytes(b"writ")
            raise OSError(errno.ENOSPC, "No space left on device", str(dst))
        return real_copy(src, dst, **kwargs)

    monkeypatch.setattr(shutil_module, "copy2", full_disk)
    monkeypatch.setenv("FAKE_RUN", " (run two)")
    capsys.readouterr()
    assert runner.main(["--profile", "quick", "--force"]) == 1
    err = capsys.readouterr().err
    assert f"publishing 00_a.ipynb into {sandbox / 'results/quick'} failed: No space left on device" in err
    assert "previous files, manifests and stamp are restored" in err and "MB free there" in err
    assert _tree(sandbox / "results/quick") == before  # not one new file, no .publishing leftover, same stamp
    monkeypatch.setattr(shutil_module, "copy2", real_copy)
    assert runner.main(["--profile", "quick", "--force"]) == 0
    assert (sandbox / "results/quick/tour/table2.csv").read_text().endswith("(run two)\n")


def test_too_little_free_space_is_refused_before_publishing_anything(sandbox, monkeypatch, capsys):
    import shutil as shutil_module

    assert runner.main(["--profile", "quick"]) == 0
    before = _tree(sandbox / "results/quick")
    usage = shutil_module.disk_usage(sandbox)
    monkeypatch.setattr(runner.shutil, "disk_usage", lambda path: usage._replace(free=1000))
    assert runner.main(["--profile", "quick", "--force"]) == 1
    err = capsys.readouterr().err
    assert f"not enough free space to publish 00_a.ipynb into {sandbox / 'results/quick'}: 1.0 MB needed" in err
    assert "0.0 MB free" in err and _tree(sandbox / "results/quick") == before


def test_a_cell_failing_on_a_read_only_cache_names_occface_cache(sandbox, monkeypatch, capsys):
    monkeypatch.setenv("FAKE_FAIL", "00_a.ipynb")
    monkeypatch.setenv("FAKE_ERROR", f"OSError|[Errno 30] Read-only file system: '{sandbox / 'cache/faces/x.npz'}'")
    assert runner.main(["--profile", "quick"]) == 1
    err = capsys.readouterr().err
    assert "raised OSError: [Errno 30] Read-only file system" in err
    assert f"a file in the cache folder {sandbox / 'cache'}" in err and "point OCCFACE_CACHE at a folder" in err


# ------------------------------------------------------------ committed results match the code (issue 26)

def test_every_committed_quick_stamp_matches_heads_inputs(data_root, monkeypatch):
    """A fresh clone's `make reproduce PROFILE=quick` must re-run nothing and modify no tracked file: every
    committed quick stamp's input hash equals the one HEAD's notebooks, library, profile and data give (the
    user's photo folder unset, as in a fresh clone), and every artifact it lists is committed."""
    monkeypatch.delenv("OCCFACE_REAL_OCCLUSIONS", raising=False)
    folder = REPO_ROOT / "results/quick"
    stamps = sorted((folder / ".stamps").glob("*.json"))
    assert stamps, "no committed quick stamps"
    data_print = runner.data_fingerprint(data_root)
    stale, missing = [], []
    for stamp in stamps:
        record = json.loads(stamp.read_text())
        notebook = REPO_ROOT / record["notebook"]
        if not notebook.exists() or record["hash"] != runner.input_hash(notebook, "quick", data_print):
            stale.append(stamp.stem)
        missing += [f"{stamp.stem}: {a}" for a in record["artifacts"] if not (folder / a).exists()]
    assert not stale, f"committed quick results are stale against HEAD (re-run `make reproduce PROFILE=quick` and " \
                      f"commit them): {', '.join(stale)}"
    assert not missing, f"artifacts listed by a stamp but not committed: {missing}"


def test_an_interrupt_while_publishing_also_restores_the_previous_run(sandbox, monkeypatch):
    import shutil as shutil_module

    monkeypatch.setenv("FAKE_TABLES", "table1,table2")
    assert runner.main(["--profile", "quick"]) == 0
    before = _tree(sandbox / "results/quick")
    real_copy = shutil_module.copy2

    def interrupted(src, dst, **kwargs):
        if Path(dst).name == ".table2.csv.publishing":
            raise KeyboardInterrupt
        return real_copy(src, dst, **kwargs)

    monkeypatch.setattr(shutil_module, "copy2", interrupted)
    monkeypatch.setenv("FAKE_RUN", " (interrupted)")
    with pytest.raises(KeyboardInterrupt):
        runner.main(["--profile", "quick", "--force"])
    assert _tree(sandbox / "results/quick") == before


def test_a_default_run_keeps_its_executed_notebook_beside_its_tables_and_quick_does_not(sandbox):
    import nbformat

    assert runner.main(["--profile", "default", "--allow-dirty"]) == 0
    kept = sandbox / "results/default/tour/00_a.ipynb"
    nbformat.validate(nbformat.read(kept, as_version=4))
    stamp = json.loads((sandbox / "results/default/.stamps/00_a.json").read_text())
    assert "tour/00_a.ipynb" in stamp["artifacts"]
    assert runner.main(["--profile", "quick"]) == 0
    assert not (sandbox / "results/quick/tour/00_a.ipynb").exists()  # quick's run is notebooks/00_a.ipynb
