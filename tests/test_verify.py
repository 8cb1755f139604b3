"""`make verify`'s table comparison: identical, within a stated tolerance, differing, machine-measured cells."""

import os

import pandas as pd

from occface.verify import compare_table, report


def _csv(path, rows):
    pd.DataFrame(rows, columns=["table", "row", "column", "ours", "ci_low", "ci_high", "paper", "unit", "profile",
                                "dataset", "seed"]).to_csv(path, index=False)
    return path


def test_identical_within_and_differing_tables(tmp_path):
    base = [("t", "a", "EER", 10.0, 9.0, 11.0, 8.0, "%", "quick", "LFW", 0),
            ("t", "a", "wall time", 12.0, None, None, None, "s", "quick", "LFW", 0)]
    old = _csv(tmp_path / "old.csv", base)
    same = _csv(tmp_path / "same.csv", [base[0], base[1][:3] + (99.0,) + base[1][4:]])  # only the timing moved
    assert compare_table(old, same) == ("identical", "")
    moved = _csv(tmp_path / "moved.csv", [base[0][:3] + (10.2,) + base[0][4:], base[1]])
    assert compare_table(old, moved, tolerance=0.5)[0] == "within"
    status, detail = compare_table(old, moved)
    assert status == "differs" and "a / EER" in detail
    fewer = _csv(tmp_path / "fewer.csv", [base[0]])
    assert compare_table(old, fewer)[0] == "differs"


def test_report_names_tables_the_rerun_did_not_produce(tmp_path):
    (tmp_path / "c" / "rla").mkdir(parents=True)
    (tmp_path / "f" / "rla").mkdir(parents=True)
    row = [("t", "a", "EER", 1.0, None, None, None, "%", "quick", "LFW", 0)]
    _csv(tmp_path / "c" / "rla" / "tableI.csv", row)
    _csv(tmp_path / "c" / "rla" / "tableII.csv", row)
    _csv(tmp_path / "f" / "rla" / "tableI.csv", row)
    found = report(tmp_path / "c", tmp_path / "f")
    assert found["identical"] == ["rla/tableI"] and found["missing"] == ["rla/tableII"]


def test_verify_during_a_run_says_a_run_is_in_progress_and_waits_for_it(tmp_path, monkeypatch, capsys):
    """Issue 26: `make verify` while a run held a notebook's lock reported its tables as "not produced" and
    exited 1. It now names the run in progress and has the runner wait for it (--wait)."""
    import subprocess

    import nbformat

    from occface import runner, verify

    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    nbformat.write(nbformat.v4.new_notebook(), notebooks / "00_a.ipynb")
    monkeypatch.setattr(runner, "NOTEBOOK_DIR", notebooks)
    monkeypatch.setenv("OCCFACE_CACHE", str(tmp_path / "cache"))
    commands = []
    monkeypatch.setattr(subprocess, "call", lambda cmd, **kwargs: commands.append(cmd) or 0)
    with runner.notebook_lock("quick", notebooks / "00_a.ipynb"):
        verify.main(["--only", "00_a"])
    out = capsys.readouterr().out
    assert f"a run of 00_a.ipynb (profile quick) is in progress: PID {os.getpid()}" in out and "waits" in out
    assert "--wait" in commands[0]
    verify.main(["--only", "00_a"])
    assert "in progress" not in capsys.readouterr().out  # the lock is free again
