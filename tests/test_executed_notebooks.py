"""The executed notebook published beside a run's tables keeps its outputs but no widget state and no path of
the machine it ran on."""

from __future__ import annotations

import nbformat

from occface.executed import WIDGET_MIME, clean_notebook, link_figures, publish_executed


def _notebook() -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}}}
    cell = nbformat.v4.new_code_cell("print(paths)")
    cell.outputs = [
        nbformat.v4.new_output("stream", name="stdout", text="reusing /home/me/.cache/occface/checkpoints/a.pt\n"),
        nbformat.v4.new_output("execute_result", data={"text/plain": "PosixPath('/data/lfw/x.jpg')"},
                               execution_count=1),
        nbformat.v4.new_output("display_data", data={WIDGET_MIME: {"model_id": "m"}}),
        nbformat.v4.new_output("display_data", data={WIDGET_MIME: {"model_id": "n"}, "text/plain": "VBox(...)"}),
        nbformat.v4.new_output("stream", name="stdout", text="scratch in /tmp/occface-xyz/run\n"),
    ]
    nb.cells = [nbformat.v4.new_markdown_cell("# title"), cell]
    return nb


def test_widget_state_and_machine_paths_are_stripped_and_outputs_kept():
    paths = {"/home/me/.cache/occface": "$OCCFACE_CACHE", "/data": "$OCCFACE_DATA", "/home/me": "~"}
    nb = clean_notebook(_notebook(), paths)
    outputs = nb.cells[1].outputs
    assert "widgets" not in nb.metadata
    assert outputs[0].text == "reusing $OCCFACE_CACHE/checkpoints/a.pt\n"
    assert outputs[1].data["text/plain"] == "'$OCCFACE_DATA/lfw/x.jpg'"
    assert [o.data for o in outputs[2:3]] == [{"text/plain": "VBox(...)"}]  # widget-only output dropped
    assert outputs[3].text == "scratch in <temporary folder>\n"
    assert len(outputs) == 4 and nb.cells[0].source == "# title"


def test_publish_writes_a_valid_notebook(tmp_path):
    source, target = tmp_path / "run.ipynb", tmp_path / "rla" / "10_rla.ipynb"
    nbformat.write(_notebook(), source)
    target.parent.mkdir()
    publish_executed(source, target)
    nbformat.validate(nbformat.read(target, as_version=4))


def _png(width: int, height: int, colour: str = "white") -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(buffer, format="PNG")
    return buffer.getvalue()


def _figure_notebook(width: int, height: int) -> nbformat.NotebookNode:
    import base64

    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell('for kind in kinds:\n    res.figure(f"grid_{kind}", grid(kind), title="...")')
    cell.outputs = [nbformat.v4.new_output("display_data", data={
        "image/png": base64.b64encode(_png(width, height)).decode(), "text/plain": "<Figure>"})]
    nb.cells = [cell]
    return nb


def test_a_saved_figure_is_linked_to_its_published_png_instead_of_embedded_twice(tmp_path):
    (tmp_path / "grid_hand.png").write_bytes(_png(440, 220, "black"))  # another picture, same shape
    (tmp_path / "grid_cup.png").write_bytes(_png(440, 220))  # this one, published at another dpi
    (tmp_path / "manifest.json").write_text('{"grid_hand": {"kind": "figure", "title": "hand"}, '
                                            '"grid_cup": {"kind": "figure", "title": "GT and outputs"}}')
    nb = _figure_notebook(400, 200)
    assert link_figures(nb, tmp_path) == 1
    assert nb.cells[0].outputs[0].data == {"text/markdown": "![GT and outputs](grid_cup.png)",
                                           "text/plain": "<figure: grid_cup.png>"}


def test_a_figure_is_kept_inline_when_its_png_is_missing_or_does_not_match(tmp_path):
    nb = _figure_notebook(400, 200)
    assert link_figures(nb, tmp_path) == 0  # nothing published beside it
    (tmp_path / "fig4.png").write_bytes(_png(200, 400))  # another figure's shape: never link the wrong file
    (tmp_path / "manifest.json").write_text('{"fig4": {"kind": "figure", "title": "t"}}')
    assert link_figures(nb, tmp_path) == 0
    assert "image/png" in nb.cells[0].outputs[0].data
