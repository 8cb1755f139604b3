"""An executed notebook made fit to publish beside its tables (``results/<profile>/<topic>/<notebook>.ipynb``):
outputs kept, widget state dropped (it is dead outside a kernel; the text fallback stays), and this machine's
paths replaced by the names of the variables that set them, so a reader sees ``$OCCFACE_CACHE/...`` and no
``/home/...`` or ``/tmp/...``. A figure that a cell saved with ``res.figure("name", ...)`` and also showed
inline is replaced by a link to the published ``name.png`` beside the notebook, so the notebook does not carry
each figure twice (a default notebook's inline PNGs alone reached 4 MB)."""

from __future__ import annotations

import base64
import json
import os
import re
import struct
from pathlib import Path

import nbformat

WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
FIGURE_CALL = re.compile(r"""\.figure\(\s*["'](\w+)["']""")  # res.figure("fig6", ...) in a cell's source
ASPECT_TOLERANCE = 0.03  # inline and published renderings differ in dpi only, so their aspect ratios agree


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


def _same_aspect(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return abs(a[0] / a[1] - b[0] / b[1]) <= ASPECT_TOLERANCE * b[0] / b[1]


def _titles(folder: Path) -> dict[str, str]:
    manifest = folder / "manifest.json"
    return {k: v.get("title", k) for k, v in json.loads(manifest.read_text()).items()} if manifest.exists() else {}


def link_figures(notebook: nbformat.NotebookNode, folder: Path) -> int:
    """Replace each inline figure that a cell also saved (``res.figure("name", ...)``) as ``folder/name.png`` by
    a Markdown link to that file; returns how many. A cell is left alone unless it shows as many images as it
    saves figures and each pair has the same aspect ratio (so a figure is never linked to the wrong file)."""
    titles, linked = _titles(folder), 0
    for cell in notebook.cells:
        names = FIGURE_CALL.findall(cell.get("source", "")) if cell.cell_type == "code" else []
        images = [o for o in cell.get("outputs", []) if "image/png" in o.get("data", {})]
        if not names or len(names) != len(images):
            continue
        files = [folder / f"{name}.png" for name in names]
        if not all(f.exists() for f in files):
            continue
        sizes = [_png_size(base64.b64decode(o["data"]["image/png"])) for o in images]
        if not all(_same_aspect(s, _png_size(f.read_bytes())) for s, f in zip(sizes, files)):
            continue
        for name, output in zip(names, images):
            title = titles.get(name, name).replace("]", ")").replace("[", "(")
            output["data"] = {"text/markdown": f"![{title}]({name}.png)", "text/plain": f"<figure: {name}.png>"}
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
