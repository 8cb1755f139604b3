import csv
import json
import os

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


# ---------------------------------------------------------------- file modes

@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o027, 0o640), (0o002, 0o664)])
def test_atomic_writes_get_the_usual_mode_not_mkstemps_0600(tmp_path, umask, mode):
    from occface.results import atomic_write_bytes

    old = os.umask(umask)
    try:
        atomic_write_bytes(tmp_path / "t.csv", b"x")
    finally:
        os.umask(old)
    assert (tmp_path / "t.csv").stat().st_mode & 0o777 == mode


# ---------------------------------------------------------------- commit out of the tables, intervals

def test_a_rerun_at_another_commit_changes_no_table_or_figure(tmp_path, monkeypatch):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from occface import results
    from occface.results import Cell, Results

    outputs = []
    for commit in ("aaaaaaaaaa", "bbbbbbbbbb+dirty"):
        monkeypatch.setattr(results, "commit_label", lambda: commit)
        res = Results("from", profile="quick", dataset="toy", seed=1, root=tmp_path / commit)
        res.table("t", [Cell("r", "c", 1.0, 2.0)], title="toy")
        fig, ax = plt.subplots()
        ax.plot([0, 1])
        res.figure("f", fig, title="toy")
        plt.close(fig)
        folder = tmp_path / commit / "quick/from"
        outputs.append({name: (folder / name).read_bytes() for name in ("t.csv", "t.md", "f.png")})
        assert json.loads((folder / "manifest.json").read_text())["t"]["commit"] == commit
    assert outputs[0] == outputs[1]
    header = outputs[0]["t.csv"].decode().splitlines()[0].split(",")
    assert "commit" not in header and {"profile", "dataset", "seed", "ci_low", "ci_high"} <= set(header)


def test_confidence_intervals_in_csv_and_markdown(tmp_path):
    from occface.results import Cell, Results

    res = Results("from", profile="quick", dataset="toy", root=tmp_path)
    res.table("t", [Cell("sym", "acc", 12.3, 13.0, ci_low=11.2, ci_high=13.4),
                    Cell("asym", "acc", 12.3, None, ci_low=11.0, ci_high=13.9),
                    Cell("none", "acc", 12.3)], title="toy", digits=1)
    rows = {r["row"]: r for r in csv.DictReader(open(tmp_path / "quick/from/t.csv"))}
    assert rows["sym"]["ci_low"] == "11.2000" and rows["sym"]["ci_high"] == "13.4000"
    assert rows["none"]["ci_low"] == "" and rows["none"]["ci_high"] == ""
    md = (tmp_path / "quick/from/t.md").read_text()
    assert "| sym | 12.3 [11.2, 13.4] | 13.0 |" in md  # one notation: no ± half-width
    assert "| asym | 12.3 [11.0, 13.9] |" in md
    assert "| none | 12.3 |" in md
    with pytest.raises(ValueError, match="both ci_low and ci_high"):
        Cell("r", "c", 1.0, ci_low=0.5)
    with pytest.raises(ValueError, match="ci_low"):
        Cell("r", "c", 1.0, ci_low=2.0, ci_high=1.0)


@pytest.mark.parametrize("errno_name", ["EROFS", "EACCES"])
def test_a_cache_made_read_only_mid_run_is_named_with_occface_cache(tmp_path, monkeypatch, errno_name):
    """Issue 26: a bare ``OSError: [Errno 30]`` said nothing about OCCFACE_CACHE."""
    import errno
    import tempfile

    from occface import paths
    from occface.results import atomic_write_bytes

    monkeypatch.setenv("OCCFACE_CACHE", str(tmp_path / "cache"))
    (tmp_path / "cache/checkpoints").mkdir(parents=True)
    code = getattr(errno, errno_name)

    def refuse(*args, **kwargs):
        raise OSError(code, os.strerror(code), kwargs.get("dir"))

    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    with pytest.raises(paths.CacheNotWritableError, match=r"cache folder .*cache is not writable.*OCCFACE_CACHE="):
        atomic_write_bytes(tmp_path / "cache/checkpoints/m.pt", b"x")
    with pytest.raises(OSError) as outside:  # outside the cache: the error as it was
        atomic_write_bytes(tmp_path / "results/t.csv", b"x")
    assert not isinstance(outside.value, paths.CacheNotWritableError) and outside.value.errno == code
