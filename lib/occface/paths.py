"""Where things live. Everything is overridable by environment variables.

- ``OCCFACE_DATA``     root of the real data (``lfw/``, ``att_faces/``, ``occluders/``). Required.
- ``OCCFACE_CACHE``    aligned faces, embeddings, checkpoints (default ``~/.cache/occface``).
- ``OCCFACE_RESULTS``  root holding ``<profile>/<paper>/`` result folders (default ``<repo>/results``).

Relative values are resolved against the current directory when read, and every function here returns an
absolute path: notebook kernels start in ``notebooks/``, so the runner exports the resolved values to them.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
DATA_FOLDERS = {"lfw": "lfw", "orl": "att_faces", "occluders": "occluders"}


class DataNotFoundError(FileNotFoundError):
    """Raised when the face data cannot be found; the message says how to get it."""


def data_root(required: tuple[str, ...] = ("lfw", "occluders")) -> Path:
    """The directory named by ``OCCFACE_DATA``, checked to hold the ``required`` data sets."""
    value = os.environ.get("OCCFACE_DATA")
    if not value:
        raise DataNotFoundError(
            "OCCFACE_DATA is not set. Point it at the data folder (the one holding lfw/, att_faces/, "
            "occluders/), e.g. `export OCCFACE_DATA=../shared/data` (a relative path is taken from the folder "
            "you run make in), or run `make data` to download it."
        )
    root = Path(value).expanduser().resolve()
    missing = [DATA_FOLDERS[name] for name in required if not (root / DATA_FOLDERS[name]).is_dir()]
    if missing:
        raise DataNotFoundError(
            f"OCCFACE_DATA={value} has no {', '.join(missing)}/ folder. "
            "Point OCCFACE_DATA at the folder holding lfw/, att_faces/ and occluders/, or run `make data`."
        )
    return root


class CacheNotWritableError(OSError):
    """Raised when the cache folder cannot be created or written; the message names OCCFACE_CACHE."""


def cache_root() -> Path:
    """The cache root (``OCCFACE_CACHE`` or ``~/.cache/occface``), absolute; not created."""
    return Path(os.environ.get("OCCFACE_CACHE") or Path.home() / ".cache" / "occface").expanduser().resolve()


def cache_dir(*parts: str) -> Path:
    """A folder under the cache root (``OCCFACE_CACHE`` or ``~/.cache/occface``), created on demand."""
    path = cache_root().joinpath(*parts)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise CacheNotWritableError(
            f"cannot create the cache folder {path} ({err.strerror or err}). The cache root comes from "
            f"OCCFACE_CACHE={os.environ.get('OCCFACE_CACHE', '(unset: ~/.cache/occface)')}; point it at a "
            "folder you can write, e.g. `export OCCFACE_CACHE=$HOME/.cache/occface`.") from err
    return path


def cache_write_error(err: OSError, path: Path) -> OSError:
    """``err`` from writing ``path``, as a ``CacheNotWritableError`` naming OCCFACE_CACHE when ``path`` is in the
    cache and the error is a permission or read-only one (a cache made read-only mid-run); else ``err``."""
    import errno

    root = cache_root()
    if err.errno not in (errno.EACCES, errno.EPERM, errno.EROFS) or not Path(path).resolve().is_relative_to(root):
        return err
    return CacheNotWritableError(
        err.errno, f"cannot write {path} ({err.strerror}): the cache folder {root} is not writable. It comes from "
        f"OCCFACE_CACHE={os.environ.get('OCCFACE_CACHE', '(unset: ~/.cache/occface)')}; make it writable again "
        "(chmod u+w, remount read-write) or point OCCFACE_CACHE at a folder you can write.")


def results_root() -> Path:
    """Root of the result folders: ``OCCFACE_RESULTS`` (the runner points it at a staging area) or ``results/``."""
    return Path(os.environ.get("OCCFACE_RESULTS") or REPO_ROOT / "results").expanduser().resolve()
