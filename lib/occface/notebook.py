"""The first and last cell every notebook shares: profile, seed, threads, results writer, wall time.

    >>> nb = start_notebook("fsg_gan", profile, "LFW deep-funneled (OCCFACE_DATA)")
    >>> P, res = nb.profile, nb.results
    ...
    >>> print(nb.finished())
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from .paths import REPO_ROOT
from .profiles import Profile, get_profile
from .results import Results
from .runtime import hardware_label, seed_everything


@dataclass
class NotebookRun:
    """What a notebook's cells share: its profile, its results writer and when it started."""
    profile: Profile
    results: Results
    started: float = field(default_factory=time.perf_counter)
    reused_before: int = field(default_factory=lambda: len(_reused()))

    def finished(self) -> str:
        """One line for the last cell: wall time, hardware, checkpoints reused and where the results went
        (relative to the repository, or under $OCCFACE_RESULTS: no machine path in a committed output)."""
        reused = len(_reused()) - self.reused_before
        cache = f"{reused} finished checkpoint(s) reused from the cache; " if reused else ""
        return (f"notebook wall time {time.perf_counter() - self.started:.0f} s on {hardware_label()}; {cache}"
                f"results in {shown_folder(self.results.folder)}")


def _reused() -> list[str]:
    from .train import REUSED
    return REUSED


def shown_folder(folder: Path) -> str:
    """A results folder as a notebook prints it: relative to the repository (``results/quick/tour``), else
    under ``$OCCFACE_RESULTS`` (the runner's staging area, a temporary folder in tests)."""
    try:
        return str(Path(folder).resolve().relative_to(REPO_ROOT))
    except ValueError:
        return "$OCCFACE_RESULTS/" + "/".join(Path(folder).parts[-2:])


def start_notebook(topic: str, profile: str | Profile, dataset: str, seed: int = 0, *,
                   threads: int = 1, quiet: bool = False) -> NotebookRun:
    """Validate the profile, seed everything, fix the CPU thread count and open ``results/<profile>/<topic>``.

    Sets the CPU training precision of the profile (``occface.train.set_precision``).
    ``threads``: torch's CPU threads (the machines are shared; one thread avoids oversubscription stalls and
    keeps CPU training bit-identical to the cached checkpoints, which are keyed on it). Ignored on a GPU.
    """
    import torch

    from .train import set_precision

    P = get_profile(profile)
    warnings.filterwarnings("ignore", message=".*does not have a deterministic implementation.*")
    warnings.filterwarnings("ignore", category=FutureWarning)
    if not torch.cuda.is_available():
        torch.set_num_threads(threads)
    seed_everything(seed)
    set_precision(P)  # the profile's CPU training precision: part of every non-fp32 checkpoint key
    run = NotebookRun(P, Results(topic, profile=P.name, dataset=dataset, seed=seed))
    if not quiet:
        print(f"profile {P.name}: {P.image_size} px de-occlusion, {P.recog_size[0]}x{P.recog_size[1]} recognition; "
              f"seed {seed}; {hardware_label()}")
    return run


def check(what: str, got, expected, atol: float = 1e-6, rtol: float = 1e-6) -> None:
    """An exercise's automatic check: ``got`` (the student's answer) must equal ``expected`` (the library's)
    within ``atol + rtol * |expected|``, element-wise; prints one line when it does, raises otherwise."""
    import numpy as np
    import torch

    def plain(x):
        return np.asarray(x.detach().cpu() if isinstance(x, torch.Tensor) else x, dtype=np.float64)

    if got is None or got is Ellipsis:
        raise AssertionError(f"{what}: no answer yet (got {got!r})")
    a, b = plain(got), plain(expected)
    if a.shape != b.shape:
        raise AssertionError(f"{what}: your answer has shape {a.shape}, the library's {b.shape}")
    if not np.allclose(a, b, atol=atol, rtol=rtol, equal_nan=True):
        worst = float(np.nanmax(np.abs(a - b))) if a.size else 0.0
        raise AssertionError(f"{what}: your answer differs from the library's by up to {worst:.3g} "
                             f"(allowed {atol:g} + {rtol:g} x |expected|); yours {np.round(a, 6).ravel()[:6]}, "
                             f"library {np.round(b, 6).ravel()[:6]}")
    print(f"ok: {what}")
