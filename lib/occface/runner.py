"""`make reproduce`: run every notebook through papermill, incrementally and resumably.

A notebook re-runs only when its inputs changed: the notebook's code cells, the library modules it
imports (followed transitively), the profile's parameters or the data's checksums. Each run writes into a staging folder
(``<cache>/staging/<profile>/<notebook>``) and its files are moved into ``results/<profile>/`` only after the
notebook finished, so a killed or failed run leaves no half-written table in ``results/``; the next run
clears the staging folder (under the cache) and continues with the first notebook whose stamp is missing
or stale.

    python -m occface.runner --profile quick [--only 00_tour] [--force] [--check]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sys
import time
from pathlib import Path

from .paths import DATA_FOLDERS, REPO_ROOT, DataNotFoundError, cache_dir, data_root, results_root
from .profiles import PROFILES, get_profile

NOTEBOOK_DIR = REPO_ROOT / "notebooks"
LIB_DIR = REPO_ROOT / "lib" / "occface"


def notebooks(only: list[str] | None = None) -> list[Path]:
    """The registered notebooks: ``notebooks/NN_*.ipynb`` in numeric order (optionally a subset by stem)."""
    found = sorted(NOTEBOOK_DIR.glob("[0-9][0-9]_*.ipynb"))
    if only:
        unknown = set(only) - {p.stem for p in found}
        if unknown:
            raise ValueError(f"unknown notebook(s) {sorted(unknown)}; known: {[p.stem for p in found]}")
        found = [p for p in found if p.stem in only]
    return found


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
    """``occface.models.rla`` -> lib/occface/models/rla.py (or the package's __init__.py)."""
    parts = module.split(".")[1:]
    base = LIB_DIR.joinpath(*parts)
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _imported_modules(source: str, package: str) -> set[str]:
    """occface modules that ``source`` imports (absolute ``occface.x`` or relative ``.x`` inside ``package``)."""
    import ast

    found: set[str] = set()
    try:
        tree = ast.parse(source)
    except SyntaxError:  # e.g. notebook magics: fall back to "depends on everything"
        return {"occface.*"}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("occface")}
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against the importing package
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join(anchor + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            if module.startswith("occface"):
                found.add(module)
                found |= {f"{module}.{a.name}" for a in node.names}  # `from occface import data`
    return found


def library_files(notebook: Path) -> list[Path]:
    """The library files a notebook depends on: the occface modules it imports, followed transitively.
    Editing models/rla.py then re-runs the RLA notebook and not FROM's."""
    sources = "\n".join("".join(c["source"]) for c in json.loads(notebook.read_text())["cells"]
                        if c["cell_type"] == "code")
    lines = [ln for ln in sources.splitlines() if not ln.lstrip().startswith(("%", "!"))]
    pending, seen = set(_imported_modules("\n".join(lines), "occface")), set()
    if "occface.*" in pending:
        return sorted(p for p in LIB_DIR.rglob("*.py") if "__pycache__" not in p.parts)
    files: set[Path] = {LIB_DIR / "__init__.py"}
    while pending:
        module = pending.pop()
        if module in seen:
            continue
        seen.add(module)
        path = _module_file(module)
        if path is None:
            continue
        files.add(path)
        package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
        pending |= _imported_modules(path.read_text(), package) - seen
    assets = [p for p in (LIB_DIR / "assets").rglob("*") if p.is_file()] if (LIB_DIR / "assets").is_dir() else []
    return sorted(files | set(assets))


def library_fingerprint(notebook: Path) -> str:
    digest = hashlib.sha256()
    for path in library_files(notebook):
        digest.update(str(path.relative_to(LIB_DIR)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def notebook_source_hash(notebook: Path) -> str:
    """Hash of the cells' types and sources only: committed outputs do not make a notebook stale."""
    cells = json.loads(notebook.read_text())["cells"]
    text = json.dumps([[c["cell_type"], "".join(c["source"])] for c in cells])
    return hashlib.sha256(text.encode()).hexdigest()


def input_hash(notebook: Path, profile: str, data_print: str) -> str:
    digest = hashlib.sha256()
    digest.update(notebook_source_hash(notebook).encode())
    digest.update(library_fingerprint(notebook).encode())
    digest.update(json.dumps(get_profile(profile).as_dict(), sort_keys=True).encode())
    digest.update(data_print.encode())
    return digest.hexdigest()


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
    shutil.copy2(src, tmp)
    os.replace(tmp, dst)
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


def run_notebook(notebook: Path, profile: str, wanted: str) -> dict:
    """Execute one notebook with papermill into staging, then publish its results and stamp it."""
    import papermill

    from .results import atomic_write_text

    # one folder per (profile, notebook): clearing it drops a killed run's leftovers and never touches
    # a concurrent run of another notebook or profile
    staging = _staging_root() / profile / notebook.stem
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    executed = staging / "executed.ipynb"
    env_before = os.environ.get("OCCFACE_RESULTS")
    os.environ["OCCFACE_RESULTS"] = str(staging)
    started = time.time()
    try:
        papermill.execute_notebook(str(notebook), str(executed), parameters={"profile": profile},
                                   cwd=str(NOTEBOOK_DIR), progress_bar=True, kernel_name="python3")
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)  # a failed notebook publishes nothing
        raise
    finally:
        if env_before is None:
            os.environ.pop("OCCFACE_RESULTS", None)
        else:
            os.environ["OCCFACE_RESULTS"] = env_before
    wall = time.time() - started
    final = results_root() / profile
    previous = _stamp_path(profile, notebook)
    before = set(json.loads(previous.read_text()).get("artifacts", [])) if previous.exists() else set()
    artifacts = _publish(staging / profile, final) if (staging / profile).exists() else []
    for stale in sorted(before - set(artifacts)):  # e.g. a table renamed since the last run
        (final / stale).unlink(missing_ok=True)
    _prune_manifests(final)
    executed_dir = final / "notebooks"
    executed_dir.mkdir(parents=True, exist_ok=True)
    _atomic_move(executed, executed_dir / notebook.name)
    shutil.rmtree(staging, ignore_errors=True)
    record = {"notebook": f"notebooks/{notebook.name}", "hash": wanted, "wall_s": round(wall, 1),
              "finished": time.strftime("%Y-%m-%d %H:%M:%S"), "artifacts": artifacts}
    atomic_write_text(_stamp_path(profile, notebook), json.dumps(record, indent=1) + "\n")
    return record


def write_index() -> Path:
    """Regenerate results/README.md: every table and figure, the notebook that made it and its labels."""
    from .results import atomic_write_text

    root = results_root()
    lines = ["# Results index", "",
             "Regenerated by `make reproduce` (`python -m occface.runner`). Each table is a tidy CSV plus a "
             "Markdown table with the paper's number beside ours; figures are PNG.", ""]
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
                                 f"{record['wall_s']:.0f} s | `{meta['commit']}` |")
        lines.append("")
    path = root / "README.md"
    atomic_write_text(path, "\n".join(lines) + "\n")
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="default")
    parser.add_argument("--only", nargs="*", help="notebook stems to run (default: all)")
    parser.add_argument("--force", action="store_true", help="re-run even when up to date")
    parser.add_argument("--check", action="store_true", help="validate profile and data, then exit")
    args = parser.parse_args(argv)
    try:
        get_profile(args.profile)
        root = data_root(("lfw", "occluders"))
        selected = notebooks(args.only)
    except (ValueError, DataNotFoundError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if args.check:
        return 0
    data_print = data_fingerprint(root)
    ran = 0
    for index, notebook in enumerate(selected, 1):
        wanted = input_hash(notebook, args.profile, data_print)
        if not args.force and is_fresh(args.profile, notebook, wanted):
            print(f"[{index}/{len(selected)}] {notebook.name}: up to date, skipped")
            continue
        print(f"[{index}/{len(selected)}] {notebook.name}: running with profile {args.profile}", flush=True)
        record = run_notebook(notebook, args.profile, wanted)
        print(f"    done in {record['wall_s']:.0f} s, {len(record['artifacts'])} files", flush=True)
        ran += 1
    write_index()
    print(f"{ran} notebook(s) run, {len(selected) - ran} up to date; index: {results_root() / 'README.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
