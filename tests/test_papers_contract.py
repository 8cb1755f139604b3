"""Every paper folder keeps the contract of docs/CONTRACTS.md ("Adding a paper"): it declares its Paper, has
the modules a paper has, its notebook source and its tests exist, its topic is a results topic, and its
title names it in the claims summary. The list of papers comes from one place (``occface.papers.PAPERS``)."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from occface.papers import PAPERS
from occface.results import topics

ROOT = Path(__file__).resolve().parents[1]
MODULES = ("model", "train", "tables", "published")


def folder(topic: str) -> str:
    return "from_" if topic == "from" else topic  # `from` is a Python keyword


@pytest.mark.parametrize("paper", PAPERS, ids=lambda p: p.topic)
def test_every_paper_folder_keeps_the_contract(paper):
    package = f"occface.papers.{folder(paper.topic)}"
    for module in MODULES:
        importlib.import_module(f"{package}.{module}")
    assert importlib.import_module(package).PAPER is paper
    assert (ROOT / "notebooks" / "src" / f"{paper.notebook}.py").exists()
    assert (ROOT / "notebooks" / f"{paper.notebook}.ipynb").exists()
    assert list((ROOT / "tests").glob(f"test_{folder(paper.topic).rstrip('_')}*.py")), "the paper has no tests"
    assert paper.topic in topics()


def test_every_paper_folder_is_in_the_one_list():
    folders = {d.name for d in (ROOT / "lib" / "occface" / "papers").iterdir()
               if (d / "__init__.py").exists() and not d.name.startswith("_")}
    assert folders == {folder(p.topic) for p in PAPERS}


def test_the_claims_summary_names_every_paper():
    import sys

    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import claims_summary
    finally:
        sys.path.pop(0)
    assert claims_summary.TOPIC_NAMES == {p.topic: p.title for p in PAPERS}
