"""One interval notation everywhere: ``x [low, high]`` in the Markdown tables and the notebooks' tables alike,
never ``±``; the legend line says what the interval is (a 95 % confidence interval, or the seeds' mean ± one
standard deviation for a table over training seeds: before, both printed as ``x ± h``)."""

from __future__ import annotations

import re

from occface.results import Cell, Results
from occface.tables import Table, mean_over_seeds


def _cells(markdown: str) -> list[str]:
    rows = [line for line in markdown.splitlines() if line.startswith("| ") and "---" not in line][1:]
    return [cell.strip() for row in rows for cell in row.strip("|").split("|")[1:]]


def _seed_tables() -> list[Table]:
    return [Table("table4", [Cell("λ0", "Avg", v, paper=7.0), Cell("λ1", "Avg", v + 1, paper=8.0)], "T", [])
            for v in (1.0, 2.0, 3.0)]


def test_a_symmetric_confidence_interval_prints_its_bounds_not_a_half_width(tmp_path):
    res = Results("from", profile="quick", dataset="toy", root=tmp_path)
    Table("t", [Cell("sym", "acc", 12.3, 13.0, ci_low=11.2, ci_high=13.4)], "toy", digits=1).write(res)
    md = (tmp_path / "quick/from/t.md").read_text()
    assert "| sym | 12.3 [11.2, 13.4] | 13.0 |" in md
    assert "±" not in "".join(_cells(md))
    assert "Ours as `x [low, high]`: a 95 % confidence interval" in md


def test_a_table_over_seeds_prints_the_same_notation_and_names_the_spread(tmp_path):
    res = Results("from", profile="quick", dataset="toy", root=tmp_path)
    mean_over_seeds(_seed_tables(), (0, 1, 2)).write(res)
    md = (tmp_path / "quick/from/table4_seeds.md").read_text()
    assert "| λ0 | 2.00 [1.00, 3.00] | 7.00 |" in md
    assert "±" not in "".join(_cells(md))
    legend = next(line for line in md.splitlines() if line.startswith("Ours as"))
    assert "standard deviation" in legend and "not a confidence interval" in legend
    assert "confidence interval (how" not in md  # the CI legend is not also printed


def test_the_notebook_frame_and_the_markdown_print_each_cell_alike(tmp_path):
    table = Table("t", [Cell("a", "x", 12.3, 13.0, ci_low=11.2, ci_high=13.4), Cell("b", "x", None, 2.0),
                        Cell("c", "x", 5.0, None, ci_low=4.0, ci_high=7.5)], "toy", digits=1)
    table.write(Results("from", profile="quick", dataset="toy", root=tmp_path))
    md = (tmp_path / "quick/from/t.md").read_text()
    ours = [text for i, text in enumerate(_cells(md)) if i % 2 == 0]
    framed = [re.sub(r" \([^)]*\)$", "", text) for text in table.frame()["x"]]
    assert ours == framed == ["12.3 [11.2, 13.4]", "—", "5.0 [4.0, 7.5]"]
