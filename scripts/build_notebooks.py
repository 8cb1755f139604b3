"""Build notebooks/NN_*.ipynb from their percent-format sources in notebooks/src/ and execute them at
the `quick` profile in place, so the committed notebook holds the outputs nbval compares against.

    python scripts/build_notebooks.py            # all
    python scripts/build_notebooks.py 00_tour    # some
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import jupytext
import nbformat
import papermill

from occface.executed import clean_notebook

ROOT = Path(__file__).resolve().parents[1]
SRC, OUT = ROOT / "notebooks" / "src", ROOT / "notebooks"


def build(source: Path) -> Path:
    notebook = jupytext.read(source)
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    notebook.metadata.pop("jupytext", None)
    target = OUT / f"{source.stem}.ipynb"
    jupytext.write(notebook, target)
    with tempfile.TemporaryDirectory() as scratch:
        os.environ["OCCFACE_RESULTS"] = scratch  # the committed notebook's run writes no results/
        papermill.execute_notebook(str(target), str(target), parameters={"profile": "quick"},
                                   cwd=str(OUT), kernel_name="python3", progress_bar=False)
    # no machine path in a committed output: papermill's input/output paths, warnings' /tmp/ipykernel_* files
    nbformat.write(clean_notebook(nbformat.read(target, as_version=4)), target)
    return target


if __name__ == "__main__":
    wanted = set(sys.argv[1:])
    for src in sorted(SRC.glob("[0-9][0-9]_*.py")):
        if not wanted or src.stem in wanted:
            print("built", build(src).relative_to(ROOT), flush=True)
