"""Tables as values: a paper's table builder returns a :class:`Table`; the notebook shows it and writes it
through :class:`occface.results.Results` (no notebook reads a results file back)."""

from __future__ import annotations

from dataclasses import dataclass, field

from .results import Cell, Results


@dataclass
class Table:
    """One table of a paper: its file name, tidy cells, title, notes and printed precision."""
    name: str
    cells: list[Cell]
    title: str
    notes: list[str] = field(default_factory=list)
    digits: int = 2

    def values(self) -> dict[str, dict[str, float | None]]:
        """Our numbers as {row: {column: value}}, in the order the cells were built."""
        out: dict[str, dict[str, float | None]] = {}
        for c in self.cells:
            out.setdefault(c.row, {})[c.column] = c.ours
        return out

    def frame(self):
        """A pandas DataFrame of "ours [interval] (paper)" strings, rows x columns, for display in a notebook."""
        import pandas as pd

        def text(c: Cell) -> str:
            ours = "—" if c.ours is None else f"{c.ours:.{self.digits}f}"
            if c.ours is not None and c.ci_low is not None:
                ours += f" [{c.ci_low:.{self.digits}f}, {c.ci_high:.{self.digits}f}]"
            return ours if c.paper is None else f"{ours} ({c.paper:.{self.digits}f})"

        grid: dict[str, dict[str, str]] = {}
        for c in self.cells:
            grid.setdefault(c.column, {})[c.row] = text(c)
        return pd.DataFrame(grid)

    def write(self, results: Results):
        """Publish through ``results`` (CSV + Markdown in the run's staging folder)."""
        return results.table(self.name, self.cells, title=self.title, notes=self.notes, digits=self.digits)
