"""`make book`: the companion as a static site that opens offline in any browser.

    python scripts/build_book.py [--profile default] [--out book]

Pages: the README, the results index (``results/README.md``), every table (Markdown -> HTML) and figure of
every profile, and every executed notebook of ``--profile`` (nbconvert's HTML, outputs and figures inline). Executed notebooks come
from ``results/<profile>/<topic>/<notebook>.ipynb`` where a run kept them, else from ``notebooks/*.ipynb``
(their committed ``quick`` run), and the page says which. Links between pages are rewritten to the rendered
files (``.md`` -> ``.html``, ``.ipynb`` -> ``.html``); :func:`broken_links` lists any that point nowhere.
Jupyter Book is not used: its current version needs Node and a network; nbconvert and markdown-it-py are
already installed with Jupyter.
"""

from __future__ import annotations

import argparse
import html
import os
import re
import shutil
import sys
from html.parser import HTMLParser
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STYLE = ("body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;line-height:1.5}"
         "table{border-collapse:collapse;font-size:.9rem}td,th{border:1px solid #ccc;padding:.2rem .5rem}"
         "img{max-width:100%}code{background:#f4f4f4}nav{margin-bottom:1rem}")


def markdown_html(text: str) -> str:
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": False}).enable("table").render(text)


def rewrite_links(body: str) -> str:
    """Local links to Markdown and notebooks point at their rendered pages."""
    def fix(match: re.Match) -> str:
        attr, url = match.group(1), match.group(2)
        if re.match(r"^[a-z]+:|^#", url):
            return match.group(0)
        path, _, anchor = url.partition("#")
        path = re.sub(r"\.(md|ipynb)$", ".html", path)
        return f'{attr}="{path}{"#" + anchor if anchor else ""}"'
    return re.sub(r'(href|src)="([^"]+)"', fix, body)


def page(title: str, body: str, depth: int) -> str:
    home = "../" * depth + "index.html"
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"<style>{STYLE}</style></head><body><nav><a href='{home}'>occface</a></nav>{body}</body></html>")


def write_markdown(source: Path, target: Path, root: Path, title: str) -> None:
    depth = len(target.relative_to(root).parts) - 1
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(page(title, rewrite_links(markdown_html(source.read_text())), depth))


def executed_notebooks(profile: str) -> dict[str, tuple[Path, str]]:
    """{notebook stem: (executed notebook, where it came from)}: the profile's kept runs, else the committed
    quick runs."""
    found = {p.stem: (p, f"executed at `{profile}`") for p in sorted((ROOT / "results" / profile).glob("*/[0-9][0-9]_*.ipynb"))}
    for p in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        found.setdefault(p.stem, (p, "the committed `quick` run (no executed notebook of this profile yet)"))
    return found


def relink_figures(body: str, source: Path, target: Path, out: Path) -> str:
    """An executed notebook under results/ links its figures as files beside it (``occface.executed``): point
    each such link at the copy of that file in the site."""
    results = ROOT / "results"

    def fix(match: re.Match) -> str:
        url = match.group(1)
        path = (source.parent / url).resolve()
        if re.match(r"^[a-z]+:|^#|^/", url) or not path.is_file() or not path.is_relative_to(results):
            return match.group(0)
        return f'src="{os.path.relpath(out / "results" / path.relative_to(results), target.parent)}"'
    return re.sub(r'src="([^"]+)"', fix, body)


def write_notebook(source: Path, target: Path, note: str, out: Path) -> None:
    import nbformat
    from nbconvert import HTMLExporter

    notebook = nbformat.read(source, as_version=4)
    notebook.metadata.pop("widgets", None)  # widget state is dead in a static page
    body, _ = HTMLExporter(template_name="lab", exclude_input_prompt=True,
                           exclude_output_prompt=True).from_notebook_node(notebook)
    body = relink_figures(body, source, target, out)
    banner = f"<p style='background:#ffd;padding:.5rem'>This page shows {html.escape(note)}.</p>"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(body.replace("<body", "<body data-occface-book", 1).replace(
        "<main>", f"<main><nav><a href='../index.html'>occface</a></nav>{banner}", 1))


def build(profile: str, out: Path) -> Path:
    """Build the site into ``out`` (emptied first); returns its index page."""
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    results = ROOT / "results"
    write_markdown(ROOT / "README.md", out / "readme.html", out, "occface")
    if (results / "README.md").exists():
        write_markdown(results / "README.md", out / "results" / "README.html", out, "Results index")
    for path in sorted(p for d in sorted(results.iterdir()) if d.is_dir() for p in d.rglob("*")):
        target = out / "results" / path.relative_to(results)
        if path.suffix == ".md":
            write_markdown(path, target.with_suffix(".html"), out, path.stem)
        elif path.suffix in (".png", ".csv", ".json"):
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)
    notebooks = executed_notebooks(profile)
    for stem, (source, note) in notebooks.items():
        write_notebook(source, out / "notebooks" / f"{stem}.html", note, out)
    items = "".join(f"<li><a href='notebooks/{stem}.html'>{stem}</a> — {html.escape(note)}</li>"
                    for stem, (_, note) in notebooks.items())
    index = (f"<h1>occface</h1><p>The companion as a static site, profile <code>{profile}</code>.</p>"
             f"<ul><li><a href='readme.html'>README</a></li><li><a href='results/README.html'>Results index</a>"
             f"</li></ul><h2>Notebooks</h2><ul>{items}</ul>")
    (out / "index.html").write_text(page("occface", index, 0))
    return out / "index.html"


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.urls += [v for k, v in attrs if k in ("href", "src") and v]


def broken_links(out: Path) -> list[str]:
    """``page: link`` for every local link of the site that points at no file of it."""
    bad = []
    for page_path in sorted(out.rglob("*.html")):
        parser = _Links()
        parser.feed(page_path.read_text())
        for url in parser.urls:
            path = url.partition("#")[0].partition("?")[0]
            if not path or re.match(r"^[a-z]+:", url):
                continue
            if not (page_path.parent / path).resolve().exists():
                bad.append(f"{page_path.relative_to(out)}: {url}")
    return bad


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="default")
    parser.add_argument("--out", type=Path, default=ROOT / "book")
    args = parser.parse_args(argv)
    index = build(args.profile, args.out)
    bad = broken_links(args.out)
    print(f"book: {index} ({len(list(args.out.rglob('*.html')))} pages)")
    for line in bad:
        print("broken link:", line, file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
