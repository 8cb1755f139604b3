"""A paper's ordering claims ("RLA < occluded face", "FROM > Baseline"), judged against our intervals.

One rule, used everywhere: a claim *holds* only when the two 95 % intervals do not overlap and the order is the
claimed one; it *does not hold* when they do not overlap and the order is reversed; it is *within noise*
when the intervals overlap (whatever the point values say). Non-overlap of two 95 % intervals is a
conservative test (for two independent, normal estimates of equal width it corresponds to p < 0.006), so a
"holds" here is a strong statement and "within noise" only says that our sample cannot tell.
A side without a number is *not measured*; a side without an interval cannot be judged and raises.

Writing (:func:`write_claims`): ``claims.csv`` in the tidy schema of :mod:`occface.results` (unchanged), one
row per claim with three columns -- ``claimed better`` and ``compared with`` (value and interval, the
paper's number where given) and ``status`` coded as a number (:data:`STATUS_CODES`: +1 holds, 0 within
noise, -1 does not hold; empty when not measured) -- and ``claims.md``, a table with the status in words
and a one-sentence reason for every claim that does not hold. ``scripts/claims_summary.py`` reads every
``results/<profile>/*/claims.csv`` back through :func:`read_claims`.

>>> c = Claim("RLA < occluded face (mean EER)", Estimate("RLA", 9.0, 8.0, 10.0), Estimate("occluded", 12.0, 11.0, 13.5))
>>> c.status
'holds'
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from .results import Cell, Results, atomic_write_text

HOLDS, NOT_HOLDS, NOISE, NOT_MEASURED = "holds", "does not hold", "within noise", "not measured"
STATUS_CODES = {HOLDS: 1.0, NOISE: 0.0, NOT_HOLDS: -1.0}
COLUMNS = ("claimed better", "compared with", "status")


def _missing(x: float | None) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


@dataclass(frozen=True)
class Estimate:
    """One side of a claim: a method's number with its 95 % interval (and the paper's number, if printed)."""
    name: str
    value: float | None
    ci_low: float | None = None
    ci_high: float | None = None
    paper: float | None = None

    @classmethod
    def from_cell(cls, cell: Cell, name: str | None = None) -> Estimate:
        """A table cell as an estimate, named after its column unless ``name`` is given."""
        return cls(name or cell.column, cell.ours, cell.ci_low, cell.ci_high, cell.paper)

    def text(self, digits: int = 1) -> str:
        if _missing(self.value):
            return "—"
        if _missing(self.ci_low):
            return f"{self.value:.{digits}f}"
        return f"{self.value:.{digits}f} [{self.ci_low:.{digits}f}, {self.ci_high:.{digits}f}]"


def mean_estimate(name: str, estimates: Sequence[Estimate]) -> Estimate:
    """The mean of several estimates (e.g. one method's EER over Table I's rows). Its interval averages the
    bounds, which is what the mean's interval would be if the rows' errors were perfectly correlated: never
    narrower than the true one (the s.d. of a sum is at most the sum of the s.d.s), so judging claims on it
    stays conservative. Rows without a number are skipped; no number at all gives a missing estimate."""
    have = [e for e in estimates if not _missing(e.value)]
    if not have:
        return Estimate(name, None)
    mean = lambda xs: sum(xs) / len(xs)
    value = mean([e.value for e in have])
    if any(_missing(e.ci_low) for e in have):
        return Estimate(name, value)
    papers = [e.paper for e in have]
    paper = None if any(_missing(p) for p in papers) else mean(papers)
    return Estimate(name, value, mean([e.ci_low for e in have]), mean([e.ci_high for e in have]), paper)


@dataclass(frozen=True)
class Claim:
    """``text``: the paper's claim in words; ``ours`` is the side the paper says is better, ``other`` the side
    it beats; ``better`` says which direction is better ("lower" for EER, "higher" for accuracy)."""
    text: str
    ours: Estimate
    other: Estimate
    better: str = "lower"
    unit: str = "%"

    def __post_init__(self) -> None:
        if self.better not in ("lower", "higher"):
            raise ValueError(f"claim {self.text!r}: better={self.better!r}; use 'lower' or 'higher'")
        for side in (self.ours, self.other):
            if not _missing(side.value) and (_missing(side.ci_low) or _missing(side.ci_high)):
                raise ValueError(f"claim {self.text!r}: {side.name} has no interval, so the claim cannot be "
                                 "judged; give its 95 % ci_low and ci_high (e.g. from a bootstrap)")

    def _ordered(self, a: Estimate, b: Estimate) -> bool:
        """a's whole interval on the better side of b's."""
        return a.ci_high < b.ci_low if self.better == "lower" else a.ci_low > b.ci_high

    @property
    def status(self) -> str:
        if _missing(self.ours.value) or _missing(self.other.value):
            return NOT_MEASURED
        if self._ordered(self.ours, self.other):
            return HOLDS
        if self._ordered(self.other, self.ours):
            return NOT_HOLDS
        return NOISE

    @property
    def difference(self) -> float | None:
        """How much better ``ours`` is than ``other`` (positive = the claimed direction), in ``unit``."""
        if self.status == NOT_MEASURED:
            return None
        d = self.other.value - self.ours.value
        return d if self.better == "lower" else -d

    def reason(self, digits: int = 1) -> str:
        """One sentence for a claim that does not hold (empty when it holds)."""
        a, b, u = self.ours.text(digits), self.other.text(digits), f" {self.unit}" if self.unit else ""
        status, word = self.status, "below" if self.better == "lower" else "above"
        if status == HOLDS:
            return ""
        if status == NOT_MEASURED:
            missing = [s.name for s in (self.ours, self.other) if _missing(s.value)]
            return f"{' and '.join(missing)} not measured at this profile."
        if status == NOT_HOLDS:
            return (f"The opposite order: {self.other.name} {b}{u} lies wholly {word} {self.ours.name} {a}{u}.")
        return (f"The intervals overlap ({self.ours.name} {a}{u}, {self.other.name} {b}{u}), so our sample "
                f"cannot tell the two apart.")


def claim_cells(claims: Iterable[Claim]) -> list[Cell]:
    """The tidy cells of :func:`write_claims`'s CSV (see the module docstring)."""
    cells = []
    for c in claims:
        for column, side in zip(COLUMNS, (c.ours, c.other)):
            cells.append(Cell(c.text, column, side.value, side.paper, c.unit, side.ci_low, side.ci_high))
        cells.append(Cell(c.text, "status", STATUS_CODES.get(c.status), None, ""))
    return cells


def claims_markdown(topic: str, claims: list[Claim], title: str, profile: str, notes: Iterable[str] = (),
                    digits: int = 1) -> str:
    lines = [f"# {topic} claims: {title}", "",
             "| claim | claimed better | compared with | status | why |", "|---|---|---|---|---|"]
    for c in claims:
        d = digits if c.unit not in ("", "-") else max(digits, 3)  # SSIM, silhouette: 0.9 [0.9, 0.9] says nothing
        a = f"{c.ours.name} {c.ours.text(d)}"
        b = f"{c.other.name} {c.other.text(d)}"
        lines.append(f"| {c.text} | {a} | {b} | **{c.status}** | {c.reason(d)} |")
    lines += ["", f"Profile `{profile}`. Values in each claim's unit ({', '.join(sorted({c.unit or '-' for c in claims}))}), "
              "each with its 95 % interval `[low, high]`. A claim holds only when the two intervals do not overlap "
              "in the claimed order, does not hold when they do not overlap in the other order, and is within "
              "noise when they overlap (`occface.claims`)."]
    lines += [f"- {n}" for n in notes] if notes else []
    return "\n".join(lines) + "\n"


def write_claims(res: Results, claims: Sequence[Claim], *, title: str = "the paper's ordering claims",
                 notes: Iterable[str] = (), name: str = "claims", digits: int = 1) -> Path:
    """Write ``<name>.csv`` (tidy, via ``res.table``) and ``<name>.md`` (statuses in words, reasons)."""
    claims, notes = list(claims), list(notes)
    if not claims:
        raise ValueError("write_claims: no claims given")
    texts = [c.text for c in claims]
    if len(set(texts)) != len(texts):
        raise ValueError(f"write_claims: claim texts must be unique (they are the CSV rows): {texts}")
    path = res.table(name, claim_cells(claims), title=title, notes=notes, digits=digits)
    atomic_write_text(res.folder / f"{name}.md", claims_markdown(res.topic, claims, title, res.profile, notes, digits))
    return path


@dataclass(frozen=True)
class ClaimRow:
    """One claim read back from a ``claims.csv``."""
    topic: str
    text: str
    status: str


def read_claims(path: str | Path) -> list[ClaimRow]:
    """The claims of one ``claims.csv`` (topic = its folder's name), in file order."""
    path = Path(path)
    codes = {v: k for k, v in STATUS_CODES.items()}
    out = []
    with open(path, newline="") as handle:
        for row in csv.DictReader(handle):
            if row["column"] != "status":
                continue
            status = NOT_MEASURED if row["ours"] == "" else codes.get(float(row["ours"]))
            if status is None:
                raise ValueError(f"{path}: status {row['ours']!r} of {row['row']!r} is not one of "
                                 f"{sorted(codes)}; rewrite the file with occface.claims.write_claims")
            out.append(ClaimRow(path.parent.name, row["row"], status))
    return out
