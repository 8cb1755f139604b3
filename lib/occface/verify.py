"""`make verify`: do the committed tables really come out of the code?

Re-runs every notebook at ``quick`` into a temporary results folder (stamps ignored), then compares each
table with the committed one under ``results/quick/``: every number must come out identical (quick runs
are deterministic on the CPU: fp32, one training thread, seeded batches); only cells that measure the machine
(seconds, faces/s) are compared for presence. Prints a one-screen report and exits non-zero on any difference.
When a run (`make reproduce`, another `make verify`) holds a notebook's lock, verify says so and waits for it.

    python -m occface.verify [--profile quick] [--only 00_tour ...] [--keep]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd

from .paths import REPO_ROOT

NUMERIC = ("ours", "ci_low", "ci_high")
# units whose cells measure the machine, not the method: compared for presence only
MACHINE_UNITS = {"s", "seconds", "faces/s", "ms"}


def compare_table(committed: Path, fresh: Path, tolerance: float = 0.0) -> tuple[str, str]:
    """("identical" | "within" | "differs", detail) for one pair of tidy CSVs."""
    old, new = pd.read_csv(committed), pd.read_csv(fresh)
    key = ["row", "column"]
    merged = old.merge(new, on=key, how="outer", suffixes=("_old", "_new"), indicator=True)
    missing = merged[merged["_merge"] != "both"]
    if len(missing):
        cells = ", ".join(f"{r} / {c}" for r, c in missing[key].head(3).itertuples(index=False))
        return "differs", f"cells present in only one run: {cells}"
    worst, where = 0.0, ""
    for col in (c for c in NUMERIC if f"{c}_old" in merged):
        machine = merged["unit_old"].isin(MACHINE_UNITS) if "unit_old" in merged else False
        a, b = merged[f"{col}_old"].where(~machine), merged[f"{col}_new"].where(~machine)
        if not (a.isna() == b.isna()).all():
            return "differs", f"{col}: a value is empty in one run only"
        gap = (a - b).abs().max()
        if pd.notna(gap) and gap > worst:
            worst = float(gap)
            row = merged.loc[(a - b).abs().idxmax()]
            where = f"{row['row']} / {row['column']} ({col}): {row[f'{col}_old']} -> {row[f'{col}_new']}"
    if worst == 0:
        return "identical", ""
    return ("within" if worst <= tolerance else "differs"), where


def rerun(profile: str, results: Path, only: list[str] | None) -> int:
    """Run the notebooks into ``results`` with a clean runner (no stamps there, so nothing is skipped)."""
    env = dict(os.environ, OCCFACE_RESULTS=str(results))
    # --wait: a notebook another run holds is re-run after it, not reported as "not produced"
    cmd = [sys.executable, "-m", "occface.runner", "--profile", profile, "--force", "--allow-dirty", "--wait"]
    return subprocess.call(cmd + (["--only", *only] if only else []), env=env, cwd=REPO_ROOT)


def runs_in_progress(profile: str, only: list[str] | None) -> list[tuple[str, str]]:
    """(notebook, holder) for each notebook whose lock another run holds now."""
    from .locks import notebook_lock_holder
    from .runner import notebooks

    found = [(nb.name, notebook_lock_holder(profile, nb)) for nb in notebooks(only)]
    return [(name, holder) for name, holder in found if holder]


def report(committed_root: Path, fresh_root: Path) -> dict[str, list[str]]:
    """Compare every committed CSV with its fresh twin: {"identical"|"within"|"differs"|"missing": [...]}."""
    out: dict[str, list[str]] = {"identical": [], "within": [], "differs": [], "missing": []}
    for csv in sorted(committed_root.rglob("*.csv")):
        rel = csv.relative_to(committed_root)
        fresh = fresh_root / rel
        name = rel.with_suffix("").as_posix()
        if not fresh.exists():
            out["missing"].append(name)
            continue
        status, detail = compare_table(csv, fresh)
        out[status].append(f"{name}: {detail}" if detail else name)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="quick")
    parser.add_argument("--only", nargs="*")
    parser.add_argument("--keep", action="store_true", help="keep the temporary results folder")
    args = parser.parse_args(argv)
    committed = REPO_ROOT / "results" / args.profile
    for name, holder in runs_in_progress(args.profile, args.only):
        print(f"a run of {name} (profile {args.profile}) is in progress: {holder}. verify waits for it to finish, "
              "then re-runs the notebook (Ctrl-C to stop waiting)", flush=True)
    scratch = Path(tempfile.mkdtemp(prefix="occface-verify-"))
    try:
        code = rerun(args.profile, scratch, args.only)
        found = report(committed if not args.only else committed, scratch / args.profile)
        if args.only:  # tables of the notebooks not re-run are not expected
            found["missing"] = []
        checked = sum(len(v) for v in found.values())
        print(f"\nverify ({args.profile}): {checked} tables checked, {len(found['identical'])} identical, "
              f"{len(found['within'])} within tolerance, {len(found['differs'])} differing, "
              f"{len(found['missing'])} not produced")
        for status in ("within", "differs", "missing"):
            for line in found[status]:
                print(f"  {status:9s} {line}")
        return 1 if code or found["differs"] or found["missing"] else 0
    finally:
        if args.keep:
            print(f"fresh results kept in {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
