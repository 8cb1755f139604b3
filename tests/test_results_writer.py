import csv
import json

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pytest
from PIL import Image

from occface.results import COLUMNS, Cell, Results, atomic_write_text


@pytest.fixture
def res(tmp_path):
    return Results("from", profile="quick", dataset="LFW test", seed=3, root=tmp_path)


def test_table_writes_tidy_csv_with_the_shared_schema(res, tmp_path):
    res.table("table2", [Cell("None", "LFW", 97.123456, 99.38), Cell("None", "Occ-LFW-2.0", None, 94.70)],
              title="Mask binarization", notes=["Occ-LFW-2.0 not computed: reason"])
    rows = list(csv.DictReader(open(tmp_path / "quick/from/table2.csv")))
    assert list(rows[0]) == COLUMNS
    assert rows[0]["ours"] == "97.1235" and rows[0]["paper"] == "99.3800"
    assert rows[1]["ours"] == "" and rows[1]["profile"] == "quick" and rows[1]["seed"] == "3"


def test_markdown_puts_paper_number_beside_ours(res, tmp_path):
    res.table("table2", [Cell("None", "LFW", 97.1, 99.38)], title="Mask binarization")
    md = (tmp_path / "quick/from/table2.md").read_text()
    assert "| LFW (ours) | LFW (paper) |" in md
    assert "| None | 97.10 | 99.38 |" in md
    assert "Profile `quick`" in md and "hardware" in md


def test_figure_is_labelled_png_and_recorded_in_manifest(res, tmp_path):
    fig, ax = plt.subplots()
    ax.plot([0, 1])
    path = res.figure("fig9", fig, title="t-SNE")
    image = Image.open(path)
    assert "profile quick" in image.info["Description"]
    manifest = json.loads((tmp_path / "quick/from/manifest.json").read_text())
    assert manifest["fig9"]["kind"] == "figure" and manifest["fig9"]["seed"] == 3


def test_unknown_topic_is_rejected(tmp_path):
    with pytest.raises(ValueError, match="unknown topic"):
        Results("nonsense", profile="quick", dataset="x", root=tmp_path)


def test_failed_atomic_write_leaves_nothing_behind(tmp_path, monkeypatch):
    target = tmp_path / "t.csv"
    atomic_write_text(target, "old")

    def boom(*args):
        raise OSError("disk full")

    monkeypatch.setattr("os.replace", boom)
    with pytest.raises(OSError):
        atomic_write_text(target, "new")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["t.csv"]


def test_figure_footer_sits_below_the_axis_label(tmp_path, monkeypatch):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    monkeypatch.setenv("OCCFACE_RESULTS", str(tmp_path))
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.set_xlabel("occluded area (% of the aligned face image)")
    Results("evaluation", "quick", "LFW", 0).figure("t", fig, title="t")
    renderer = fig.canvas.get_renderer()
    footer = fig.texts[-1].get_window_extent(renderer)
    label = ax.xaxis.label.get_window_extent(renderer)
    assert footer.y1 <= label.y0


def test_units_are_named_per_row_or_column_when_they_differ(tmp_path, monkeypatch):
    monkeypatch.setenv("OCCFACE_RESULTS", str(tmp_path))
    cells = [Cell("PSNR", "a", 20.0, unit="dB"), Cell("SSIM", "a", 0.7, unit=""),
             Cell("PSNR", "b", 21.0, unit="dB"), Cell("SSIM", "b", 0.8, unit="")]
    Results("evaluation", "quick", "LFW", 0).table("t", cells, title="t")
    md = (tmp_path / "quick" / "evaluation" / "t.md").read_text()
    assert "Units: PSNR dB, SSIM -." in md
