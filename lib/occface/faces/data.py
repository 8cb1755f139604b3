"""Real faces: LFW (deep-funneled) and ORL, aligned to one five-point template, cached, split by identity.

- ``load_faces("lfw"|"orl", size, split)`` -> :class:`Faces` (images (N,3,H,W) float32 in [0,1]).
- ``lfw_pairs(folds)`` -> the standard View-2 pairs of ``pairs.txt``; ``load_pair_faces`` -> their images.

Alignment uses the committed five-point landmarks (``occface/assets/landmarks_<name>.npz``, recomputed by
``scripts/compute_landmarks.py``) and a least-squares similarity to :func:`template` (FROM Sec. 4.2 /
ArcFace preprocessing). Aligned faces are cached as compressed uint8 arrays under
``occface.paths.cache_dir("faces")``, keyed by a hash of the source checksums, the landmarks and the size.
"""

from __future__ import annotations

import hashlib
import io
import time
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Iterable

import numpy as np
import torch
from PIL import Image, ImageOps
from ..progress import tqdm

from .align import METHOD_NAMES, as_hw, load_landmarks, similarity, template
from ..paths import DataNotFoundError, cache_dir, data_root
from ..results import atomic_write_bytes

__all__ = ["Faces", "Pair", "PairFaces", "template", "load_faces", "lfw_pairs", "load_pair_faces",
           "list_images", "TEST_FOLDS"]

TEST_FOLDS = tuple(range(6, 11))  # View-2 folds 6-10 are our test protocol; training avoids their people
CACHE_VERSION = "faces-v2"  # bump when the warping code changes
ORL_TEST_PEOPLE = 10  # of 40 ORL subjects, held out (seeded) for split="test"


@dataclass
class Faces:
    """Aligned faces. ``names[identity[i]]`` is the person of image ``i``; ``info`` holds the counts
    (images, identities, alignment fallbacks by method, split) that :meth:`report` prints."""
    images: torch.Tensor
    identity: torch.Tensor
    names: list[str]
    landmarks: torch.Tensor
    paths: list[str]
    info: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.paths)

    def pick_people(self, people: int, per_person: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
        """A seeded choice of ``people`` identities (sorted) and the indices of their first ``per_person``
        images, person by person (the t-SNE figures' selection)."""
        chosen = np.sort(np.random.default_rng(seed).choice(len(self.names), people, replace=False))
        ident = self.identity.numpy()
        return np.concatenate([np.flatnonzero(ident == c)[:per_person] for c in chosen]), chosen

    def report(self) -> str:
        i = self.info
        fb = ", ".join(f"{k}: {v}" for k, v in i.get("alignment", {}).items())
        return (f"{i.get('name')} {i.get('split')}: {len(self)} images of {len(self.names)} people at "
                f"{i.get('size')}; alignment {fb}; {i.get('note', '')}").strip()


@dataclass(frozen=True)
class Pair:
    """One View-2 pair: image paths relative to the data root."""
    first: str
    second: str
    same: bool
    fold: int


@dataclass
class PairFaces:
    first: torch.Tensor
    second: torch.Tensor
    landmarks_first: torch.Tensor
    landmarks_second: torch.Tensor
    same: torch.Tensor
    fold: torch.Tensor
    pairs: list[Pair] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.pairs)


# ----------------------------------------------------------------------------------------------- listing
def _root(root: str | Path | None, name: str) -> Path:
    if root is not None:
        return Path(root).expanduser().resolve()
    return data_root(required=("lfw",) if name == "lfw" else ("orl",))


def _lfw_rel(person: str, number: int) -> str:
    return f"lfw/lfw-deepfunneled/{person}/{person}_{number:04d}.jpg"


def list_images(name: str, root: str | Path | None = None) -> list[str]:
    """Every image of data set ``name`` as a path relative to the data root, in a stable order."""
    base = _root(root, name)
    if name == "lfw":
        folder = base / "lfw" / "lfw-deepfunneled"
        found = sorted(p.relative_to(base).as_posix() for p in folder.glob("*/*.jpg"))
    elif name == "orl":
        folder = base / "att_faces"
        key = lambda p: (int(p.parent.name[1:]), int(p.stem))  # noqa: E731  s2 before s10
        found = [p.relative_to(base).as_posix() for p in sorted(folder.glob("s*/*.pgm"), key=key)]
    else:
        raise ValueError(f"unknown face data set {name!r}; use 'lfw' or 'orl'")
    if not found:
        raise ValueError(f"no images under {folder}; point OCCFACE_DATA (or root=) at the folder holding "
                         "lfw/ and att_faces/, or run `make data`")
    return found


def _person(rel: str) -> str:
    return rel.split("/")[-2]


# ------------------------------------------------------------------------------------------- alignment
def warp_to_template(image: Image.Image, src: np.ndarray, hw: tuple[int, int]
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Similarity-warp one PIL image so ``src`` landmarks land on the template; returns (H,W,3) uint8
    and the landmarks in output pixels."""
    h, w = hw
    tform = similarity(src, template(hw))
    k = int(1.0 / tform.scale) if tform.scale < 0.5 else 1
    # box-filter reduction first when shrinking by 2x or more: bilinear sampling alone would alias
    if k > 1:
        image = image.reduce(k)
    inv = np.linalg.inv(tform.params)  # output pixel -> source pixel (pixel-centre coordinates)
    if k > 1:  # source pixel x = k * reduced x + (k-1)/2  ->  reduced = (x - (k-1)/2) / k
        red = np.array([[1 / k, 0, -(k - 1) / (2 * k)], [0, 1 / k, -(k - 1) / (2 * k)], [0, 0, 1]])
        inv = red @ inv
    # PIL samples at output pixel centres (x+0.5) in continuous coords; convert our pixel-centre matrix
    shift = np.array([[1, 0, 0.5], [0, 1, 0.5], [0, 0, 1]])
    m = shift @ inv @ np.linalg.inv(shift)
    out = image.transform((w, h), Image.Transform.AFFINE, data=tuple(m[:2].ravel()),
                          resample=Image.Resampling.BILINEAR)
    return np.asarray(out), tform(src).astype(np.float32)


class DamagedImageError(ValueError):
    """An image file cannot be decoded; the message names it and the fix."""


def read_rgb(path: Path, fix: str = "run `make data`, which verifies every file against the SHA256 lists "
                                    "and downloads damaged ones again") -> Image.Image:
    """The image at ``path`` as a decoded RGB PIL image, upright as it displays (EXIF orientation applied: a
    phone photo stored rotated with Orientation = 6 comes back upright); a truncated or unreadable file raises
    :class:`DamagedImageError` naming the file and ``fix``."""
    try:
        with Image.open(path) as im:
            # decodes the whole file (transposed or copied, then converted): truncation surfaces here
            return ImageOps.exif_transpose(im).convert("RGB")
    except (OSError, SyntaxError, ValueError) as err:
        raise DamagedImageError(f"cannot read image {path} ({type(err).__name__}: {err}); the file is damaged "
                                f"or truncated: {fix}") from None


def source_fingerprint(files: Iterable[Path]) -> bytes:
    """What a cache built from ``files`` depends on: each file's name, size and modification time (a damaged
    or replaced image changes the key; ``--check`` verifies contents against the checksums)."""
    lines = []
    for f in files:
        st = f.stat()
        lines.append(f"{f.name}:{st.st_size}:{st.st_mtime_ns}")
    return "\n".join(lines).encode()


def _cache_key(base: Path, name: str, hw: tuple[int, int], marks: dict) -> str:
    digest = hashlib.sha256()
    for part in (CACHE_VERSION, name, f"{hw[0]}x{hw[1]}"):
        digest.update(part.encode() + b"\0")
    digest.update(source_fingerprint(base / p for p in marks["paths"]))
    digest.update(marks["file"].read_bytes())
    return digest.hexdigest()[:20]


@lru_cache(maxsize=3)
def _aligned(name: str, hw: tuple[int, int], base: Path) -> dict:
    """All faces of ``name`` aligned at ``hw``: uint8 (N,H,W,3), landmarks, paths, method; from the cache
    when present, else built (and timed) once."""
    marks = load_landmarks(name)
    paths = marks["paths"]
    missing = [p for p in paths if not (base / p).exists()]
    if missing:
        raise ValueError(f"{base / missing[0]} (and {len(missing) - 1} more) is missing: the landmark file does "
                         f"not match the data under {base}; check OCCFACE_DATA, run `make data`, or rerun "
                         f"scripts/compute_landmarks.py {name}")
    path = cache_dir("faces") / f"{name}_{hw[0]}x{hw[1]}_{_cache_key(base, name, hw, marks)}.npz"
    start = time.perf_counter()
    if path.exists():
        with np.load(path, allow_pickle=False) as f:
            data = {k: f[k] for k in ("images", "landmarks", "method")}
            data["paths"] = [str(p) for p in f["paths"]]
        data["seconds"], data["cached"] = time.perf_counter() - start, True
        return data
    images = np.empty((len(paths), 3, hw[0], hw[1]), np.uint8)  # stored channel-first: loads need no permute
    out_marks = np.empty((len(paths), 5, 2), np.float32)
    with tqdm(paths, desc=f"aligning {name} faces at {hw[0]}x{hw[1]} (cached once)", mininterval=2.0) as bar:
        for i, rel in enumerate(bar):  # closed even when a face fails to align
            face, out_marks[i] = warp_to_template(read_rgb(base / rel), marks["landmarks"][i].astype(np.float64),
                                                  hw)
            images[i] = face.transpose(2, 0, 1)
    data = {"images": images, "landmarks": out_marks, "method": marks["method"], "paths": paths}
    buffer = io.BytesIO()
    np.savez_compressed(buffer, images=images, landmarks=out_marks, method=marks["method"], paths=np.array(paths))
    atomic_write_bytes(path, buffer.getvalue())  # an interrupted build leaves no half-written cache; a read-only
    # cache is named with OCCFACE_CACHE
    data["seconds"], data["cached"] = time.perf_counter() - start, False
    return data


# ----------------------------------------------------------------------------------------------- pairs
def _read_pairs(path: Path) -> list[tuple[str, int, str, int]]:
    rows = []
    for line in path.read_text().splitlines():
        parts = line.split()
        if len(parts) == 3:
            rows.append((parts[0], int(parts[1]), parts[0], int(parts[2])))
        elif len(parts) == 4:
            rows.append((parts[0], int(parts[1]), parts[2], int(parts[3])))
        # anything else is a header ("10\t300" or a count line), which the View-1 copies may lack
    return rows


def lfw_pairs(folds: Iterable[int] = TEST_FOLDS, root: str | Path | None = None) -> list[Pair]:
    """The standard LFW View-2 pairs of ``pairs.txt`` in the given folds (1-10; 300 same + 300 different
    each, no person in two folds)."""
    base = _root(root, "lfw")
    rows = _read_pairs(base / "lfw" / "pairs.txt")
    if len(rows) != 6000:
        raise ValueError(f"{base / 'lfw/pairs.txt'} has {len(rows)} pairs, expected 6000 (10 folds x 600)")
    folds = sorted(set(int(f) for f in folds))
    if any(f < 1 or f > 10 for f in folds):
        raise ValueError(f"View-2 folds are 1..10, got {folds}")
    out = []
    for i, (p1, n1, p2, n2) in enumerate(rows):
        fold = i // 600 + 1
        if fold in folds:
            out.append(Pair(_lfw_rel(p1, n1), _lfw_rel(p2, n2), p1 == p2, fold))
    return out


def _test_people(base: Path, folds: Iterable[int] = TEST_FOLDS) -> set[str]:
    return {_person(p) for pair in lfw_pairs(folds, base) for p in (pair.first, pair.second)}


# ---------------------------------------------------------------------------------------------- loaders
def _subset(identity_names: list[str], max_images: int, seed: int) -> np.ndarray:
    """Indices of a seeded subset of at most ``max_images`` images, taken person by person (whole people
    in a seeded order, the last one truncated) so the subset keeps several images per person."""
    people = sorted(set(identity_names))
    order = np.random.default_rng(seed).permutation(len(people))
    by_person: dict[str, list[int]] = {}
    for i, n in enumerate(identity_names):
        by_person.setdefault(n, []).append(i)
    chosen: list[int] = []
    for j in order:
        chosen.extend(by_person[people[j]])
        if len(chosen) >= max_images:
            break
    return np.sort(np.array(chosen[:max_images], dtype=np.int64))


def load_faces(name: str = "lfw", size: int | tuple[int, int] = 64, split: str = "train",
               root: str | Path | None = None, max_images: int = 0, seed: int = 0,
               min_per_identity: int = 1) -> Faces:
    """Aligned faces of ``name`` ("lfw" | "orl") at ``size`` (int or (H, W)).

    ``split``: "train" (LFW: people in none of View-2 folds 6-10; ORL: 30 seeded subjects), "test" (the
    others) or "all". ``max_images`` > 0 keeps a seeded, person-wise subset; ``min_per_identity`` drops
    people with fewer images (counted in ``info``). Faces whose detection failed are kept (aligned by the
    fallback) and counted in ``info["alignment"]``.
    """
    if split not in ("train", "test", "all"):
        raise ValueError(f"split must be 'train', 'test' or 'all', got {split!r}")
    if name not in ("lfw", "orl"):
        raise ValueError(f"unknown face data set {name!r}; use 'lfw' or 'orl'")
    hw = as_hw(size)
    try:
        base = _root(root, name)
    except DataNotFoundError as err:
        raise ValueError(str(err)) from None
    data = _aligned(name, hw, base)
    people = [_person(p) for p in data["paths"]]
    if name == "lfw":
        test = _test_people(base)
        note = f"test = people of View-2 folds 6-10 ({len(test)} people)"
    else:
        subjects = sorted(set(people), key=lambda s: int(s[1:]))
        perm = np.random.default_rng(seed).permutation(len(subjects))
        test = {subjects[j] for j in perm[:ORL_TEST_PEOPLE]}
        note = f"test = {ORL_TEST_PEOPLE} of 40 subjects drawn with seed {seed}"
    keep = np.array([split == "all" or ((p in test) == (split == "test")) for p in people])
    idx = np.flatnonzero(keep)
    dropped_few = 0
    if min_per_identity > 1:
        counts: dict[str, int] = {}
        for i in idx:
            counts[people[i]] = counts.get(people[i], 0) + 1
        ok = np.array([counts[people[i]] >= min_per_identity for i in idx], bool)
        dropped_few = int((~ok).sum())
        idx = idx[ok]
    if max_images and len(idx) > max_images:
        idx = idx[_subset([people[i] for i in idx], max_images, seed)]
    sel_people = [people[i] for i in idx]
    names = sorted(set(sel_people))
    lookup = {n: k for k, n in enumerate(names)}
    method = data["method"][idx]
    images = _to_float(data["images"], idx)
    info = {"name": name, "split": split, "size": hw, "images": len(idx), "identities": len(names),
            "alignment": {METHOD_NAMES[m]: int((method == m).sum()) for m in METHOD_NAMES},
            "dropped_min_per_identity": dropped_few, "load_seconds": round(data["seconds"], 3),
            "from_cache": data["cached"], "note": note}
    return Faces(images=images, identity=torch.tensor([lookup[p] for p in sel_people],
                 dtype=torch.int64), names=names, landmarks=torch.from_numpy(data["landmarks"][idx].copy()),
                 paths=[data["paths"][i] for i in idx], info=info)


def _to_float(images: np.ndarray, idx: np.ndarray) -> torch.Tensor:
    """uint8 (N,3,H,W) rows ``idx`` -> float32 in [0,1]; a full selection is converted without a gather."""
    if len(idx) == len(images) and (idx == np.arange(len(images))).all():
        return torch.from_numpy(images).float().div_(255)
    return torch.from_numpy(images[idx]).float().div_(255)


def _balanced(pairs: list[Pair], max_pairs: int, seed: int) -> list[Pair]:
    """A seeded subset of ``max_pairs`` pairs with equal shares per (fold, same/different) stratum."""
    strata: dict[tuple[int, bool], list[int]] = {}
    for i, p in enumerate(pairs):
        strata.setdefault((p.fold, p.same), []).append(i)
    keys = sorted(strata)
    rng = np.random.default_rng(seed)
    share = [max_pairs // len(keys) + (1 if j < max_pairs % len(keys) else 0) for j in range(len(keys))]
    chosen = []
    for key, n in zip(keys, share):
        members = strata[key]
        chosen.extend(members[j] for j in rng.permutation(len(members))[: min(n, len(members))])
    return [pairs[i] for i in sorted(chosen)]


def load_pair_faces(folds: Iterable[int] = TEST_FOLDS, size: int | tuple[int, int] = 64, max_pairs: int = 0,
                    root: str | Path | None = None, seed: int = 0) -> PairFaces:
    """Aligned images of the View-2 pairs of ``folds``; ``max_pairs`` > 0 keeps a balanced, seeded,
    fold-stratified subset (same/different in equal numbers per fold)."""
    hw = as_hw(size)
    try:
        base = _root(root, "lfw")
    except DataNotFoundError as err:
        raise ValueError(str(err)) from None
    pairs = lfw_pairs(folds, base)
    if max_pairs and max_pairs < len(pairs):
        pairs = _balanced(pairs, max_pairs, seed)
    data = _aligned("lfw", hw, base)
    index = {p: i for i, p in enumerate(data["paths"])}
    a = np.array([index[p.first] for p in pairs], np.int64)
    b = np.array([index[p.second] for p in pairs], np.int64)

    return PairFaces(first=_to_float(data["images"], a), second=_to_float(data["images"], b),
                     landmarks_first=torch.from_numpy(data["landmarks"][a].copy()),
                     landmarks_second=torch.from_numpy(data["landmarks"][b].copy()),
                     same=torch.tensor([p.same for p in pairs]), fold=torch.tensor([p.fold for p in pairs]),
                     pairs=pairs)

