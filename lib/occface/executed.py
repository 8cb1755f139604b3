"""An executed notebook made fit to publish beside its tables (``results/<profile>/<topic>/<notebook>.ipynb``):
outputs kept, widget state dropped (it is dead outside a kernel; the text fallback stays), and this machine's
paths replaced by the names of the variables that set them, so a reader sees ``$OCCFACE_CACHE/...`` and no
``/home/...`` or ``/tmp/...``. A figure that a cell saved (``res.figure(...)``) and also showed inline is
replaced by a link to the PNG published beside the notebook that shows the same picture, so the notebook does not
carry each figure twice (a default notebook's inline PNGs alone reached 4 MB)."""

from __future__ import annotations

import base64
import io
import json
import os
import re
import struct
from pathlib import Path

import nbformat
import numpy as np

WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
FIGURE_CALL = re.compile(r"\.figure\(")  # a cell that saves a figure (res.figure(...)), literal name or not
ASPECT_TOLERANCE = 0.15  # inline and published renderings differ in dpi and in the footer the published one adds
MATCH_TOLERANCE = 0.03  # mean absolute difference of the two renderings' 48x48 grey thumbnails, in [0, 1]


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


def _png_size(data: bytes) -> tuple[int, int]:
    """(width, height) from a PNG's IHDR chunk."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    return struct.unpack(">II", data[16:24])


def _thumbnail(data: bytes) -> np.ndarray:
    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        return np.asarray(image.convert("L").resize((48, 48), Image.Resampling.BOX), dtype=np.float32) / 255


def _figures(folder: Path) -> dict[str, tuple[str, tuple[int, int], np.ndarray]]:
    """{file name: (title, size, thumbnail)} of the figures published in ``folder`` (its manifest)."""
    manifest = folder / "manifest.json"
    entries = json.loads(manifest.read_text()) if manifest.exists() else {}
    found = {}
    for name, entry in entries.items():
        path = folder / f"{name}.png"
        if entry.get("kind") == "figure" and path.exists():
            data = path.read_bytes()
            found[path.name] = (entry.get("title", name), _png_size(data), _thumbnail(data))
    return found


def _match(data: bytes, figures: dict, used: set[str]) -> str | None:
    """The published figure this inline rendering shows: same aspect ratio, near-identical thumbnail."""
    size, thumb = _png_size(data), _thumbnail(data)
    best, best_diff = None, MATCH_TOLERANCE
    for file, (_, published, other) in figures.items():
        if file in used or abs(size[0] / size[1] - published[0] / published[1]) > ASPECT_TOLERANCE * published[0] / published[1]:
            continue
        diff = float(np.abs(thumb - other).mean())
        if diff < best_diff:
            best, best_diff = file, diff
    return best


def link_figures(notebook: nbformat.NotebookNode, folder: Path) -> int:
    """Replace each inline figure of a cell that saves figures (``res.figure(...)``) by a Markdown link to the
    PNG published in ``folder`` that shows the same picture (aspect ratio and thumbnail within the tolerances:
    the two renderings differ in dpi and the published one's footer); returns how many. An image with no such
    PNG stays inline."""
    figures, used, linked = _figures(folder), set(), 0
    for cell in notebook.cells:
        if cell.cell_type != "code" or not FIGURE_CALL.search(cell.get("source", "")):
            continue
        for output in cell.get("outputs", []):
            if "image/png" not in output.get("data", {}):
                continue
            file = _match(base64.b64decode(output["data"]["image/png"]), figures, used)
            if file is None:
                continue
            used.add(file)
            title = figures[file][0].replace("]", ")").replace("[", "(")
            output["data"] = {"text/markdown": f"![{title}]({file})", "text/plain": f"<figure: {file}>"}
            output["metadata"] = {}
            linked += 1
    return linked


def publish_executed(source: Path, target: Path) -> Path:
    """Write the cleaned copy of the executed notebook ``source`` to ``target`` (atomically), its saved figures
    linked to the PNGs published beside it (``link_figures``)."""
    from .results import atomic_write_text

    notebook = clean_notebook(nbformat.read(source, as_version=4))
    link_figures(notebook, target.parent)
    atomic_write_text(target, nbformat.writes(notebook) + "\n")
    return target
