"""Tables as values: a paper's table builder returns a :class:`Table`; the notebook shows it and writes it
through :class:`occface.results.Results` (no notebook reads a results file back)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from .claims import Estimate
from .results import CONFIDENCE, SEED_SPREAD, Cell, Results, format_ours


@dataclass
class Table:
    """One table of a paper: its file name, tidy cells, title, notes and printed precision."""
    name: str
    cells: list[Cell]
    title: str
    notes: list[str] = field(default_factory=list)
    digits: int = 2
    interval: str = CONFIDENCE  # what the cells' [low, high] are (results.SEED_SPREAD over seeds)

    def values(self) -> dict[str, dict[str, float | None]]:
        """Our numbers as {row: {column: value}}, in the order the cells were built."""
        out: dict[str, dict[str, float | None]] = {}
        for c in self.cells:
            out.setdefault(c.row, {})[c.column] = c.ours
        return out

    def estimate(self, row: str, column: str, name: str | None = None) -> Estimate:
        """The cell at (``row``, ``column``) as one side of a claim (``occface.claims.Estimate``), named
        ``name`` (default: the column); a cell the table lacks gives an estimate without a number."""
        found = next((c for c in self.cells if c.row == row and c.column == column), None)
        return Estimate.from_cell(found, name=name) if found else Estimate(name or column, None)

    def frame(self):
        """A pandas DataFrame of "ours [interval] (paper)" strings, rows x columns, for display in a notebook."""
        import pandas as pd

        def text(c: Cell) -> str:
            ours = format_ours(c, self.digits)
            return ours if c.paper is None else f"{ours} ({c.paper:.{self.digits}f})"

        grid: dict[str, dict[str, str]] = {}
        for c in self.cells:
            grid.setdefault(c.column, {})[c.row] = text(c)
        return pd.DataFrame(grid)

    def write(self, results: Results):
        """Publish through ``results`` (CSV + Markdown in the run's staging folder)."""
        return results.table(self.name, self.cells, title=self.title, notes=self.notes, digits=self.digits,
                             interval=self.interval)


def mean_over_seeds(tables: Sequence[Table], seeds: Sequence[int], name: str | None = None) -> Table:
    """One table of the same cells built with each training seed: each cell is the mean over ``seeds`` with
    ``[mean - sd, mean + sd]`` (sd: one standard deviation, ddof = 1) as its interval, printed in the one
    notation ``mean [low, high]`` with a legend that names it a spread, not a confidence interval; a single
    seed gives no spread."""
    if len(tables) != len(seeds) or not tables:
        raise ValueError(f"mean_over_seeds: {len(tables)} tables for seeds {list(seeds)}; give one table per seed")
    keys = [(c.row, c.column) for c in tables[0].cells]
    by_key = [{(c.row, c.column): c for c in t.cells} for t in tables]
    for t, found in zip(tables, by_key):
        if set(found) != set(keys):
            raise ValueError(f"mean_over_seeds: table {t.name!r} has other cells than {tables[0].name!r}")
    cells = []
    for key in keys:
        first = by_key[0][key]
        values = np.array([found[key].ours for found in by_key], dtype=float)
        if np.isnan(values).any():
            cells.append(Cell(*key, None, first.paper, first.unit))
            continue
        mean = float(values.mean())
        sd = float(values.std(ddof=1)) if len(values) > 1 else None
        cells.append(Cell(*key, mean, first.paper, first.unit, None if sd is None else mean - sd,
                          None if sd is None else mean + sd))
    spread = ("[low, high] = mean ± one standard deviation over the seeds (not a confidence interval)"
              if len(seeds) > 1 else
              "one seed only at this profile: no spread")
    notes = [f"mean over training seeds {', '.join(map(str, seeds))} (initialisation, batch order and training "
             f"occluders; the same test faces for every seed); {spread}", *tables[0].notes]
    return Table(name or f"{tables[0].name}_seeds", cells, f"{tables[0].title}, mean over {len(seeds)} seeds",
                 notes, tables[0].digits, SEED_SPREAD if len(seeds) > 1 else tables[0].interval)
