"""What the runner checks before any work: the profile's values, the data files and landmark assets the
notebooks read, writable cache and results folders, and (``--check``) the data's SHA256 checksums, cached
by (path, size, mtime). Each ``*_problem(s)`` function returns messages that name the problem and the fix."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

from .paths import DATA_FOLDERS, REPO_ROOT, cache_root, results_root
from .profiles import Profile, get_profile

LIB_DIR = REPO_ROOT / "lib" / "occface"
CHECKSUM_DIR = REPO_ROOT / "data" / "checksums"

REQUIRED_DATA = (("lfw/pairs.txt", "LFW View-2 pairs"),
                 ("lfw/lfw-deepfunneled/", "LFW deep-funneled images"),
                 ("occluders/index.csv", "occluder index"))
REQUIRED_ASSETS = {"lfw": "landmarks_lfw.npz", "orl": "landmarks_orl.npz"}
OPTIONAL_LISTED = ("README", "README.md", "SHA256SUMS", "lfw-names.derived.txt")




_POSITIVE = ("image_size", "steps", "batch", "width", "eval_pairs", "tsne_people", "tsne_images")


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def profile_problems(name: str) -> list[str]:
    """What is wrong with profile ``name``'s values (each message names the profile and the field); raises
    ValueError for an unknown profile."""
    import dataclasses

    prof = get_profile(name)
    problems: list[str] = []

    def bad(field: str, why: str) -> None:
        problems.append(f"profile {name!r}: {field} = {getattr(prof, field)!r} {why} "
                        f"(defined in lib/occface/profiles.py)")

    if prof.name != name:
        bad("name", f"differs from the name it is registered under ({name!r})")
    for f in dataclasses.fields(Profile):
        value = getattr(prof, f.name)
        if f.name in _POSITIVE:
            if not _is_int(value) or value <= 0:
                bad(f.name, "must be a positive integer")
        elif f.type in ("int", int) and (not _is_int(value) or value < 0):
            bad(f.name, "must be an integer >= 0")
    if prof.train_precision not in ("fp32", "bf16"):
        bad("train_precision", "must be 'fp32' or 'bf16'")
    size = prof.recog_size
    if not (isinstance(size, (tuple, list)) and len(size) == 2 and all(_is_int(v) and v > 0 for v in size)):
        bad("recog_size", "must be (height, width), two positive integers")
    return problems


def data_file_problems(root: Path) -> list[str]:
    """The files the notebooks read under the data root, each named when missing or empty."""
    problems = []
    for rel, what in REQUIRED_DATA:
        path = root / rel.rstrip("/")
        if rel.endswith("/"):
            ok = path.is_dir() and next(path.iterdir(), None) is not None
        else:
            ok = path.is_file() and path.stat().st_size > 0
        if not ok:
            problems.append(f"{what}: {path}{'/' if rel.endswith('/') else ''} is missing or empty. Run `make data` "
                            "(or point OCCFACE_DATA at the project's data package).")
    return problems


def asset_problems(root: Path | None) -> list[str]:
    """The committed landmark files (lib/occface/assets) exist and are readable archives."""
    import zipfile

    problems = []
    for name, file in REQUIRED_ASSETS.items():
        if name != "lfw" and (root is None or not (root / DATA_FOLDERS[name]).is_dir()):
            continue
        path = LIB_DIR / "assets" / file
        rel = path.relative_to(REPO_ROOT) if path.is_relative_to(REPO_ROOT) else path
        fix = (f"restore it with `git checkout -- {rel}` or recompute it with "
               f"`python scripts/compute_landmarks.py {name}`")
        if not path.is_file():
            problems.append(f"landmark asset {path} is missing; {fix}")
            continue
        try:
            with zipfile.ZipFile(path) as archive:
                broken = archive.testzip()
        except (zipfile.BadZipFile, OSError) as err:
            broken = str(err)
        if broken:
            problems.append(f"landmark asset {path} is damaged ({broken}); {fix}")
    return problems


def user_photos_problem() -> str | None:
    """``OCCFACE_REAL_OCCLUSIONS``, when set, must name a folder (a typo would silently score nothing)."""
    value = os.environ.get("OCCFACE_REAL_OCCLUSIONS")
    if value and not Path(value).expanduser().is_dir():
        return (f"OCCFACE_REAL_OCCLUSIONS={value} is not a folder. Point it at a folder of <person>/clean/ and "
                "<person>/occluded/ photos, or unset it to score LFW's natural occlusions only.")
    return None


def nearest_existing(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def writable_problem(folder: Path, what: str, fix: str) -> str | None:
    """None when files can be created in ``folder`` (or, where it does not exist yet, in the nearest existing
    folder above it, where it would be created); else a message naming the folder and the fix."""
    target = folder if folder.exists() else nearest_existing(folder)
    if not target.is_dir():
        return f"{what} {folder} is not a writable folder: {target} is not a folder. {fix}"
    try:
        fd, probe = tempfile.mkstemp(dir=target, prefix=".occface-write-test-")
        os.close(fd)
        os.unlink(probe)
    except OSError as err:
        where = "" if target == folder else f" (it would be created in {target})"
        return f"{what} {folder} is not writable{where}: {err.strerror or err}. {fix}"
    return None


def cache_problem() -> str | None:
    value = os.environ.get("OCCFACE_CACHE")
    what = f"OCCFACE_CACHE={value}:" if value else "the cache folder"
    return writable_problem(cache_root(), what, "Point OCCFACE_CACHE at a folder you can write (it holds "
                            "aligned faces, checkpoints and the runner's staging), or unset it for ~/.cache/occface.")


def results_problems(profile: str) -> list[str]:
    """The results root (index), results/<profile> and every folder already under it must be writable."""
    root = results_root()
    folders = [root, root / profile]
    if (root / profile).is_dir():
        folders += sorted(Path(d) for d, _, _ in os.walk(root / profile))
    fix = "Make it writable (chmod u+w) or point OCCFACE_RESULTS at a writable folder."
    problems = []
    for folder in dict.fromkeys(folders):
        problem = writable_problem(folder, "the results folder", fix)
        if problem:
            problems.append(problem)
    return problems


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _checksum_list(folder: str, base: Path) -> Path | None:
    """The committed list ``data/checksums/<folder>.SHA256SUMS``, else the data folder's own SHA256SUMS."""
    for candidate in (CHECKSUM_DIR / f"{folder}.SHA256SUMS", base / "SHA256SUMS"):
        if candidate.is_file():
            return candidate
    return None


def verify_data_checksums(root: Path) -> tuple[list[str], dict]:
    """Check every file of the SHA256 lists under the data root. Returns the damaged files (``folder/path
    (why)``) and counts; documentation files no notebook reads (``OPTIONAL_LISTED``) that are missing or differ
    are not damage, they are listed in ``stats["documentation"]`` when they differ. Digests are cached in ``<cache>/data-checksums.json`` by (path, size, mtime), so a
    second check hashes only files that changed; a damaged file with unchanged size and mtime is not caught
    by a cached check (delete the cache file to re-hash everything)."""
    cache_file = cache_root() / "data-checksums.json"
    try:
        cache = json.loads(cache_file.read_text())
    except (OSError, ValueError):
        cache = {}
    if not isinstance(cache, dict) or cache.get("version") != 1 or not isinstance(cache.get("files"), dict):
        cache = {"version": 1, "files": {}}
    known = cache["files"]
    damaged: list[str] = []
    stats = {"checked": 0, "hashed": 0, "unlisted": [], "documentation": []}
    for folder in sorted(set(DATA_FOLDERS.values())):
        base = root / folder
        if not base.is_dir():
            continue
        listing = _checksum_list(folder, base)
        if listing is None:
            stats["unlisted"].append(folder)
            continue
        for line in listing.read_text().splitlines():
            if not line.strip() or line.startswith("#"):
                continue
            expected, _, rel = line.strip().partition(" ")
            rel = rel.lstrip(" *")
            rel = rel[2:] if rel.startswith("./") else rel
            path, shown = base / rel, f"{folder}/{rel}"
            try:
                st = path.stat()
            except OSError:
                if Path(rel).name not in OPTIONAL_LISTED:
                    damaged.append(f"{shown} (missing)")
                continue
            hit = known.get(str(path))
            if isinstance(hit, list) and len(hit) == 3 and hit[:2] == [st.st_size, st.st_mtime_ns]:
                digest = hit[2]
            else:
                try:
                    digest = _sha256(path)
                except OSError as err:
                    damaged.append(f"{shown} (unreadable: {err.strerror or err})")
                    continue
                known[str(path)] = [st.st_size, st.st_mtime_ns, digest]
                stats["hashed"] += 1
            stats["checked"] += 1
            if digest != expected.lower():
                if Path(rel).name in OPTIONAL_LISTED:
                    stats["documentation"].append(shown)  # read by no notebook: a warning, not an error
                else:
                    damaged.append(f"{shown} (checksum differs)")
    if stats["hashed"]:
        from .results import atomic_write_text
        try:
            atomic_write_text(cache_file, json.dumps(cache, separators=(",", ":")))
        except OSError:
            pass  # an unwritable cache is reported on its own; the check itself stands
    return damaged, stats
