"""Tables over training seeds: the mean with [mean - sd, mean + sd] (one standard deviation) per cell."""

import numpy as np
import pytest

from occface.results import Cell
from occface.tables import Table, mean_over_seeds


def _table(values: dict[str, float]) -> Table:
    return Table("table4", [Cell(row, "Avg", v, paper=7.0) for row, v in values.items()], "T", ["a note"])


def test_each_cell_is_the_mean_with_one_sample_sd_as_its_interval():
    runs = [_table({"λ0": a, "λ1.0": b}) for a, b in ((1.0, 4.0), (2.0, 6.0), (3.0, 5.0))]
    out = mean_over_seeds(runs, (0, 1, 2))
    cell = {c.row: c for c in out.cells}["λ0"]
    assert cell.ours == pytest.approx(2.0)
    sd = np.std([1.0, 2.0, 3.0], ddof=1)
    assert (cell.ci_low, cell.ci_high) == pytest.approx((2.0 - sd, 2.0 + sd))
    assert cell.paper == 7.0
    assert out.name == "table4_seeds" and "one standard deviation" in out.notes[0] and "a note" in out.notes


def test_one_seed_gives_the_value_without_a_spread():
    out = mean_over_seeds([_table({"λ0": 1.5})], (0,))
    assert out.cells[0].ours == 1.5 and out.cells[0].ci_low is None
    assert "no spread" in out.notes[0]


def test_tables_with_different_cells_are_refused():
    with pytest.raises(ValueError, match="other cells"):
        mean_over_seeds([_table({"λ0": 1.0}), _table({"λ0.5": 1.0})], (0, 1))
    with pytest.raises(ValueError, match="one table per seed"):
        mean_over_seeds([_table({"λ0": 1.0})], (0, 1))
