"""Write the summary of the papers' claims from every ``results/<profile>/*/claims.csv``.

    python scripts/claims_summary.py                    # profile "default": results/README.md and README.md
    python scripts/claims_summary.py --profile quick --check   # exit 1 if either is out of date

The long block (every claim of every paper, grouped by status) goes into the results index,
``results/README.md``, between the marker lines ``<!-- claims:start -->`` and ``<!-- claims:end -->`` (added
before the profile tables when the index has none; ``occface.runner.write_index`` keeps it when it regenerates
the index). README.md gets one sentence with the counts between the same markers; nothing else in either file
changes. The claims and their statuses come from the notebooks' claims cells (``occface.claims.write_claims``),
never from hand-written text.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "lib"))

from occface.claims import HOLDS, NOISE, NOT_HOLDS, NOT_MEASURED, ClaimRow, read_claims
from occface.papers import PAPERS
from occface.paths import results_root

START, END = "<!-- claims:start -->", "<!-- claims:end -->"
TOPIC_NAMES = {p.topic: p.title for p in PAPERS}


def collect(root: Path, profile: str) -> list[ClaimRow]:
    """Every claim of ``<root>/<profile>/*/claims.csv``, topics in name order."""
    rows: list[ClaimRow] = []
    for path in sorted((root / profile).glob("*/claims.csv")):
        rows += read_claims(path)
    return rows


def summary(rows: list[ClaimRow], profile: str) -> str:
    """The README paragraph: counts, then each paper's claims grouped by status."""
    if not rows:
        return (f"No notebook has written a `claims.csv` at profile `{profile}` yet: run the paper notebooks "
                f"(`make reproduce PROFILE={profile}`), then `python scripts/claims_summary.py --profile {profile}`.")
    count = {s: sum(r.status == s for r in rows) for s in (HOLDS, NOISE, NOT_HOLDS, NOT_MEASURED)}
    head = (f"At profile `{profile}`, of the {len(rows)} ordering claims of the papers that the notebooks check "
            f"against 95 % intervals, {count[HOLDS]} hold, {count[NOISE]} are within noise and "
            f"{count[NOT_HOLDS]} do not hold")
    head += f" ({count[NOT_MEASURED]} not measured)." if count[NOT_MEASURED] else "."
    parts = [head]
    for topic in dict.fromkeys(r.topic for r in rows):
        mine = [r for r in rows if r.topic == topic]
        groups = [f"{status}: " + "; ".join(r.text for r in mine if r.status == status)
                  for status in (HOLDS, NOISE, NOT_HOLDS, NOT_MEASURED) if any(r.status == status for r in mine)]
        where = f"{profile}/{topic}/claims.md"  # relative to the index, results/README.md
        parts.append(f"{TOPIC_NAMES.get(topic, topic)} ([{where}]({where})) — " + " — ".join(groups) + ".")
    return "\n\n".join(parts)


def headline(rows: list[ClaimRow], profile: str) -> str:
    """README.md's sentence: the counts only, pointing at the index for the claims themselves."""
    if not rows:
        return summary(rows, profile)
    count = {s: sum(r.status == s for r in rows) for s in (HOLDS, NOISE, NOT_HOLDS, NOT_MEASURED)}
    unmeasured = f", {count[NOT_MEASURED]} not measured" if count[NOT_MEASURED] else ""
    return (f"Of the {len(rows)} ordering claims of the papers checked against 95 % intervals at profile "
            f"`{profile}`: **{count[HOLDS]} hold, {count[NOISE]} are within noise, {count[NOT_HOLDS]} do not "
            f"hold**{unmeasured} (every claim: [results/README.md](results/README.md#claims), per paper: "
            f"`results/{profile}/<paper>/claims.md`).")


def index_block(rows: list[ClaimRow], profile: str) -> str:
    return f'<a id="claims"></a>\n\n## Claims at profile `{profile}`\n\n{summary(rows, profile)}'


def insert_block(text: str, body: str) -> str:
    """``text`` with its marked block replaced by ``body``; without markers, the block goes before the first
    ``## `` heading (the index's profile tables), or at the end."""
    if START in text or END in text:
        return replace_block(text, body)
    block = f"{START}\n{body}\n{END}\n\n"
    at = text.find("\n## ")
    return text + "\n" + block if at < 0 else text[:at + 1] + block + text[at + 1:]


def replace_block(text: str, body: str) -> str:
    """``text`` with everything between the markers replaced by ``body``."""
    if text.count(START) != 1 or text.count(END) != 1 or text.index(START) > text.index(END):
        raise SystemExit(f"README.md must hold exactly one '{START}' line followed by one '{END}' line")
    before, rest = text.split(START)
    _, after = rest.split(END)
    return f"{before}{START}\n{body}\n{END}{after}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="default")
    parser.add_argument("--results", type=Path, default=None, help="results root (default: results/)")
    parser.add_argument("--readme", type=Path, default=ROOT / "README.md")
    parser.add_argument("--index", type=Path, default=None, help="results index (default: <results>/README.md)")
    parser.add_argument("--check", action="store_true", help="exit 1 if a claims block is out of date")
    args = parser.parse_args(argv)
    root = args.results or results_root()
    rows = collect(root, args.profile)
    index = args.index or root / "README.md"
    updates = {args.readme: replace_block(args.readme.read_text(), headline(rows, args.profile)),
               index: insert_block(index.read_text() if index.exists() else "", index_block(rows, args.profile))}
    stale = [path for path, new in updates.items() if not path.exists() or path.read_text() != new]
    if args.check:
        for path in stale:
            print(f"{path} claims block is out of date: run python scripts/claims_summary.py "
                  f"--profile {args.profile}", file=sys.stderr)
        return 1 if stale else 0
    for path in stale:
        path.write_text(updates[path])
    print(headline(rows, args.profile))
    return 0


if __name__ == "__main__":
    sys.exit(main())
