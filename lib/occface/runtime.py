"""Seeding, devices and the labels every result carries (hardware, commit)."""

from __future__ import annotations

import os
import platform
import random
import subprocess
from functools import lru_cache

import numpy as np
import torch

from .paths import REPO_ROOT


def seed_everything(seed: int = 0) -> torch.Generator:
    """Seed Python, NumPy and torch (CPU and CUDA) and ask torch for deterministic kernels.

    Returns a fresh ``torch.Generator`` seeded with ``seed`` for code that wants its own stream.
    """
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    torch.cuda.manual_seed_all(seed)
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    torch.use_deterministic_algorithms(True, warn_only=True)
    torch.backends.cudnn.benchmark = False
    return torch.Generator().manual_seed(seed)


def get_device(prefer: str | None = None) -> torch.device:
    """CUDA when present (or ``OCCFACE_DEVICE`` / ``prefer`` says otherwise), else CPU."""
    choice = prefer or os.environ.get("OCCFACE_DEVICE")
    if choice:
        return torch.device(choice)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def autocast(device: torch.device):
    """bf16 autocast on CUDA (where it pays), a no-op context on CPU (keeps CPU runs bit-stable)."""
    enabled = device.type == "cuda"
    return torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=enabled)


@lru_cache(maxsize=1)
def hardware_label() -> str:
    """A short description of where numbers were produced, e.g. 'cpu x2 (x86_64)' or 'NVIDIA H100'."""
    if torch.cuda.is_available():
        return f"{torch.cuda.get_device_name(0)} x{torch.cuda.device_count()}"
    return f"cpu x{os.cpu_count()} ({platform.machine()}), torch {torch.__version__}"


@lru_cache(maxsize=1)
def commit_label() -> str:
    """Short git commit of the repo, '+dirty' when tracked files differ; 'unknown' outside git."""
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=REPO_ROOT, capture_output=True, text=True,
                              timeout=10).stdout.strip()
    try:
        sha = git("rev-parse", "--short=10", "HEAD")
        dirty = git("status", "--porcelain", "--untracked-files=no", "--", "lib", "notebooks")
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    if not sha:
        return "unknown"
    return sha + ("+dirty" if dirty else "")
