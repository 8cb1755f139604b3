"""Notebook outputs show no machine path and no wall of "reusing checkpoint" lines (issue 25, part 6)."""

from __future__ import annotations

from pathlib import Path

import nbformat
import torch

from occface import train
from occface.notebook import shown_folder, start_notebook
from occface.paths import REPO_ROOT
from occface.results import Cell, Results

ROOT = Path(__file__).resolve().parents[1]


def test_a_cell_ending_in_res_figure_shows_the_file_not_its_machine_path(tmp_path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    res = Results("tour", profile="quick", dataset="toy", root=tmp_path)
    fig = plt.figure()
    saved = res.figure("faces", fig, title="t")
    plt.close(fig)
    table = res.table("t", [Cell("r", "c", 1.0)], title="t")
    for path, shown in ((saved, "quick/tour/faces.png"), (table, "quick/tour/t.csv")):
        assert path == tmp_path / shown and path.exists()  # still the path, for code that uses it
        assert repr(path) == f"<saved {shown}>" and str(tmp_path) not in repr(path) and "PosixPath" not in repr(path)


def test_the_last_line_names_the_results_folder_without_the_machine_path(tmp_path, monkeypatch):
    monkeypatch.setenv("OCCFACE_RESULTS", str(tmp_path))
    nb = start_notebook("tour", "quick", "toy", quiet=True)
    line = nb.finished()
    assert "results in $OCCFACE_RESULTS/quick/tour" in line and str(tmp_path) not in line
    assert shown_folder(REPO_ROOT / "results" / "quick" / "tour") == "results/quick/tour"


def _trainer(path: Path, desc: str) -> train.Trainer:
    model = torch.nn.Linear(2, 1)
    optim = torch.optim.SGD(model.parameters(), lr=0.1)

    def step(i):
        loss = model(torch.ones(4, 2)).pow(2).mean()
        optim.zero_grad()
        loss.backward()
        optim.step()
        return {"loss": loss.item()}

    trainer = train.Trainer({"model": model}, {"opt": optim}, path, steps=2, desc=desc)
    trainer.fit(step)
    return trainer


def test_reused_checkpoints_print_one_line_and_the_last_line_counts_them(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("OCCFACE_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("OCCFACE_RESULTS", str(tmp_path / "results"))
    monkeypatch.setattr(train, "REUSED", [])
    paths = [tmp_path / f"m{i}.pt" for i in range(3)]
    for i, path in enumerate(paths):
        _trainer(path, f"model {i}")  # trains and saves
    capsys.readouterr()
    nb = start_notebook("tour", "quick", "toy", quiet=True)
    for i, path in enumerate(paths):
        _trainer(path, f"model {i}")  # reuses
    out = capsys.readouterr().out
    assert out.count("reusing finished checkpoint") == 1, out
    assert "3 finished checkpoint(s) reused" in nb.finished()


def test_built_notebooks_are_cleaned_of_machine_paths():
    text = (ROOT / "scripts" / "build_notebooks.py").read_text()
    assert "clean_notebook(nbformat.read(target" in text  # the committed quick notebooks go through it
    from occface.executed import clean_notebook

    nb = nbformat.v4.new_notebook()
    nb.metadata["papermill"] = {"input_path": "/tmp/tmpab12/00_tour.ipynb", "parameters": {"profile": "quick"}}
    warning = "/tmp/ipykernel_32223/713687339.py:12: UserWarning: overlapping text\n"
    nb.cells = [nbformat.v4.new_code_cell("x", outputs=[nbformat.v4.new_output("stream", name="stderr", text=warning)])]
    out = clean_notebook(nb)
    assert "/tmp/" not in out.cells[0].outputs[0]["text"] and "UserWarning: overlapping text" in out.cells[0].outputs[0]["text"]
    assert "/tmp/" not in out.metadata["papermill"]["input_path"]


def test_a_progress_bar_in_an_executed_notebook_saves_where_it_ended():
    """Bars that end (issue 25): a notebook widget's saved text is its state when shown (0 %) unless updated;
    occface.progress updates it on close, so the executed notebook reads 150/150 (or where a bar stopped)."""
    import pytest

    nbclient = pytest.importorskip("nbclient")
    lib = str(ROOT / "lib")
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(f"import sys; sys.path.insert(0, {lib!r})\n"
                                          "from occface.progress import tqdm\n"
                                          "with tqdm(range(150), desc='done') as bar:\n    for _ in bar: pass"),
                nbformat.v4.new_code_cell("try:\n    with tqdm(range(150), desc='stopped') as bar:\n"
                                          "        for i in bar:\n            if i == 40: raise KeyboardInterrupt\n"
                                          "except KeyboardInterrupt: pass")]
    nbclient.NotebookClient(nb, timeout=120, kernel_name="python3").execute()
    texts = [o["data"]["text/plain"] for c in nb.cells for o in c.outputs if "text/plain" in o.get("data", {})]
    assert len(texts) == 2 and "150/150" in texts[0] and "40/150" in texts[1], texts
