"""The `make reproduce` machinery: bad input, incremental reruns, atomic publishing, determinism."""

import json
import os
import subprocess
import time
from pathlib import Path

import nbformat
import pytest

from occface import runner
from occface.paths import REPO_ROOT


def _notebook(path: Path, body: str) -> Path:
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell('profile = "quick"')
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell(body)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return path


WRITE_TABLE = """
from occface.results import Cell, Results
res = Results("tour", profile, dataset="toy", seed=0)
res.table("table1", [Cell("a", "b", 1.0, 2.0)], title="toy")
"""


@pytest.fixture
def sandbox(tmp_path, monkeypatch):
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


def test_outputs_and_narrative_do_not_make_a_notebook_stale(sandbox):
    path = _notebook(sandbox / "notebooks" / "00_a.ipynb", "print(1)")
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
def test_second_run_skips_and_a_changed_notebook_reruns(sandbox, capsys):
    path = _notebook(sandbox / "notebooks" / "00_a.ipynb", WRITE_TABLE)
    assert runner.main(["--profile", "quick"]) == 0
    assert (sandbox / "results/quick/tour/table1.csv").exists()
    index = (sandbox / "results/README.md").read_text()
    assert "tour/table1" in index and "notebooks/00_a.ipynb" in index
    started = time.time()
    assert runner.main(["--profile", "quick"]) == 0
    assert "up to date, skipped" in capsys.readouterr().out
    assert time.time() - started < 10
    _notebook(path, WRITE_TABLE + "\nprint('changed')")
    assert runner.main(["--profile", "quick"]) == 0
    assert "1 notebook(s) run" in capsys.readouterr().out


@pytest.mark.slow
def test_failing_notebook_publishes_nothing(sandbox):
    _notebook(sandbox / "notebooks" / "00_bad.ipynb", WRITE_TABLE + "\nraise RuntimeError('boom')")
    with pytest.raises(Exception, match="boom"):
        runner.main(["--profile", "quick"])
    assert not (sandbox / "results/quick/tour").exists()
    assert not list((sandbox / "cache/staging/quick").iterdir())
    assert not (sandbox / "results/quick/.stamps/00_bad.json").exists()


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


def test_a_notebook_depends_only_on_the_modules_it_imports(sandbox):
    path = _notebook(sandbox / "notebooks" / "00_a.ipynb", "from occface.results import Cell, Results")
    files = {p.relative_to(runner.LIB_DIR).as_posix() for p in runner.library_files(path)}
    assert {"results.py", "profiles.py", "paths.py", "runtime.py"} <= files  # followed transitively
    assert "models/rla.py" not in files and "occlusion.py" not in files


@pytest.mark.slow
def test_a_renamed_table_replaces_the_old_file(sandbox):
    path = _notebook(sandbox / "notebooks" / "00_a.ipynb", WRITE_TABLE)
    assert runner.main(["--profile", "quick"]) == 0
    _notebook(path, WRITE_TABLE.replace('"table1"', '"tableI"'))
    assert runner.main(["--profile", "quick"]) == 0
    folder = sandbox / "results/quick/tour"
    assert (folder / "tableI.csv").exists() and not (folder / "table1.csv").exists()
    assert set(json.loads((folder / "manifest.json").read_text())) == {"tableI"}
