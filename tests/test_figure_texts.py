"""Figures a reader found confusing (issue 17): each says what its axis and its labels mean."""

import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

from occface.papers.from_ import figures
from occface.tables import Table

README = Path(__file__).resolve().parents[1] / "README.md"
RESULTS = README.parent / "results"


class FakeExperiment:
    """The three calls fig8 / fig12 make, with fixed accuracies in the 66-80 % range of the default run."""

    def accuracy(self, model: str, condition: str) -> float:
        return 66.0 + (hash((model, condition)) % 1000) / 100

    def tar(self, model: str, condition: str, far: float) -> float:
        return 3.0

    def _table(self, name, rows, paper, title, notes):
        return Table(name, [], title, notes)


def _texts(fig) -> str:
    return " ".join(t.get_text() for t in fig.findobj(matplotlib.text.Text))


def test_fig12_says_where_its_axis_starts_and_names_each_group():
    table, fig = figures.fig12(FakeExperiment())
    text = _texts(fig)
    assert re.search(r"axis starts at \d+, not 0", text)
    assert all(f"R{i}: trained on" in text for i in (1, 2, 3))
    assert any("R1 book" in note for note in table.notes)


def test_fig8_explains_why_its_tar_is_a_few_percent():
    _, fig = figures.fig8(FakeExperiment())
    assert "hence TARs of a few %" in _texts(fig)


def test_the_readme_quotes_no_percentage_that_no_committed_table_shows():
    quoted = set(re.findall(r"(\d+\.\d+) ?%", README.read_text()))
    shown = " ".join(p.read_text() for p in RESULTS.glob("*/*/*.md"))
    assert not [q for q in quoted if q not in shown]


def test_a_published_figure_records_its_overlapping_text(tmp_path):
    import json
    import warnings

    import matplotlib.pyplot as plt

    from occface.results import Results

    res = Results("tour", profile="quick", dataset="x", root=tmp_path)
    fig, ax = plt.subplots(figsize=(3, 2))
    ax.text(0.5, 0.5, "one label")
    ax.text(0.52, 0.5, "another label")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res.figure("clash", fig, title="two labels on one spot")
    assert any("overlapping text" in str(w.message) for w in caught)
    fig, ax = plt.subplots(figsize=(3, 2))
    ax.set_title("alone")
    res.figure("clear", fig, title="one label")
    manifest = json.loads((tmp_path / "quick" / "tour" / "manifest.json").read_text())
    assert manifest["clash"]["text_overlaps"] == 1 and manifest["clear"]["text_overlaps"] == 0


def test_every_committed_quick_figure_has_no_overlapping_text():
    import json

    found = {}
    for manifest in sorted((RESULTS / "quick").glob("*/manifest.json")):
        for name, entry in json.loads(manifest.read_text()).items():
            if entry["kind"] == "figure":
                found[f"{manifest.parent.name}/{name}"] = entry.get("text_overlaps")
    assert found, "no committed quick figures"
    bad = {k: v for k, v in found.items() if v != 0}
    assert not bad, f"figures with overlapping text (None: published before the check): {bad}"
