"""`make book`: the static site builds offline, every local link resolves, and in a real browser (headless
Chromium, Debian's package driven by Playwright; skipped without it) the index and two paper pages load their
figures and tables."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
import build_book  # noqa: E402

PAPER_PAGES = ("notebooks/10_rla.html", "notebooks/30_oa_gan.html")


@pytest.fixture(scope="module")
def book(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("book")
    build_book.build("default", out)
    return out


def test_the_book_links_nothing_that_is_missing(book):
    assert (book / "index.html").exists() and (book / "readme.html").exists()
    assert all((book / p).exists() for p in PAPER_PAGES)
    assert build_book.broken_links(book) == []


def test_the_link_checker_finds_a_broken_link(tmp_path):
    (tmp_path / "a.html").write_text("<a href='missing.html'>x</a><img src='here.png'>")
    (tmp_path / "here.png").write_bytes(b"")
    assert build_book.broken_links(tmp_path) == ["a.html: missing.html"]


def test_markdown_links_point_at_rendered_pages():
    body = build_book.rewrite_links('<a href="quick/rla/tableI.md">t</a><a href="https://x.org/a.md">w</a>'
                                    '<a href="../notebooks/10_rla.ipynb#fig-5">n</a>')
    assert body == ('<a href="quick/rla/tableI.html">t</a><a href="https://x.org/a.md">w</a>'
                    '<a href="../notebooks/10_rla.html#fig-5">n</a>')


def _chromium() -> str | None:
    return next((shutil.which(n) for n in ("chromium", "chromium-browser") if shutil.which(n)), None)


def test_index_and_two_paper_pages_load_their_figures_and_tables_in_a_browser(book):
    chromium = _chromium()
    if chromium is None:
        pytest.skip("no Chromium on PATH: install Debian's package (apt-get install -y chromium); .ci/run does")
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install -e '.[dev]' brings playwright")
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        try:
            tab = browser.new_page()
            tab.goto((book / "index.html").as_uri())
            links = tab.eval_on_selector_all("a", "els => els.map(e => e.getAttribute('href'))")
            assert set(PAPER_PAGES) <= set(links)
            for name in PAPER_PAGES:
                tab.goto((book / name).as_uri())
                tab.wait_for_load_state("load")
                images = tab.eval_on_selector_all("img", "els => els.map(e => [e.complete, e.naturalWidth])")
                assert images and all(done and width > 0 for done, width in images), name
                assert tab.locator("table").count() > 0, f"{name}: no table rendered"
        finally:
            browser.close()
