"""Seeding, devices and the labels every result carries (hardware, commit).

torch and NumPy are imported where they are used, so ``occface.results`` and the runner's ``--check`` (run by
``make check`` with the system Python, before any venv exists) import this module without them.
"""

from __future__ import annotations

import os
import platform
import random
import subprocess
from functools import lru_cache
from pathlib import Path

from .paths import REPO_ROOT

# What a result depends on: a change here (tracked or untracked, not ignored) makes the working tree
# "dirty" for the commit label and for the runner's refusal to publish default/full results.
# results/, tests/, docs/ and scripts/ do not change what a notebook computes, so they do not count.
DIRTY_PATHS = ("lib", "notebooks", "pyproject.toml")


def seed_everything(seed: int = 0):
    """Seed Python, NumPy and torch (CPU and CUDA) and ask torch for deterministic kernels.

    Returns a fresh ``torch.Generator`` seeded with ``seed`` for code that wants its own stream.
    """
    import numpy as np
    import torch

    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    torch.cuda.manual_seed_all(seed)
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    torch.use_deterministic_algorithms(True, warn_only=True)
    torch.backends.cudnn.benchmark = False
    return torch.Generator().manual_seed(seed)


def get_device(prefer: str | None = None):
    """CUDA when present (or ``OCCFACE_DEVICE`` / ``prefer`` says otherwise), else CPU."""
    import torch

    choice = prefer or os.environ.get("OCCFACE_DEVICE")
    if choice:
        return torch.device(choice)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


@lru_cache(maxsize=1)
def hardware_label() -> str:
    """A short description of where numbers were produced, e.g. 'cpu x2 (x86_64)' or 'NVIDIA H100'."""
    import torch

    if torch.cuda.is_available():
        return f"{torch.cuda.get_device_name(0)} x{torch.cuda.device_count()}"
    return f"cpu x{os.cpu_count()} ({platform.machine()}), torch {torch.__version__}"


def _git(root: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, timeout=10)


def dirty_paths(root: Path | None = None) -> list[str] | None:
    """Paths under ``DIRTY_PATHS`` that differ from HEAD (modified, staged, deleted or untracked and not
    ignored), as ``git status --porcelain`` names them; ``None`` when ``root`` is not a git checkout."""
    root = Path(root or REPO_ROOT)
    try:
        proc = _git(root, "status", "--porcelain", "--untracked-files=all", "--", *DIRTY_PATHS)
    except (OSError, subprocess.SubprocessError):
        return None
    if proc.returncode != 0:
        return None
    return [line[3:] for line in proc.stdout.splitlines() if line.strip()]


@lru_cache(maxsize=8)
def commit_label(root: Path | None = None) -> str:
    """Short git commit of the repo, '+dirty' when ``dirty_paths`` finds changes; 'unknown' outside git.

    Cached per process: a notebook kernel computes it once. ``commit_label.cache_clear()`` recomputes."""
    root = Path(root or REPO_ROOT)
    try:
        sha = _git(root, "rev-parse", "--short=10", "HEAD").stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    if not sha:
        return "unknown"
    return sha + ("+dirty" if dirty_paths(root) else "")
