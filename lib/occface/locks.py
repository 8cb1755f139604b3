"""Locks of the runner: one per (profile, notebook) while a notebook runs and publishes, and a short one
around publishing into ``results/`` (``fcntl.flock`` on files under ``<cache>/locks``)."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import time
from pathlib import Path

from .paths import cache_dir, cache_root, results_root


class RunnerBusyError(RuntimeError):
    """Another run holds the lock of a (profile, notebook); the message names its PID."""


def _lock_holder(fd: int) -> str:
    """Who holds the lock whose file is open at ``fd`` (it writes its PID into the file once it has it)."""
    deadline = time.time() + 2.0
    while True:
        raw = os.pread(fd, 4096, 0)
        try:
            info = json.loads(raw)
            return f"PID {info['pid']} on {info['host']} (running since {info['started']})"
        except (ValueError, KeyError, TypeError):
            if time.time() > deadline:
                return "another run (its PID is not recorded yet)"
            time.sleep(0.05)


@contextlib.contextmanager
def _flock(path: Path, *, wait: bool, what: str, info: dict | None = None):
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _lock_holder(fd)
            if not wait:
                raise RunnerBusyError(
                    f"{what} is being run by {holder}. Let it finish, or pass --wait to run after it "
                    f"(lock file: {path}).") from None
            print(f"    {what} is being run by {holder}; waiting for it", flush=True)
            fcntl.flock(fd, fcntl.LOCK_EX)
        if info is not None:
            os.ftruncate(fd, 0)
            os.pwrite(fd, json.dumps(info).encode(), 0)
        try:
            yield
        finally:
            if info is not None:
                os.ftruncate(fd, 0)
    finally:
        os.close(fd)  # releases the lock


def notebook_lock(profile: str, notebook: Path, *, wait: bool = False):
    """Exclusive lock of one (profile, notebook) for a run and its publishing; raises RunnerBusyError naming
    the holder's PID when another run holds it (unless ``wait``). Kept in the cache next to the staging."""
    info = {"pid": os.getpid(), "host": socket.gethostname(), "started": time.strftime("%Y-%m-%d %H:%M:%S"),
            "notebook": notebook.name, "profile": profile, "results": str(results_root())}
    return _flock(cache_dir("locks", profile) / f"{notebook.stem}.lock", wait=wait,
                  what=f"{notebook.name} (profile {profile})", info=info)


def notebook_lock_holder(profile: str, notebook: Path) -> str | None:
    """Who holds the lock of (profile, notebook) now ("PID ... on ... (running since ...)"), or None when it
    is free; probed without waiting and without creating anything."""
    path = cache_root() / "locks" / profile / f"{notebook.stem}.lock"
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return _lock_holder(fd)
    else:
        return None
    finally:
        os.close(fd)


def _publish_lock():
    """Short lock around moving files into results/ and rewriting manifests, stamps and the index."""
    info = {"pid": os.getpid(), "host": socket.gethostname(), "started": time.strftime("%Y-%m-%d %H:%M:%S")}
    return _flock(cache_dir("locks") / "publish.lock", wait=True, what="publishing results", info=info)


def training_lock(checkpoint: Path, desc: str = "training"):
    """Exclusive lock of one checkpoint while it trains: a second process asking for the same model (two
    notebooks at once, a test beside a notebook) waits, then reuses the finished checkpoint instead of
    training the same steps again on a shared CPU."""
    info = {"pid": os.getpid(), "host": socket.gethostname(), "started": time.strftime("%Y-%m-%d %H:%M:%S"),
            "checkpoint": str(checkpoint)}
    return _flock(cache_dir("locks", "train") / f"{Path(checkpoint).name}.lock", wait=True,
                  what=f"{desc} ({Path(checkpoint).name})", info=info)
