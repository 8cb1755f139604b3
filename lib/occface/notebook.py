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

from .profiles import Profile, get_profile
from .results import Results
from .runtime import hardware_label, seed_everything


@dataclass
class NotebookRun:
    """What a notebook's cells share: its profile, its results writer and when it started."""
    profile: Profile
    results: Results
    started: float = field(default_factory=time.perf_counter)

    def finished(self) -> str:
        """One line for the last cell: wall time, hardware and where the results went."""
        return (f"notebook wall time {time.perf_counter() - self.started:.0f} s on {hardware_label()}; "
                f"results in {self.results.folder}")


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
