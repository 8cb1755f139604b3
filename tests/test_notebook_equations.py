"""The paper notebooks show their equations beside the code: every numbered equation of each paper appears in
the notebook's "equation by equation" cell, in LaTeX, and every ``occface....`` name cited in any notebook's
Markdown (papers, shared notebooks, exercises) resolves by import."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import jupytext
import pytest

ROOT = Path(__file__).resolve().parents[1]
SOURCES = sorted((ROOT / "notebooks" / "src").glob("[0-9][0-9]_*.py")) + sorted(
    (ROOT / "notebooks" / "exercises" / "src").glob("[0-9][0-9]_*.py"))
# the papers' numbered equations (papers/README.md; ID-GAN's 1a and 1b count as 1)
EQUATIONS = {"10_rla": 19, "20_fsg_gan": 11, "30_oa_gan": 9, "40_from": 6, "50_id_gan": 7}
CITED = re.compile(r"`(occface(?:\.\w+)+)")


def markdown(source: Path) -> list[str]:
    return [c.source for c in jupytext.read(source).cells if c.cell_type == "markdown"]


def resolve(name: str) -> object:
    """Import the longest importable module prefix of ``name``, then follow the rest as attributes."""
    parts = name.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for attr in parts[cut:]:
            obj = getattr(obj, attr)
        return obj
    raise ModuleNotFoundError(name)


def equation_numbers(text: str) -> set[int]:
    """Every number written as ``Eq. 6``, ``Eq. 1a`` or ``Eqs. 5-8`` in ``text``."""
    found = set()
    for first, last in re.findall(r"Eqs?\. (\d+)[ab]?(?:-(\d+))?", text):
        found |= set(range(int(first), int(last or first) + 1))
    return found


def test_cited_names_are_found():
    names = {name for source in SOURCES for cell in markdown(source) for name in CITED.findall(cell)}
    assert len(names) > 60  # the equation cells alone cite this many
    unresolved = []
    for name in sorted(names):
        try:
            resolve(name)
        except (ImportError, AttributeError):
            unresolved.append(name)
    assert not unresolved, unresolved


@pytest.mark.parametrize("notebook", sorted(EQUATIONS))
def test_every_numbered_equation_is_shown_in_latex_beside_its_code(notebook):
    cells = markdown(ROOT / "notebooks" / "src" / f"{notebook}.py")
    block = next(c for c in cells if "equation by equation" in c)
    assert equation_numbers(block) >= set(range(1, EQUATIONS[notebook] + 1))
    assert block.count("$$") >= 2 * 4  # displayed LaTeX, not prose
    assert len(CITED.findall(block)) >= 5


def test_equation_numbers_are_read_from_ranges_and_sub_labels():
    assert equation_numbers("Eq. 1a, Eqs. 5-8 and Eq. 13") == {1, 5, 6, 7, 8, 13}


def test_the_tour_defines_every_metric_the_tables_use_and_the_claims_vocabulary():
    text = "\n".join(markdown(ROOT / "notebooks" / "src" / "00_tour.py"))
    section = text[text.index("## How to read the results"):]
    for term in ("**EER**", "**TAR@FAR**", "**Accuracy**", "**Rank-k**", "**PSNR**", "**SSIM**", "**Mask IoU**",
                 "**Silhouette**", "`x [low, high]`", "**holds**", "**does not hold**", "**within noise**"):
        assert term in section, term
