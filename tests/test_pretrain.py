"""The runner's pre-training pool: jobs of the stale notebooks in one-thread worker processes."""

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))  # the spawned workers import the job table from here too

from occface import pretrain  # noqa: E402

SOURCE = "pretrain_jobs:TABLE"


def test_jobs_train_in_parallel_one_thread_workers_and_a_rerun_reuses_them(tmp_path, monkeypatch):
    monkeypatch.setenv("OCCFACE_CACHE", str(tmp_path))
    done = pretrain.pretrain("quick", ["nb_a", "nb_b"], jobs=2, source=SOURCE)
    assert sorted((nb, job) for nb, job, _, _ in done) == [("nb_a", "one"), ("nb_a", "two"), ("nb_b", "broken")]
    errors = {job: error for _, job, _, error in done}
    assert errors["one"] is None and errors["two"] is None
    assert "fails on purpose" in errors["broken"]  # reported, not raised: the notebook trains it itself
    runs = [json.loads(p.read_text()) for p in tmp_path.glob("ran-*.json")]
    assert len(runs) == 2 and all(r["threads"] == 1 and r["steps"] == 20 for r in runs)
    assert len({r["pid"] for r in runs}) == 2  # two worker processes, neither of them this one
    assert all(r["pid"] != __import__("os").getpid() for r in runs)
    assert len(list((tmp_path / "checkpoints").glob("tiny-*.pt"))) == 2
    pretrain.pretrain("quick", ["nb_a"], jobs=2, source=SOURCE)
    logs = [pretrain.log_path("quick", "nb_a", job).read_text() for job in ("one", "two")]
    assert all("reusing finished checkpoint" in log for log in logs)


def test_one_job_or_no_stale_notebook_starts_no_pool(tmp_path, monkeypatch):
    monkeypatch.setenv("OCCFACE_CACHE", str(tmp_path))
    assert pretrain.pretrain("quick", ["nb_a"], jobs=1, source=SOURCE) == []
    assert pretrain.pretrain("quick", ["nb_c", "unknown"], jobs=2, source=SOURCE) == []
    assert not list(tmp_path.glob("ran-*.json"))


def test_every_notebook_job_list_builds_and_shared_methods_are_listed_once():
    todo = pretrain.jobs_for(list(pretrain.NOTEBOOK_JOBS), "quick")
    assert len(todo) == len(set(todo))
    assert ("50_id_gan", "diversity") in todo and ("40_from", "FROM") in todo
    registered = [job for nb, job in todo if nb in ("03_baselines", "60_benchmark")]
    assert len(registered) == len(set(registered)) and "deepfill" in registered


def test_from_jobs_cover_every_seed_table_row_of_every_training_seed():
    from occface.papers.from_ import tables, train

    jobs = set(pretrain._from(pretrain.get_profile("default")))
    for seed in tables.seeds_for("default")[1:]:
        for table in tables.SEED_TABLES:
            assert {f"seed {seed} {train.ALIASES.get(r, r)}" for r in tables.ROWS[table]} <= jobs
    assert set(train.VARIANTS) <= jobs  # seed 0: every model the notebook uses


def test_the_command_line_refuses_an_unknown_notebook_naming_the_choices(capsys):
    import pytest

    with pytest.raises(SystemExit):
        pretrain.main(["--only", "99_nothing"])
    err = capsys.readouterr().err
    assert "99_nothing" in err and "40_from" in err
