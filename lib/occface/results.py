"""The results writer every notebook uses: tidy CSV + paper-shaped Markdown tables, labelled PNG figures.

Layout: ``<results_root>/<profile>/<topic>/<name>.{csv,md,png}`` plus ``manifest.json`` describing each
artifact (title, profile, data, hardware, seed, commit). Every file is written atomically (temporary file
in the same folder, then ``os.replace``) with the mode an ordinary ``open`` would give (0644 under the
usual umask 022), so an interrupted run never leaves half a table behind and published files are readable.

Tidy schema, one row per cell: ``table,row,column,ours,ci_low,ci_high,paper,unit,profile,dataset,seed``.
``paper`` is empty where the paper prints no number; ``ours`` is empty where the cell cannot be computed
here, and the Markdown says why; ``ci_low``/``ci_high`` (optional) bound a confidence interval for ``ours``.

The commit is deliberately *not* in the CSV rows, the Markdown or the figures: a rerun that reproduces the
numbers must leave every table and figure byte-identical. It lives in ``manifest.json`` and in the
``results/README.md`` index (with ``+dirty`` when the library or notebooks had uncommitted changes).

One interval notation everywhere (Markdown, notebook tables, claims): ``12.30 [11.00, 13.60]``, both bounds,
never ``±`` (a half-width hides an asymmetric bootstrap interval, and ``±`` also reads as a standard deviation).
What the interval is comes in the table's legend line: a 95 % confidence interval by default, the seeds'
mean ± one standard deviation for a table over training seeds (``interval=SEED_SPREAD``).
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from .paths import cache_write_error, results_root
from .profiles import get_profile
from .runtime import commit_label, hardware_label

COLUMNS = ["table", "row", "column", "ours", "ci_low", "ci_high", "paper", "unit", "profile", "dataset", "seed"]
SHARED_TOPICS = {"tour", "faces", "evaluation", "baselines", "benchmark", "performance"}


def topics() -> set[str]:
    """The results topics: the shared notebooks' and one per paper folder (``papers/from_`` -> "from", as
    ``from`` is a Python keyword); read from the folders, so a new paper's folder is its topic."""
    papers = Path(__file__).parent / "papers"
    return SHARED_TOPICS | {d.name.rstrip("_") for d in papers.iterdir()
                            if (d / "__init__.py").exists() and not d.name.startswith("_")}


class SavedFile(type(Path())):
    """The path of a file :class:`Results` wrote; its repr names it under the results root
    (``<saved quick/tour/faces.png>``), so a notebook cell ending in ``res.figure(...)`` shows no machine path."""

    def __repr__(self) -> str:
        return f"<saved {'/'.join(self.parts[-3:])}>"


@dataclass
class Cell:
    """One number of a paper's table: ours beside the paper's (either may be missing), optionally with a
    confidence interval ``[ci_low, ci_high]`` for ours (both or neither, in the same unit as ``ours``)."""
    row: str
    column: str
    ours: float | None
    paper: float | None = None
    unit: str = "%"
    ci_low: float | None = None
    ci_high: float | None = None

    def __post_init__(self) -> None:
        low, high = _missing(self.ci_low), _missing(self.ci_high)
        if low != high:
            raise ValueError(f"cell ({self.row!r}, {self.column!r}): give both ci_low and ci_high or neither")
        if not low and self.ci_low > self.ci_high:
            raise ValueError(f"cell ({self.row!r}, {self.column!r}): ci_low {self.ci_low} > ci_high {self.ci_high}")


def _missing(value: float | None) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _umask() -> int:
    """The process umask, read without changing it where Linux reports it (no race with other threads)."""
    try:
        with open("/proc/self/status") as handle:
            for line in handle:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temporary file in the same folder and an atomic rename.

    The file gets ``0666 & ~umask`` (0644 under the usual umask), like ``open(path, "w")``; mkstemp's 0600
    would otherwise survive the rename and hide published results from other users."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as err:  # e.g. a cache made read-only mid-run: say which folder and variable
        raise cache_write_error(err, path) from err
    try:
        os.fchmod(fd, 0o666 & ~_umask())
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except OSError as err:
        Path(tmp).unlink(missing_ok=True)
        raise cache_write_error(err, path) from err
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def _fmt(value: float | None, digits: int) -> str:
    if _missing(value):
        return ""
    return f"{value:.{digits}f}"


def format_ours(cell: Cell | None, digits: int) -> str:
    """Our number as every table prints it: ``—`` when missing, ``x [low, high]`` when the cell has an
    interval (the one notation; see the module docstring)."""
    if cell is None or _missing(cell.ours):
        return "—"
    text = _fmt(cell.ours, digits)
    if _missing(cell.ci_low):
        return text
    return f"{text} [{_fmt(cell.ci_low, digits)}, {_fmt(cell.ci_high, digits)}]"


CONFIDENCE = "a 95 % confidence interval (how it was computed: see the notes)"
SEED_SPREAD = "the seeds' mean ± one standard deviation, a spread over training runs (not a confidence interval)"


@dataclass
class Results:
    """Writes one topic's tables and figures for one profile.

    >>> res = Results("from", profile="quick", dataset="LFW deep-funneled", seed=0)
    >>> res.table("table2", [Cell("LFW", "None", 97.1, 99.38)], title="Mask binarization")
    """
    topic: str
    profile: str
    dataset: str
    seed: int = 0
    root: Path | None = None
    written: list[Path] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.topic not in topics():
            raise ValueError(f"unknown topic {self.topic!r}; use one of {sorted(topics())}")
        get_profile(self.profile)  # validates the name
        self.folder = (self.root or results_root()) / self.profile / self.topic

    @property
    def labels(self) -> dict:
        return {"profile": self.profile, "dataset": self.dataset, "seed": self.seed,
                "commit": commit_label(), "hardware": hardware_label()}

    def table(self, name: str, cells: Iterable[Cell], *, title: str, notes: Iterable[str] = (),
              digits: int = 2, interval: str = CONFIDENCE) -> SavedFile:
        """Write ``<name>.csv`` (tidy) and ``<name>.md`` (rows x columns, ours beside the paper's);
        ``interval`` says in the legend what the cells' ``[low, high]`` are."""
        cells = list(cells)
        if not cells:
            raise ValueError(f"table {name!r} has no cells")
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(COLUMNS)
        for c in cells:
            writer.writerow([name, c.row, c.column, _fmt(c.ours, 4), _fmt(c.ci_low, 4), _fmt(c.ci_high, 4),
                             _fmt(c.paper, 4), c.unit, self.profile, self.dataset, self.seed])
        csv_path = self.folder / f"{name}.csv"
        atomic_write_text(csv_path, buffer.getvalue())
        atomic_write_text(self.folder / f"{name}.md", self._markdown(name, cells, title, list(notes), digits,
                                                                            interval))
        self._record(name, "table", title, [f"{name}.csv", f"{name}.md"])
        self.written.append(csv_path)
        return SavedFile(csv_path)

    def figure(self, name: str, fig, *, title: str, dpi: int = 110) -> SavedFile:
        """Save a matplotlib figure as ``<name>.png`` with the run's labels in a footer and PNG metadata
        (not the commit: see the module docstring). Overlapping text boxes (``plots.text_overlaps``) are
        named in a warning and in the manifest (``text_overlaps``), where a test reads them."""
        from .plots import text_overlaps

        overlaps = text_overlaps(fig)
        if overlaps:
            warnings.warn(f"{self.topic}/{name}: overlapping text in the figure: {overlaps[:3]}", stacklevel=2)
        labels = self.labels
        footer = (f"{self.topic} {name} | profile {self.profile} | data {self.dataset} | seed {self.seed} | "
                  f"{labels['hardware']}")
        # below everything already drawn (axis labels included), so the footer never covers them
        bottom = fig.get_tightbbox(fig.canvas.get_renderer()).y0 / fig.get_figheight()
        fig.text(0.005, min(0.003, bottom - 0.01), footer, fontsize=6, color="0.35", ha="left", va="top")
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight",
                    metadata={"Title": title, "Description": footer, "Software": "occface"})
        path = self.folder / f"{name}.png"
        atomic_write_bytes(path, buffer.getvalue())
        self._record(name, "figure", title, [f"{name}.png"], text_overlaps=len(overlaps))
        self.written.append(path)
        return SavedFile(path)

    def _markdown(self, name: str, cells: list[Cell], title: str, notes: list[str], digits: int,
                  interval: str = CONFIDENCE) -> str:
        rows = list(dict.fromkeys(c.row for c in cells))
        columns = list(dict.fromkeys(c.column for c in cells))
        lookup = {(c.row, c.column): c for c in cells}
        any_paper = any(c.paper is not None for c in cells)
        header = ["" ]
        for col in columns:
            header += [f"{col} (ours)", f"{col} (paper)"] if any_paper else [col]
        lines = [f"# {self.topic} {name}: {title}", "",
                 "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        for row in rows:
            out = [row]
            for col in columns:
                c = lookup.get((row, col))
                out.append(format_ours(c, digits))
                if any_paper:
                    out.append("" if c is None else _fmt(c.paper, digits))
            lines.append("| " + " | ".join(out) + " |")
        units = _units_line(cells)
        labels = self.labels
        if any(not _missing(c.ci_low) for c in cells):
            lines += ["", f"Ours as `x [low, high]`: {interval}."]
        lines += ["", f"Units: {units}. Profile `{self.profile}`, data: {self.dataset}, "
                      f"seed {self.seed}, hardware: {labels['hardware']}."]
        if notes:
            lines += [""] + [f"- {n}" for n in notes]
        return "\n".join(lines) + "\n"

    def _record(self, name: str, kind: str, title: str, files: list[str], **extra) -> None:
        path = self.folder / "manifest.json"
        manifest = json.loads(path.read_text()) if path.exists() else {}
        manifest[name] = {"kind": kind, "title": title, "files": files,
                          "topic": self.topic, **self.labels, **extra}
        atomic_write_text(path, json.dumps(manifest, indent=1, sort_keys=True) + "\n")


def _units_line(cells: list[Cell]) -> str:
    """One unit for the whole table, else per column (or per row) where each has one; "-" = unitless."""
    def name(unit: str) -> str:
        return unit or "-"

    if len({c.unit for c in cells}) == 1:
        return name(cells[0].unit)
    for key in ("column", "row"):
        groups: dict[str, set[str]] = {}
        for c in cells:
            groups.setdefault(getattr(c, key), set()).add(c.unit)
        if all(len(u) == 1 for u in groups.values()):
            return ", ".join(f"{k} {name(next(iter(u)))}" for k, u in groups.items())
    return ", ".join(sorted({name(c.unit) for c in cells}))

