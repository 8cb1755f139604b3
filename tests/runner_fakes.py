"""A fake papermill and a tiny fake data package for the runner's tests (no kernel starts).

The fake replaces ``sys.modules["papermill"]``: it writes one table into the staging folder the runner
exports as OCCFACE_RESULTS (and logs each call), so runner tests exercise locking, staging, publishing and
the pre-run checks in milliseconds. Subprocess tests use the same fake (``FAKE_PAPERMILL`` is a script)."""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import nbformat
import pytest

from occface import checks, runner, runtime

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
                                     "cache": os.environ.get("OCCFACE_CACHE"),
                                     "notebook": Path(input_path).name,
                                     "timeout": kwargs.get("execution_timeout")}) + "\\n")
    folder = staging / parameters["profile"] / "tour"
    folder.mkdir(parents=True, exist_ok=True)
    time.sleep(float(os.environ.get("FAKE_SLEEP", "0")))
    gate, deadline = os.environ.get("FAKE_GATE"), time.time() + 120
    while gate and not Path(gate).exists() and time.time() < deadline:  # held open until the test says so
        time.sleep(0.05)
    for table in os.environ.get("FAKE_TABLES", "table1").split(","):  # content: the writer's PID and run name
        (folder / f"{table}.csv").write_text(f"written by {os.getpid()}{os.environ.get('FAKE_RUN', '')}\\n")
    Path(output_path).write_text(Path(input_path).read_text())
    if Path(input_path).name == os.environ.get("FAKE_FAIL"):  # like papermill's PapermillExecutionError
        nb = json.loads(Path(input_path).read_text())
        nb["cells"][1]["metadata"]["papermill"] = {"status": "failed", "start_time": "now"}
        Path(output_path).write_text(json.dumps(nb))
        error = RuntimeError("papermill: the notebook raised")
        error.cell_index, error.exec_count = 1, 1
        error.ename, error.evalue = os.environ.get("FAKE_ERROR", "ValueError|boom\\nmore lines").split("|")
        raise error

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

