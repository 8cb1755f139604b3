"""Build the exercise notebooks from their percent-format sources in notebooks/exercises/src/.

Each source marks its solutions with ``# BEGIN SOLUTION`` / ``# END SOLUTION`` lines (any indentation). Two
versions come out, neither executed:

    notebooks/exercises/student/NN_*.ipynb     solutions replaced by ``raise NotImplementedError``: the checks
                                               fail until the student writes the code
    notebooks/exercises/instructor/NN_*.ipynb  solutions kept, marker lines dropped

    python scripts/build_exercises.py            # write both versions of every source
    python scripts/build_exercises.py --check    # exit 1 if a committed notebook differs from its source
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import jupytext
import nbformat

ROOT = Path(__file__).resolve().parents[1]
EXERCISES = ROOT / "notebooks" / "exercises"
SRC = EXERCISES / "src"
VERSIONS = ("student", "instructor")
REGION = re.compile(r"^([ \t]*)# BEGIN SOLUTION[ \t]*\n(.*?)^[ \t]*# END SOLUTION[ \t]*\n", re.M | re.S)
UNSOLVED = "raise NotImplementedError(\"exercise not solved yet: write your code here\")"


def strip_solutions(text: str, version: str) -> str:
    """The source text of one version: solutions kept (instructor) or replaced by a stub (student)."""
    if version not in VERSIONS:
        raise ValueError(f"version must be one of {VERSIONS}, got {version!r}")
    if text.count("# BEGIN SOLUTION") != text.count("# END SOLUTION"):
        raise ValueError("unbalanced # BEGIN SOLUTION / # END SOLUTION markers")
    if version == "instructor":
        return REGION.sub(lambda m: m.group(2), text)
    return REGION.sub(lambda m: f"{m.group(1)}# YOUR CODE HERE\n{m.group(1)}{UNSOLVED}\n", text)


def notebook(source: Path, version: str) -> nbformat.NotebookNode:
    nb = jupytext.reads(strip_solutions(source.read_text(), version), fmt="py:percent")
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata.pop("jupytext", None)
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"{source.stem}-{i}"  # stable ids: a rebuild of an unchanged source changes nothing
    return nb


def target(source: Path, version: str) -> Path:
    return EXERCISES / version / f"{source.stem}.ipynb"


def sources() -> list[Path]:
    return sorted(SRC.glob("[0-9][0-9]_*.py"))


def stale() -> list[Path]:
    """Committed notebooks that differ from what their source builds (or are missing)."""
    out = []
    for source in sources():
        for version in VERSIONS:
            path = target(source, version)
            if not path.exists() or path.read_text() != nbformat.writes(notebook(source, version)) + "\n":
                out.append(path)
    return out


def build() -> list[Path]:
    written = []
    for source in sources():
        for version in VERSIONS:
            path = target(source, version)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(nbformat.writes(notebook(source, version)) + "\n")
            written.append(path)
    return written


if __name__ == "__main__":
    if "--check" in sys.argv[1:]:
        old = stale()
        for path in old:
            print(f"stale: {path.relative_to(ROOT)} (run: python scripts/build_exercises.py)")
        sys.exit(1 if old else 0)
    for path in build():
        print("built", path.relative_to(ROOT))
