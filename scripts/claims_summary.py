"""Write the README's summary of the papers' claims from every ``results/<profile>/*/claims.csv``.

    python scripts/claims_summary.py                    # profile "default", README.md in place
    python scripts/claims_summary.py --profile quick --check   # exit 1 if README.md is out of date

The paragraph goes between the two marker lines ``<!-- claims:start -->`` and ``<!-- claims:end -->`` of
README.md; nothing else in the file changes. The claims and their statuses come from the notebooks' claims
cells (``occface.claims.write_claims``), never from hand-written text.
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
        parts.append(f"{TOPIC_NAMES.get(topic, topic)} ({'results/' + profile + '/' + topic + '/claims.md'}) — "
                     + " — ".join(groups) + ".")
    return "\n\n".join(parts)


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
    parser.add_argument("--check", action="store_true", help="exit 1 if the README's block is out of date")
    args = parser.parse_args(argv)
    body = summary(collect(args.results or results_root(), args.profile), args.profile)
    text = args.readme.read_text()
    new = replace_block(text, body)
    if args.check:
        if new != text:
            print(f"{args.readme} claims block is out of date: run python scripts/claims_summary.py "
                  f"--profile {args.profile}", file=sys.stderr)
            return 1
        return 0
    if new != text:
        args.readme.write_text(new)
    print(body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
