"""An executed notebook made fit to publish beside its tables (``results/<profile>/<topic>/<notebook>.ipynb``):
outputs kept, widget state dropped (it is dead outside a kernel; the text fallback stays), and this machine's
paths replaced by the names of the variables that set them, so a reader sees ``$OCCFACE_CACHE/...`` and no
``/home/...`` or ``/tmp/...``."""

from __future__ import annotations

import os
import re
from pathlib import Path

import nbformat

WIDGET_MIME = "application/vnd.jupyter.widget-view+json"


def machine_paths() -> dict[str, str]:
    """{path on this machine: what to show instead}, longest first, so a nested path is replaced whole."""
    from .paths import REPO_ROOT, cache_root, results_root

    found = {str(cache_root()): "$OCCFACE_CACHE", str(results_root()): "results",
             str(REPO_ROOT): ".", str(Path.home()): "~"}
    if os.environ.get("OCCFACE_DATA"):
        found[str(Path(os.environ["OCCFACE_DATA"]).resolve())] = "$OCCFACE_DATA"
    return dict(sorted(found.items(), key=lambda kv: -len(kv[0])))


def _scrub(text: str, paths: dict[str, str]) -> str:
    for path, name in paths.items():
        if path and path != "/":
            text = text.replace(path, name)
    text = re.sub(r"PosixPath\('([^']*)'\)", r"'\1'", text)
    return re.sub(r"/tmp/[\w.\-/]+", "<temporary folder>", text)


def _clean_output(output: dict, paths: dict[str, str]) -> dict:
    data = output.get("data")
    if data is not None:
        data.pop(WIDGET_MIME, None)
        for mime in ("text/plain", "text/markdown", "text/html"):
            if isinstance(data.get(mime), str):
                data[mime] = _scrub(data[mime], paths)
    if isinstance(output.get("text"), str):
        output["text"] = _scrub(output["text"], paths)
    return output


def clean_notebook(notebook: nbformat.NotebookNode, paths: dict[str, str] | None = None) -> nbformat.NotebookNode:
    """``notebook`` with widget state and machine paths removed from its outputs and metadata (in place)."""
    paths = machine_paths() if paths is None else paths
    notebook.metadata.pop("widgets", None)
    for cell in notebook.cells:
        outputs = [_clean_output(o, paths) for o in cell.get("outputs", [])]
        # an output that held only a widget is gone; keep the rest in order
        cell["outputs"] = [o for o in outputs if o.get("output_type") not in ("display_data", "execute_result")
                           or o.get("data")] if "outputs" in cell else None
        if cell["outputs"] is None:
            del cell["outputs"]
    papermill = notebook.metadata.get("papermill", {})
    for key in ("input_path", "output_path"):
        if key in papermill:
            papermill[key] = _scrub(str(papermill[key]), paths)
    return notebook


def publish_executed(source: Path, target: Path) -> Path:
    """Write the cleaned copy of the executed notebook ``source`` to ``target`` (atomically)."""
    from .results import atomic_write_text

    notebook = clean_notebook(nbformat.read(source, as_version=4))
    atomic_write_text(target, nbformat.writes(notebook) + "\n")
    return target
