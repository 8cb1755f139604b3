"""`make reproduce`: run every notebook through papermill, incrementally and resumably.

A notebook re-runs only when its inputs changed: the notebook's code cells, the library modules it
imports (followed transitively, through subpackages and relative imports, with every parent package's
``__init__``), the package's asset files, the profile's parameters or the data's checksums.

Concurrency and failures:

- Each run of a notebook holds an exclusive lock per (profile, notebook) (``fcntl.flock`` on
  ``<cache>/locks/<profile>/<notebook>.lock``) while it runs and publishes. A second run of the same
  notebook stops with exit status 3 and names the first run's PID, or with ``--wait`` waits for it and then
  skips the notebook if the first run published it up to date.
- Each run writes into its own staging folder ``<cache>/staging/<profile>/<notebook>/<pid>-<random>``; the
  files are moved into ``results/<profile>/`` only after the notebook finished (under a short publish
  lock), so a killed or failed run leaves no half-written table in ``results/``. Leftover staging folders
  of killed runs are removed by the next run that holds the notebook's lock.
- ``OCCFACE_DATA``, ``OCCFACE_CACHE`` and ``OCCFACE_RESULTS`` are resolved to absolute paths and exported
  before anything runs (the kernels start in ``notebooks/``).
- Before any work: the profile's values, the files the notebooks read (``lfw/pairs.txt``,
  ``lfw/lfw-deepfunneled/``, ``occluders/index.csv``, ``lib/occface/assets/landmarks_*.npz``) and that the
  cache and results folders are writable are checked (exit status 2, every problem named).
  ``--check`` also verifies the data against the SHA256 lists (``data/checksums/<folder>.SHA256SUMS``, else
  the data's own ``SHA256SUMS``); digests are cached in ``<cache>/data-checksums.json`` by (path, size,
  mtime), so a second check only stats the files.
- A notebook that reads the user's photo folder (``OCCFACE_REAL_OCCLUSIONS``, through ``occface.eval.real``)
  has the folder's contents (every file's path, size and modification time) among its inputs, so adding,
  changing or removing a photo, or setting or unsetting the variable, re-runs it; a variable naming no folder
  fails the pre-run check.
- Every cell runs under a time limit (``knobs.RunKnobs`` per profile, generous; ``OCCFACE_CELL_TIMEOUT``
  seconds overrides it): a cell that runs longer (or whose kernel reply is lost) stops the kernel, releases
  the notebook's lock and is named. A cell that raises is named with its error; the executed notebook holding
  the traceback is kept in ``<cache>/failed/<profile>/<notebook>.ipynb``. Either way nothing of that notebook
  is published, the run goes on with the other notebooks and exits 1 listing every failure.
- Publishing is all-or-nothing: the free space is checked first (the message names the folder and the space
  needed); if a write fails midway (a full disk), the previous files, manifests and stamp are put back.
- ``default`` and ``full`` results are published only from a working tree without uncommitted changes
  under ``lib/``, ``notebooks/`` or ``pyproject.toml`` (tracked or untracked, see
  ``occface.runtime.DIRTY_PATHS``), unless ``--allow-dirty`` is given (exit status 4 otherwise); ``quick``
  runs anyway. Either way the manifest and the index record the commit with ``+dirty``.

    python -m occface.runner --profile quick [--only 00_tour] [--force] [--check] [--wait] [--allow-dirty] [--jobs 2]
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import shutil
import sys
import time
import uuid
from pathlib import Path

from .paths import (DATA_FOLDERS, REPO_ROOT, DataNotFoundError, cache_dir, cache_root,
                    data_root, results_root)
from .profiles import PROFILES, get_profile
from .checks import (asset_problems, cache_problem, data_file_problems, nearest_existing, profile_problems,
                     results_problems, user_photos_problem, verify_data_checksums)
from .locks import RunnerBusyError, _publish_lock, notebook_lock

NOTEBOOK_DIR = REPO_ROOT / "notebooks"
LIB_DIR = REPO_ROOT / "lib" / "occface"
EXIT_FAILED, EXIT_BAD_INPUT, EXIT_BUSY, EXIT_DIRTY = 1, 2, 3, 4
GUARDED_PROFILES = ("default", "full")  # published from a clean tree only (see --allow-dirty)
PUBLISH_MARGIN = 1 << 20  # bytes kept free beyond the files themselves (manifests, stamp, index)


class NotebookUnreadableError(ValueError):
    """A notebook file is not valid notebook JSON; the message names the file and the fix."""


class NotebookFailedError(RuntimeError):
    """A notebook's cell raised or timed out; the message names the cell and where the executed notebook is."""


class PublishError(OSError):
    """Publishing a finished notebook's files failed (no space, a failed write); the previous files are back."""

# What the notebooks read from OCCFACE_DATA (relative path, trailing "/" for a folder, what it is).
# Landmark assets (``lib/occface/assets``) per data set; ORL's is needed only where att_faces/ exists.
# Files a checksum list names that no notebook reads and `make data` does not download (or derives).
def notebooks(only: list[str] | None = None) -> list[Path]:
    """The registered notebooks: ``notebooks/NN_*.ipynb`` in numeric order (optionally a subset by stem)."""
    found = sorted(NOTEBOOK_DIR.glob("[0-9][0-9]_*.ipynb"))
    if only:
        unknown = set(only) - {p.stem for p in found}
        if unknown:
            raise ValueError(f"unknown notebook(s) {sorted(unknown)}; known: {[p.stem for p in found]}")
        found = [p for p in found if p.stem in only]
    return found


def read_notebook(notebook: Path) -> dict:
    """A notebook's JSON, or ``NotebookUnreadableError`` naming the file and the fix (truncated, not JSON)."""
    try:
        nb = json.loads(notebook.read_text())
        if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
            raise ValueError("no list of cells")
        return nb
    except (ValueError, UnicodeDecodeError) as err:
        rel = notebook.relative_to(REPO_ROOT) if notebook.is_relative_to(REPO_ROOT) else notebook
        raise NotebookUnreadableError(
            f"notebook {notebook} is not a valid notebook ({type(err).__name__}: {err}); it may be truncated. "
            f"Restore it with `git checkout -- {rel}` or rebuild it from notebooks/src with `make notebooks`."
        ) from None


def data_fingerprint(root: Path) -> str:
    """Hash of the data's SHA256SUMS files (or of the file listing where a folder has none)."""
    digest = hashlib.sha256()
    for folder in sorted(DATA_FOLDERS.values()):
        base = root / folder
        sums = base / "SHA256SUMS"
        if sums.exists():
            digest.update(sums.read_bytes())
        elif base.is_dir():
            for path in sorted(base.rglob("*")):
                if path.is_file():
                    digest.update(f"{path.relative_to(root)}:{path.stat().st_size}\n".encode())
    return digest.hexdigest()


def _module_file(module: str) -> Path | None:
    """``occface.papers.rla.model`` -> lib/occface/papers/rla/model.py (or a package's __init__.py)."""
    parts = module.split(".")[1:]
    base = LIB_DIR.joinpath(*parts)
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _is_ours(module: str) -> bool:
    return module == "occface" or module.startswith("occface.")


def _parents(module: str) -> set[str]:
    """``occface.faces.occlusion`` -> {occface, occface.faces}: importing a module runs its packages' __init__."""
    parts = module.split(".")
    return {".".join(parts[:k]) for k in range(1, len(parts))}


def _imported_modules(source: str, package: str) -> set[str]:
    """occface modules that ``source`` imports: absolute (``import occface.faces.data``, ``from occface.papers.rla
    import model``) or relative to ``package`` (``from . import x``, ``from ..nn import blocks``), with
    ``from pkg import name`` also yielding ``pkg.name`` (``name`` may be a submodule)."""
    import ast

    found: set[str] = set()
    try:
        tree = ast.parse(source)
    except SyntaxError:  # e.g. notebook magics: fall back to "depends on everything"
        return {"occface.*"}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if _is_ours(a.name)}
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: level 1 is `package` itself, each further dot one package up
                anchor = package.split(".")
                if node.level - 1 >= len(anchor):
                    continue  # beyond the top-level package: not ours
                anchor = anchor[: len(anchor) - (node.level - 1)]
                module = ".".join(anchor + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            if _is_ours(module):
                found.add(module)
                found |= {f"{module}.{a.name}" for a in node.names if a.name != "*"}  # `from occface import data`
    return found


def _asset_files() -> set[Path]:
    """Data files the library reads (every file in an ``assets`` folder anywhere in the package)."""
    return {p for p in LIB_DIR.rglob("*") if p.is_file() and "assets" in p.relative_to(LIB_DIR).parts[:-1]
            and "__pycache__" not in p.parts}


def library_files(notebook: Path) -> list[Path]:
    """The library files a notebook depends on: the occface modules it imports, followed transitively, the
    ``__init__.py`` of every package on the way, and the asset files. Editing papers/rla/model.py then
    re-runs the RLA notebook and not FROM's."""
    sources = "\n".join("".join(c["source"]) for c in read_notebook(notebook)["cells"]
                        if c["cell_type"] == "code")
    lines = [ln for ln in sources.splitlines() if not ln.lstrip().startswith(("%", "!"))]
    pending, seen = set(_imported_modules("\n".join(lines), "occface")), set()
    if "occface.*" in pending:
        return sorted(p for p in LIB_DIR.rglob("*.py") if "__pycache__" not in p.parts) + sorted(_asset_files())
    files: set[Path] = set()
    pending.add("occface")
    while pending:
        module = pending.pop()
        if module in seen:
            continue
        seen.add(module)
        path = _module_file(module)
        if path is None:
            continue  # a name imported from a module (a function, a class), not a module itself
        files.add(path)
        pending |= _parents(module) - seen
        package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
        imported = _imported_modules(path.read_text(), package)
        if "occface.*" in imported:
            return sorted(p for p in LIB_DIR.rglob("*.py") if "__pycache__" not in p.parts) + sorted(_asset_files())
        pending |= imported - seen
    return sorted(files | _asset_files())


def library_fingerprint(notebook: Path, files: list[Path] | None = None) -> str:
    digest = hashlib.sha256()
    for path in library_files(notebook) if files is None else files:
        digest.update(str(path.relative_to(LIB_DIR)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def reads_user_photos(files: list[Path]) -> bool:
    """True when a notebook's library files include the module that reads ``OCCFACE_REAL_OCCLUSIONS``."""
    return LIB_DIR / "eval" / "real.py" in files


def notebook_source_hash(notebook: Path) -> str:
    """Hash of the code cells' sources only: outputs and narrative (markdown) do not make a notebook stale."""
    cells = read_notebook(notebook)["cells"]
    text = json.dumps([[c["cell_type"], "".join(c["source"])] for c in cells if c["cell_type"] == "code"])
    return hashlib.sha256(text.encode()).hexdigest()


def input_hash(notebook: Path, profile: str, data_print: str) -> str:
    """Hash of everything a notebook's results depend on: its code cells, the library files it imports, the
    profile, the data's checksums and, where it reads them, the user's photos (``OCCFACE_REAL_OCCLUSIONS``;
    nothing is added while the variable is unset)."""
    files = library_files(notebook)
    digest = hashlib.sha256()
    digest.update(notebook_source_hash(notebook).encode())
    digest.update(library_fingerprint(notebook, files).encode())
    digest.update(json.dumps(get_profile(profile).as_dict(), sort_keys=True).encode())
    digest.update(data_print.encode())
    if reads_user_photos(files) and os.environ.get("OCCFACE_REAL_OCCLUSIONS"):
        digest.update(user_photos_fingerprint(Path(os.environ["OCCFACE_REAL_OCCLUSIONS"])).encode())
    return digest.hexdigest()


def user_photos_fingerprint(folder: Path) -> str:
    """The user's photo folder as an input: every file under it (links followed, each real folder once, so a
    link loop ends) with its relative path, size and modification time."""
    digest = hashlib.sha256(f"{folder.resolve()}\n".encode())
    seen: set[str] = set()
    for top, dirs, files in os.walk(folder, followlinks=True):
        real = os.path.realpath(top)
        dirs.sort()
        if real in seen:
            dirs[:] = []
            continue
        seen.add(real)
        for name in sorted(files):
            path = Path(top) / name
            try:
                st = path.stat()
                entry = f"{st.st_size}:{st.st_mtime_ns}"
            except OSError as err:  # a dangling link: its presence still counts
                entry = f"unreadable:{err.errno}"
            digest.update(f"{path.relative_to(folder)}:{entry}\n".encode())
    return digest.hexdigest()


def _absolutize_env() -> None:
    """Resolve relative OCCFACE_DATA / OCCFACE_CACHE / OCCFACE_RESULTS against the current directory and export
    them: the papermill kernels inherit the environment but start in notebooks/."""
    for var in ("OCCFACE_DATA", "OCCFACE_CACHE", "OCCFACE_RESULTS", "OCCFACE_REAL_OCCLUSIONS"):
        value = os.environ.get(var)
        if value:
            os.environ[var] = str(Path(value).expanduser().resolve())


# ------------------------------------------------------------------------------------------------ checks

def preflight(profile: str, only: list[str] | None = None, *, checksums: bool = False
              ) -> tuple[list[str], Path | None, dict]:
    """Everything the runner checks before any work: (problems, data root or None, checksum stats)."""
    problems: list[str] = []
    try:
        problems += profile_problems(profile)
    except ValueError as err:
        problems.append(str(err))
    root: Path | None = None
    try:
        root = data_root(("lfw", "occluders"))
    except DataNotFoundError as err:
        problems.append(str(err))
    data_ok = root is not None and not (missing := data_file_problems(root))
    if root is not None:
        problems += missing
    problems += asset_problems(root)
    try:
        for notebook in notebooks(only):
            read_notebook(notebook)
    except ValueError as err:  # an unknown name or a damaged notebook file
        problems.append(str(err))
    photos = user_photos_problem()
    if photos:
        problems.append(photos)
    timeout = os.environ.get("OCCFACE_CELL_TIMEOUT")
    if timeout is not None and not (timeout.isdigit() and int(timeout) > 0):
        problems.append(f"OCCFACE_CELL_TIMEOUT={timeout!r} must be a positive whole number of seconds (the longest "
                        f"a cell may run), or unset for the profile's own limit (occface.knobs.RunKnobs)")
    cache = cache_problem()
    if cache:
        problems.append(cache)
    if profile in PROFILES:
        problems += results_problems(profile)
    stats: dict = {}
    if checksums and data_ok:
        damaged, stats = verify_data_checksums(root)
        if damaged:
            shown = ", ".join(damaged[:20]) + (f", ... and {len(damaged) - 20} more" if len(damaged) > 20 else "")
            problems.append(f"{len(damaged)} data file(s) under {root} do not match their SHA256 checksums: {shown}. "
                            "Run `make data` to re-download (or restore them from the project's data package).")
    return problems, root, stats


# ------------------------------------------------------------------------------------------- running

def _staging_root() -> Path:
    return cache_dir("staging")


def _stamp_path(profile: str, notebook: Path) -> Path:
    return results_root() / profile / ".stamps" / f"{notebook.stem}.json"


def is_fresh(profile: str, notebook: Path, wanted: str) -> bool:
    """True when the notebook's stamp matches its inputs and all its artifacts still exist."""
    stamp = _stamp_path(profile, notebook)
    if not stamp.exists():
        return False
    record = json.loads(stamp.read_text())
    if record.get("hash") != wanted:
        return False
    base = results_root() / profile
    return all((base / rel).exists() for rel in record.get("artifacts", []))


def _merge_manifest(src: Path, dst: Path) -> None:
    from .results import atomic_write_text
    merged = json.loads(dst.read_text()) if dst.exists() else {}
    merged.update(json.loads(src.read_text()))
    atomic_write_text(dst, json.dumps(merged, indent=1, sort_keys=True) + "\n")


def _atomic_move(src: Path, dst: Path) -> None:
    """Move ``src`` to ``dst`` so that ``dst`` is never seen half-written, across filesystems too."""
    tmp = dst.with_name(f".{dst.name}.publishing")
    try:
        shutil.copy2(src, tmp)
        os.replace(tmp, dst)
    except BaseException:
        tmp.unlink(missing_ok=True)  # a half-copied file (a full disk) is not left beside the results
        raise
    src.unlink()


def _prune_manifests(final_profile: Path) -> None:
    """Drop manifest entries whose files are gone, so the index never lists a removed artifact."""
    from .results import atomic_write_text
    for path in final_profile.glob("*/manifest.json"):
        manifest = json.loads(path.read_text())
        kept = {k: v for k, v in manifest.items() if all((path.parent / f).exists() for f in v["files"])}
        if kept != manifest:
            atomic_write_text(path, json.dumps(kept, indent=1, sort_keys=True) + "\n")


def _publish(staging_profile: Path, final_profile: Path) -> list[str]:
    """Move a finished notebook's files from staging into results/<profile>/; returns their paths."""
    artifacts = []
    for path in sorted(staging_profile.rglob("*")):
        if not path.is_file():
            continue
        rel = path.relative_to(staging_profile)
        target = final_profile / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if path.name == "manifest.json":
            _merge_manifest(path, target)
            continue
        _atomic_move(path, target)
        artifacts.append(str(rel))
    return artifacts


def _remove_staging(staging: Path) -> None:
    shutil.rmtree(staging, ignore_errors=True)
    with contextlib.suppress(OSError):
        staging.parent.rmdir()  # the notebook's folder, when no other run's folder is left in it


class _Undo:
    """The previous version of every file a publication may replace or remove, kept as hard links (no space
    needed; a copy where the filesystem has none) in ``<results>/<profile>/.publishing-<pid>/``, so a failed
    publication puts back exactly what was there, stamp included."""

    def __init__(self, final: Path):
        self.final, self.folder = final, final / f".publishing-{os.getpid()}"
        self.saved: dict[Path, Path | None] = {}

    def keep(self, path: Path) -> None:
        if path in self.saved:
            return
        if not path.exists():
            self.saved[path] = None  # new: removed again on failure
            return
        backup = self.folder / str(len(self.saved))
        self.folder.mkdir(parents=True, exist_ok=True)
        try:
            os.link(path, backup)
        except OSError:
            shutil.copy2(path, backup)
        self.saved[path] = backup

    def restore(self) -> None:
        for path, backup in self.saved.items():
            with contextlib.suppress(OSError):
                if backup is None:
                    path.unlink(missing_ok=True)
                else:
                    os.replace(backup, path)
        self.discard()

    def discard(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def _size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) if folder.exists() else 0


def _check_space(final: Path, needed: int, notebook: Path) -> None:
    """Refuse to start publishing when the results' filesystem has less than ``needed`` bytes free."""
    free = shutil.disk_usage(nearest_existing(final)).free
    if free < needed + PUBLISH_MARGIN:
        raise PublishError(
            f"not enough free space to publish {notebook.name} into {final}: {_mb(needed + PUBLISH_MARGIN)} needed, "
            f"{_mb(free)} free. Free some space there (or point OCCFACE_RESULTS at another disk) and run it again; "
            "nothing was published and the previous results are unchanged.")


def _mb(n: int) -> str:
    return f"{n / 1e6:.1f} MB"


def _publish_all(notebook: Path, profile: str, wanted: str, staging: Path, executed: Path, wall: float) -> dict:
    """Publish a finished notebook (files, manifests, executed notebook, stamp) all-or-nothing: the free
    space is checked first, and a failure midway puts back every previous file and the previous stamp."""
    from .results import atomic_write_text

    final = results_root() / profile
    staged = staging / profile
    stamp = _stamp_path(profile, notebook)
    _check_space(final, _size(staged) + executed.stat().st_size, notebook)
    before = set(json.loads(stamp.read_text()).get("artifacts", [])) if stamp.exists() else set()
    undo = _Undo(final)
    try:
        for path in [stamp, final / "notebooks" / notebook.name, *final.glob("*/manifest.json"),
                     *(final / p.relative_to(staged) for p in staged.rglob("*") if p.is_file()),
                     *(final / rel for rel in before)]:
            undo.keep(path)
        artifacts = _publish(staged, final) if staged.exists() else []
        artifacts += _publish_executed(executed, final, notebook, profile, artifacts, undo)
        for stale in sorted(before - set(artifacts)):  # e.g. a table renamed since the last run
            (final / stale).unlink(missing_ok=True)
        _prune_manifests(final)
        (final / "notebooks").mkdir(parents=True, exist_ok=True)
        _atomic_move(executed, final / "notebooks" / notebook.name)
        record = {"notebook": f"notebooks/{notebook.name}", "hash": wanted, "wall_s": round(wall, 1),
                  "finished": time.strftime("%Y-%m-%d %H:%M:%S"), "artifacts": artifacts}
        atomic_write_text(stamp, json.dumps(record, indent=1) + "\n")
    except BaseException as err:  # a full disk, a failed write, Ctrl-C: the previous run comes back whole
        undo.restore()
        if not isinstance(err, Exception):
            raise
        why = f"{err.strerror} ({err.filename})" if isinstance(err, OSError) and err.strerror else str(err)
        raise PublishError(
            f"publishing {notebook.name} into {final} failed: {why}. The previous files, manifests and stamp "
            f"are restored, so the folder holds the previous run only. Publishing needs about "
            f"{_mb(_size(staged) + PUBLISH_MARGIN)} free there; free space (or point OCCFACE_RESULTS elsewhere) "
            "and run it again.") from err
    undo.discard()
    return record


def _publish_executed(executed: Path, final: Path, notebook: Path, profile: str, artifacts: list[str],
                      undo: "_Undo") -> list[str]:
    """The executed notebook beside its tables, ``<topic>/<notebook>.ipynb``, cleaned (``occface.executed``:
    outputs kept, widget state and machine paths gone), so a reader opens the real run. Not at ``quick``: its
    executed notebooks are the committed ``notebooks/*.ipynb`` themselves."""
    from .executed import publish_executed

    topics = sorted({Path(a).parts[0] for a in artifacts if len(Path(a).parts) > 1})
    if profile == "quick" or not topics:
        return []
    kept = f"{topics[0]}/{notebook.name}"
    undo.keep(final / kept)
    publish_executed(executed, final / kept)
    return [kept]


def cell_timeout(profile: str) -> int:
    """Seconds a single cell may run: ``OCCFACE_CELL_TIMEOUT`` when set, else the profile's ``RunKnobs``."""
    from .knobs import RunKnobs

    value = os.environ.get("OCCFACE_CELL_TIMEOUT")
    return int(value) if value and value.isdigit() else RunKnobs.for_profile(profile).cell_timeout_s


PAPERMILL_TAGS = {"injected-parameters", "papermill-error-cell-tag"}  # cells papermill adds to the executed copy


def _failed_cell(executed: Path) -> tuple[int | None, str]:
    """(index in the source notebook, first line of its source) of the cell that failed: the one papermill
    marked failed, else (a time-out) the last one it started; it saves the executed notebook after every cell.
    The cells papermill adds (injected parameters, error banners) are not counted."""
    try:
        cells = json.loads(executed.read_text())["cells"]
    except (OSError, ValueError, KeyError):
        return None, ""
    status = [c.get("metadata", {}).get("papermill", {}) for c in cells]
    failed = [i for i, s in enumerate(status) if s.get("status") == "failed"]
    started = [i for i, s in enumerate(status) if s.get("start_time")]
    if not (failed or started):
        return None, ""
    index = failed[0] if failed else started[-1]
    added = sum(bool(PAPERMILL_TAGS & set(c.get("metadata", {}).get("tags", []))) for c in cells[:index])
    source = "".join(cells[index].get("source", "")).strip().splitlines()
    return index - added, (source[0][:80] if source else "")


def _keep_failed(executed: Path, profile: str, notebook: Path) -> Path | None:
    """Copy the executed notebook of a failed run to ``<cache>/failed/<profile>/<notebook>``."""
    if not executed.exists():
        return None
    kept = cache_dir("failed", profile) / notebook.name
    shutil.copy2(executed, kept)
    return kept


def _failure(notebook: Path, err: Exception, executed: Path, profile: str) -> NotebookFailedError:
    """One message for a notebook that raised or timed out: the cell, the error, where the traceback is."""
    from nbclient.exceptions import CellTimeoutError

    kept = _keep_failed(executed, profile, notebook)
    index, first_line = _failed_cell(executed)
    where = f"cell {index}" if index is not None else "a cell"
    if first_line:
        where += f" (`{first_line}`)"
    if isinstance(err, CellTimeoutError):
        what = (f"{where} ran longer than {cell_timeout(profile)} s (the cell time limit; OCCFACE_CELL_TIMEOUT "
                "raises it); its kernel was stopped")
    elif getattr(err, "ename", None):
        what = f"{where} raised {err.ename}: {_first_line(err.evalue)}"
        if "Error" in err.ename and str(cache_root()) in str(err.evalue) and "OCCFACE_CACHE" not in str(err.evalue):
            what += (f" (a file in the cache folder {cache_root()}: if it is no longer writable, make it writable "
                     "or point OCCFACE_CACHE at a folder you can write)")
    else:
        what = f"{where} failed: {type(err).__name__}: {_first_line(str(err))}"
    shown = f"the executed notebook with the full traceback is kept at {kept}" if kept else \
        "papermill wrote no executed notebook"
    return NotebookFailedError(f"{notebook.name} (profile {profile}): {what}. Nothing of it was published (the "
                               f"previous results stay); {shown}.")


def _first_line(text: str) -> str:
    lines = str(text).strip().splitlines()
    return lines[0][:300] if lines else ""


def _run_locked(notebook: Path, profile: str, wanted: str) -> dict:
    import papermill

    parent = _staging_root() / profile / notebook.stem
    if parent.is_dir():  # folders of killed runs: ours to clear, since we hold the notebook's lock
        for leftover in parent.iterdir():
            if leftover.is_dir() and not leftover.is_symlink():
                shutil.rmtree(leftover, ignore_errors=True)
            else:
                leftover.unlink(missing_ok=True)
    staging = parent / f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
    staging.mkdir(parents=True)
    executed = staging / "executed.ipynb"
    env_before = os.environ.get("OCCFACE_RESULTS")
    os.environ["OCCFACE_RESULTS"] = str(staging)
    started = time.time()
    try:
        papermill.execute_notebook(str(notebook), str(executed), parameters={"profile": profile},
                                   cwd=str(NOTEBOOK_DIR), progress_bar=True, kernel_name="python3",
                                   execution_timeout=cell_timeout(profile))
    except Exception as err:  # a cell raised or timed out: name it, keep the traceback, publish nothing
        failure = _failure(notebook, err, executed, profile)
        _remove_staging(staging)
        raise failure from err
    except BaseException:
        _remove_staging(staging)  # an interrupted notebook publishes nothing
        raise
    finally:
        if env_before is None:
            os.environ.pop("OCCFACE_RESULTS", None)
        else:
            os.environ["OCCFACE_RESULTS"] = env_before
    wall = time.time() - started
    try:
        with _publish_lock():
            return _publish_all(notebook, profile, wanted, staging, executed, wall)
    finally:
        _remove_staging(staging)


CLAIMS_START, CLAIMS_END = "<!-- claims:start -->", "<!-- claims:end -->"


def _claims_block(index: Path) -> list[str]:
    """The claims block scripts/claims_summary.py wrote into the index (markers included), kept across a
    regeneration of the index; [] when there is none."""
    text = index.read_text() if index.exists() else ""
    if CLAIMS_START not in text or CLAIMS_END not in text:
        return []
    return [text[text.index(CLAIMS_START):text.index(CLAIMS_END) + len(CLAIMS_END)], ""]


def write_index() -> Path:
    """Regenerate results/README.md: every table and figure, the notebook that made it and its labels."""
    from .results import atomic_write_text

    root = results_root()
    lines = ["# Results index", "",
             "Regenerated by `make reproduce` (`python -m occface.runner`). Each table is a tidy CSV plus a "
             "Markdown table with the paper's number beside ours; figures are PNG. The commit that made each "
             "artifact is recorded here and in its folder's manifest.json only (`+dirty`: made from uncommitted "
             "changes), so a rerun that reproduces the numbers changes no table.", ""]
    lines += _claims_block(root / "README.md")
    for profile in PROFILES:
        stamps = sorted((root / profile / ".stamps").glob("*.json"))
        if not stamps:
            continue
        lines += [f"## Profile `{profile}`", "",
                  "| artifact | title | notebook | data | hardware | seed | wall time (notebook) | commit |",
                  "|---|---|---|---|---|---|---|---|"]
        for stamp in stamps:
            record = json.loads(stamp.read_text())
            for topic_dir in sorted({Path(a).parts[0] for a in record["artifacts"] if len(Path(a).parts) > 1}):
                manifest_path = root / profile / topic_dir / "manifest.json"
                manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
                for name, meta in sorted(manifest.items()):
                    if not any(f"{topic_dir}/{f}" in record["artifacts"] for f in meta["files"]):
                        continue
                    links = ", ".join(f"[{f}]({profile}/{topic_dir}/{f})" for f in meta["files"])
                    lines.append(f"| {topic_dir}/{name} ({links}) | {meta['title']} | {record['notebook']} | "
                                 f"{meta['dataset']} | {meta['hardware']} | {meta['seed']} | "
                                 f"{record['wall_s']:.0f} s | `{meta.get('commit', 'unknown')}` |")
        lines.append("")
    path = root / "README.md"
    atomic_write_text(path, "\n".join(lines) + "\n")
    return path


def _dirty_verdict(profile: str, allow_dirty: bool) -> tuple[str | None, str | None]:
    """(refusal, note) for publishing ``profile`` results from this working tree."""
    from .runtime import DIRTY_PATHS, dirty_paths

    changed = dirty_paths()
    if changed is None:
        return None, f"note: {REPO_ROOT} is not a git checkout; results are labelled with commit 'unknown'"
    if not changed:
        return None, None
    listing = ", ".join(changed[:8]) + (f" and {len(changed) - 8} more" if len(changed) > 8 else "")
    if profile in GUARDED_PROFILES and not allow_dirty:
        return (f"refusing to publish {profile!r} results from a working tree with uncommitted changes in "
                f"{', '.join(DIRTY_PATHS)}: {listing}. Commit (or stash) them so the results name the commit "
                "that made them, or pass --allow-dirty (`make reproduce ALLOW_DIRTY=1`) to publish them "
                "labelled <commit>+dirty."), None
    return None, (f"note: uncommitted changes ({listing}); the {profile!r} results are labelled "
                  "<commit>+dirty in the manifest and the index")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="default")
    parser.add_argument("--only", nargs="*", help="notebook stems to run (default: all)")
    parser.add_argument("--force", action="store_true", help="re-run even when up to date")
    parser.add_argument("--check", action="store_true",
                        help="validate profile, data (files and SHA256 checksums), cache and results folders, then exit")
    parser.add_argument("--wait", action="store_true",
                        help="when another run holds a notebook, wait for it instead of stopping")
    parser.add_argument("--allow-dirty", action="store_true",
                        help="publish default/full results from a working tree with uncommitted changes "
                             "(labelled +dirty)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                        help="worker processes that pre-train the stale notebooks' models (default: the cores)")
    args = parser.parse_args(argv)
    _absolutize_env()
    problems, root, stats = preflight(args.profile, args.only, checksums=args.check)
    if problems:
        for problem in problems:
            print(f"error: {problem}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if stats.get("documentation"):
        print(f"warning: documentation file(s) under {root} differ from their SHA256 checksums: "
              f"{', '.join(stats['documentation'])} (no notebook reads them)", file=sys.stderr)
    if args.check:
        unlisted = f"; no checksum list for {', '.join(stats['unlisted'])}" if stats.get("unlisted") else ""
        print(f"ok: profile {args.profile}, data {root} ({stats.get('checked', 0)} files verified against their "
              f"SHA256 checksums, {stats.get('hashed', 0)} hashed now, the rest unchanged since a cached check"
              f"{unlisted}), cache {cache_root()}, results {results_root()}")
        return 0
    selected = notebooks(args.only)
    data_print = data_fingerprint(root)
    wanted = {nb: input_hash(nb, args.profile, data_print) for nb in selected}
    stale = {nb for nb in selected if args.force or not is_fresh(args.profile, nb, wanted[nb])}
    if stale:
        refusal, note = _dirty_verdict(args.profile, args.allow_dirty)
        if refusal:
            print(f"error: {refusal}", file=sys.stderr)
            return EXIT_DIRTY
        if note:
            print(note, flush=True)
        from .pretrain import pretrain  # both cores: the models first, in parallel (occface.pretrain)
        pretrain(args.profile, [nb.stem for nb in selected if nb in stale], args.jobs)
    ran, failed = 0, []
    for index, notebook in enumerate(selected, 1):
        head = f"[{index}/{len(selected)}] {notebook.name}"
        if notebook not in stale:
            print(f"{head}: up to date, skipped")
            continue
        try:
            with notebook_lock(args.profile, notebook, wait=args.wait):
                if not args.force and is_fresh(args.profile, notebook, wanted[notebook]):
                    print(f"{head}: published up to date by the run we waited for, skipped")
                    continue
                print(f"{head}: running with profile {args.profile}", flush=True)
                record = _run_locked(notebook, args.profile, wanted[notebook])
        except RunnerBusyError as err:
            print(f"error: {err}", file=sys.stderr)
            later = [nb.name for nb in selected[index:] if nb in stale]
            if later:
                print(f"not attempted: {', '.join(later)}", file=sys.stderr)
            if ran:
                with _publish_lock():
                    write_index()
            return EXIT_BUSY
        except (NotebookFailedError, PublishError) as err:  # named; the other notebooks still run
            print(f"error: {err}", file=sys.stderr, flush=True)
            failed.append(notebook.name)
            continue
        print(f"    done in {record['wall_s']:.0f} s, {len(record['artifacts'])} files", flush=True)
        ran += 1
    with _publish_lock():
        write_index()
    print(f"{ran} notebook(s) run, {len(selected) - ran - len(failed)} up to date, {len(failed)} failed; "
          f"index: {results_root() / 'README.md'}")
    if failed:
        print(f"error: {len(failed)} notebook(s) failed, nothing of them published: {', '.join(failed)} "
              "(each named above with its cell and where its executed notebook is kept)", file=sys.stderr)
        return EXIT_FAILED
    return 0


if __name__ == "__main__":
    sys.exit(main())
