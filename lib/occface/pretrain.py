"""Both cores busy: the runner trains the checkpoints the stale notebooks need in parallel worker processes
before it executes the notebooks (``make reproduce JOBS=2``; default: one worker per core).

Which checkpoints a notebook needs is listed here, per notebook, as *jobs*: each job calls the same public
training function, with the same config, that the notebook's cells call (``train_rla``, ``train_id_gan``,
``FROMModels.model``, ``registry.inpainter``, ...), so it writes the very checkpoint the notebook then finds
finished and loads. A job that a notebook no longer asks for costs time but changes no result; a checkpoint
the list misses is trained by the notebook itself, as before.

- Each worker is a fresh process on one thread (``OMP_NUM_THREADS=1``; ``Trainer`` trains on
  ``TRAIN_THREADS`` anyway), seeded as a notebook is, with the profile's training precision
  (``occface.train.set_precision``), so its checkpoints are bit-identical to the notebook's own.
- Two jobs that need one checkpoint (FROM's variants all start from its Baseline, ID-GAN's from one parser)
  meet at its training lock (``occface.locks.training_lock``): the second waits and reuses it.
- A killed run resumes: finished checkpoints are reused, partial ones resumed (``occface.train.Trainer``).
- A job that fails is reported with its log and the run goes on: the notebook will train (or fail) itself.
  Each job's output goes to ``<cache>/pretrain/<profile>/<notebook>.<job>.log``.
"""

from __future__ import annotations

import dataclasses
import os
import time
import traceback
from concurrent.futures import ProcessPoolExecutor, as_completed
from contextlib import redirect_stderr, redirect_stdout
from typing import Any, Callable

from .paths import cache_dir
from .profiles import Profile, get_profile

JobSet = dict[str, Callable[[], Any]]


def _evaluation(p: Profile) -> JobSet:
    from .eval.recognizers import train_recognizer

    return {arch: (lambda arch=arch: train_recognizer(arch, p, seed=0)) for arch in ("lresnet", "lightcnn")}


def _registered(p: Profile, names: list[str] | None = None) -> JobSet:
    """Every registered method that trains (``names``: a subset), built as the benchmark builds it."""
    from . import methods  # noqa: F401  (registers every method)
    from . import registry

    chosen = names or registry.available()
    return {name: (lambda name=name: registry.method(name).build(p)) for name in chosen}


def _rla(p: Profile) -> JobSet:
    from .papers.rla import diagnosis, train

    cfg = train.RLAExperimentConfig.for_profile(p)

    def main():
        return train.train_rla(cfg, train.training_pairs(cfg))

    def ip():
        data = train.training_pairs(cfg)
        rla = train.train_rla(cfg, data)
        return train.train_ip_rla(cfg, rla, data, train.identity_classifier(cfg, data))

    def variant(name: str):
        vcfg = diagnosis.variant_config(cfg, name)
        return train.train_rla(vcfg, train.training_pairs(vcfg))

    jobs = {"rla": main, "ip-rla": ip, "baselines": lambda: train.train_baselines(cfg, train.training_pairs(cfg))}
    jobs |= {f"variant {name}": (lambda name=name: variant(name)) for name in diagnosis.VARIANTS}
    return jobs


def _fsg_gan(p: Profile) -> JobSet:
    from .papers.fsg_gan import tables, train

    cfg = train.FSGConfig.for_profile(p)
    # tables.train_variants: one model per row, identity network and data as the notebook's defaults
    return {row: (lambda change=change: train.train_fsg_gan(dataclasses.replace(cfg, **change), None,
                                                             train.LazyPairs(cfg)))
            for row, change in tables.VARIANTS.items()}


def _oa_gan(p: Profile) -> JobSet:
    from .papers.oa_gan import published, train

    cfg = train.OAGANConfig.for_profile(p)
    jobs = {"oa-gan": lambda: train.train_oa_gan(cfg),
            "pre-train, fine-tune": lambda: train.train_oa_gan(dataclasses.replace(cfg, schedule="pretrain"))}
    jobs |= {f"w/o {drop}": (lambda drop=drop: train.train_oa_gan(dataclasses.replace(cfg, drop=(drop,))))
             for drop in published.TABLE4_DROP.values() if drop}
    return jobs


def _from(p: Profile) -> JobSet:
    from .papers.from_ import tables, train

    # seed 0: every model of the notebook; the other seeds: the rows of the seed tables (Tables 3, 4, 7)
    jobs: JobSet = {name: (lambda name=name: train.FROMModels(p).model(name))
                    for name in (*train.MAIN, *train.VARIANTS)}
    for seed in tables.seeds_for(p)[1:]:
        names = dict.fromkeys(train.ALIASES.get(row, row) for t in tables.SEED_TABLES for row in tables.ROWS[t])
        jobs |= {f"seed {seed} {name}": (lambda name=name, seed=seed: train.FROMModels(p, seed).model(name))
                 for name in names}
    return jobs


def _id_gan(p: Profile) -> JobSet:
    from .eval.recognizers import train_recognizer
    from .nn import parsing
    from .papers.id_gan import tables, train

    jobs: JobSet = {"parser": lambda: parsing.frozen_parser(p)}
    jobs |= {identity: (lambda identity=identity: train.train_id_gan(
        train.IDGANTrainConfig.for_profile(p, identity=identity))) for identity in ("none", "diversity", "triplet",
                                                                                   "centre")}
    jobs |= {f"recognizer {loss}": (lambda loss=loss: train_recognizer(tables.PANEL_ARCH, p, seed=0, loss=loss))
             for loss in tables.PANEL.values() if loss}
    return jobs


# notebook stem -> the jobs that train what it needs (heaviest notebooks' jobs are submitted first)
NOTEBOOK_JOBS: dict[str, Callable[[Profile], JobSet]] = {
    "50_id_gan": _id_gan,
    "30_oa_gan": _oa_gan,
    "20_fsg_gan": _fsg_gan,
    "10_rla": _rla,
    "40_from": _from,
    "02_evaluation": _evaluation,
    "03_baselines": _registered,
    "60_benchmark": _registered,
}


def jobs_for(notebooks: list[str], profile: str | Profile, source: str = "occface.pretrain:NOTEBOOK_JOBS"
             ) -> list[tuple[str, str]]:
    """(notebook, job) pairs for the given notebook stems, heaviest notebooks first, each job once (the
    baselines and the benchmark share the registered methods)."""
    p, table = get_profile(profile), _table(source)
    out, seen = [], set()
    for stem in table:
        if stem not in notebooks:
            continue
        for job in table[stem](p):
            key = (table[stem], job)
            if key not in seen:
                seen.add(key)
                out.append((stem, job))
    return out


def log_path(profile: str, notebook: str, job: str):
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in job)
    return cache_dir("pretrain", profile) / f"{notebook}.{safe}.log"


def _table(source: str) -> dict[str, Callable[[Profile], JobSet]]:
    """``"module:NAME"`` -> that module's job table (workers are fresh processes: they import it by name)."""
    import importlib

    module, _, name = source.partition(":")
    return getattr(importlib.import_module(module), name)


def run_job(profile: str, notebook: str, job: str, source: str = "occface.pretrain:NOTEBOOK_JOBS"
            ) -> tuple[str, str, float, str | None]:
    """One job in this (worker) process: (notebook, job, seconds, the error or None)."""
    import warnings

    import torch

    from .runtime import seed_everything
    from .train import set_precision

    torch.set_num_threads(1)
    warnings.filterwarnings("ignore", message=".*does not have a deterministic implementation.*")
    start = time.perf_counter()
    with open(log_path(profile, notebook, job), "w") as log, redirect_stdout(log), redirect_stderr(log):
        try:
            p = get_profile(profile)
            set_precision(p)  # as start_notebook does: the same checkpoint keys
            seed_everything(0)
            _table(source)[notebook](p)[job]()
            return notebook, job, time.perf_counter() - start, None
        except Exception as err:  # reported; the notebook then trains (or fails) itself
            traceback.print_exc()
            return notebook, job, time.perf_counter() - start, f"{type(err).__name__}: {err}"


def pretrain(profile: str, notebooks: list[str], jobs: int, source: str = "occface.pretrain:NOTEBOOK_JOBS"
             ) -> list[tuple[str, str, float, str | None]]:
    """Train the checkpoints of ``notebooks`` (stems) in ``jobs`` one-thread worker processes; returns one
    (notebook, job, seconds, error) per job. ``jobs`` <= 1 does nothing: the notebooks train in turn.
    ``source``: where the job table lives (``module:NAME``; tests give their own)."""
    import multiprocessing

    todo = jobs_for(notebooks, profile, source)
    if jobs <= 1 or not todo:
        return []
    os.environ["OMP_NUM_THREADS"] = "1"  # the spawned workers start torch on one thread
    print(f"pre-training {len(todo)} model(s) for {len(set(n for n, _ in todo))} notebook(s) in {jobs} worker "
          f"processes (logs: {cache_dir('pretrain', profile)})", flush=True)
    done = []
    with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = [pool.submit(run_job, profile, nb, job, source) for nb, job in todo]
        for future in as_completed(futures):
            nb, job, seconds, error = future.result()
            done.append((nb, job, seconds, error))
            status = f"failed ({error}); the notebook will train it" if error else "ready"
            print(f"    [{len(done)}/{len(todo)}] {nb}: {job} {status} ({seconds:.0f} s)", flush=True)
    return done


def main(argv: list[str] | None = None) -> int:
    """``python -m occface.pretrain --profile quick --jobs 2``: train every notebook's models (or ``--only``'s)
    in worker processes, without running the notebooks (CI does this before its tests); exit 1 if a job failed."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m occface.pretrain", description=main.__doc__)
    parser.add_argument("--profile", default="quick")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="worker processes (one thread each)")
    parser.add_argument("--only", nargs="*", default=list(NOTEBOOK_JOBS), help="notebook stems (default: all)")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.only) - set(NOTEBOOK_JOBS))
    if unknown:
        parser.error(f"no pre-training jobs for {unknown}; choose from {sorted(NOTEBOOK_JOBS)}")
    start = time.perf_counter()
    if args.jobs > 1:
        done = pretrain(args.profile, args.only, args.jobs)
    else:  # one job after another in this process, on one thread as a worker would be
        done = [run_job(args.profile, nb, job) for nb, job in jobs_for(args.only, args.profile)]
    failed = [(nb, job, err) for nb, job, _, err in done if err]
    print(f"pre-trained {len(done) - len(failed)} of {len(done)} job(s) in {time.perf_counter() - start:.0f} s"
          + "".join(f"\n    FAILED {nb}: {job}: {err}" for nb, job, err in failed), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
