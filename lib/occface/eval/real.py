"""Real occlusions from LFW itself: held-out people's photos with natural sunglasses or eyeglasses.

RLA's Table II uses 50OccPeople, never released. LFW carries Kumar et al.'s attribute classifiers' flags
(``occface.faces.attributes``; Sunglasses on 130 photos, Eyeglasses on 1,536). Among the held-out people
(those in View-2 folds 6-10, never trained on), :func:`natural_occlusion_set` takes the photos flagged with
one of the chosen kinds as *occluded* and the same people's photos flagged with no natural occlusion at all
(no Sunglasses, Eyeglasses, Wearing Hat nor Obstructed Forehead) as *clean*, and lays them out as the
real-photo protocol reads any folder (``occface.eval.protocols.real_occlusions``)::

    <cache>/real_occlusions/<name>/<Person>/clean/<Person>_0001.jpg     -> the LFW photo (a symbolic link)
    <cache>/real_occlusions/<name>/<Person>/occluded/<Person>_0007.jpg

so LFW's natural set and a user's own folder (``OCCFACE_REAL_OCCLUSIONS``) go through exactly the same
alignment (``occface.faces.photos.align_photos``: dlib's detector and landmarks onto the project's
template) and scoring. The flags are classifier outputs, not manual labels (the README found 15 of 16
Sunglasses photos and 16 of 16 Eyeglasses photos right by eye).

Sizes: every occluded photo of a chosen person is kept (up to ``occluded_per_person``), and up to
``clean_per_person`` clean photos (a seeded choice, so George W. Bush's 500 photos do not dominate): the
protocol scores every clean x occluded pair, genuine when the person matches.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from ..faces.attributes import attributes_folder, lfw_attributes
from ..faces.data import TEST_FOLDS, lfw_pairs, list_images
from ..paths import cache_dir, data_root

FLAGS = {"sunglasses": "Sunglasses", "eyeglasses": "Eyeglasses"}
NATURAL_OCCLUSIONS = ("Sunglasses", "Eyeglasses", "Wearing Hat", "Obstructed Forehead")  # none on a clean photo


@dataclass(frozen=True)
class NaturalSelection:
    """The chosen photos (paths relative to the data root) per person: ``clean`` and ``occluded``."""
    clean: dict[str, list[str]]
    occluded: dict[str, list[str]]

    @property
    def counts(self) -> dict[str, int]:
        return {"people": len(self.occluded), "clean": sum(map(len, self.clean.values())),
                "occluded": sum(map(len, self.occluded.values()))}


def _person(path: str) -> str:
    return Path(path).parts[-2]


def select_natural(kinds: tuple[str, ...] = ("sunglasses", "eyeglasses"), clean_per_person: int = 2,
                   occluded_per_person: int = 4, max_people: int = 0, seed: int = 0) -> NaturalSelection:
    """The held-out people (View-2 folds 6-10) with at least one photo flagged as one of ``kinds`` and at
    least one flagged with no natural occlusion; seeded caps per person, and at most ``max_people`` people
    (0 = all) in a seeded order."""
    unknown = [k for k in kinds if k not in FLAGS]
    if unknown or not kinds:
        raise ValueError(f"kinds {kinds!r}: choose among {tuple(FLAGS)}")
    folder = attributes_folder()
    if folder is None:
        raise FileNotFoundError("no LFW attributes: $OCCFACE_DATA/lfw/attributes must hold "
                                "lfw_binary_attributes2.npz and filelist.txt (see its README; `make data`)")
    paths = list_images("lfw")
    test = {_person(p) for pair in lfw_pairs(TEST_FOLDS) for p in (pair.first, pair.second)}
    paths = [p for p in paths if _person(p) in test]
    values, known, names = lfw_attributes(paths, folder)
    col = {n: values[:, names.index(n)] for n in NATURAL_OCCLUSIONS}
    occluded = known & np.any([col[FLAGS[k]] for k in kinds], axis=0)
    # a photo flagged with a kind we did not ask for is neither: it would blur the kinds apart
    clean = known & ~np.any([col[n] for n in NATURAL_OCCLUSIONS], axis=0)
    by = {"clean": {}, "occluded": {}}
    for i, p in enumerate(paths):
        for part, flags in (("clean", clean), ("occluded", occluded)):
            if flags[i]:
                by[part].setdefault(_person(p), []).append(p)
    people = sorted(set(by["clean"]) & set(by["occluded"]))
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(people))
    if max_people:
        order = order[:max_people]
    chosen = sorted(people[j] for j in order)

    def cap(files: list[str], n: int) -> list[str]:
        return sorted(files) if len(files) <= n else sorted(rng.choice(sorted(files), n, replace=False).tolist())

    return NaturalSelection({p: cap(by["clean"][p], clean_per_person) for p in chosen},
                            {p: cap(by["occluded"][p], occluded_per_person) for p in chosen})


def _materialise(selection: NaturalSelection, name: str) -> Path:
    """The selection as a ``<person>/clean|occluded/`` folder of links to the LFW photos (copies where the
    file system has no symbolic links), built once under the cache and renamed into place atomically."""
    base = data_root(required=("lfw",))
    target = cache_dir("real_occlusions") / name
    if (target / "selection.json").exists():
        return target
    scratch = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{name}."))
    os.chmod(scratch, 0o755)  # mkdtemp's 0700 would survive the rename
    try:
        for part in ("clean", "occluded"):
            for person, files in getattr(selection, part).items():
                (scratch / person / part).mkdir(parents=True, exist_ok=True)
                for f in files:
                    link = scratch / person / part / Path(f).name
                    try:
                        os.symlink(base / f, link)
                    except OSError:
                        shutil.copy2(base / f, link)
        (scratch / "selection.json").write_text(json.dumps({"clean": selection.clean,
                                                            "occluded": selection.occluded}, indent=1))
        try:
            os.replace(scratch, target)
        except OSError:  # another process finished the same folder first
            shutil.rmtree(scratch, ignore_errors=True)
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)
        raise
    return target


def natural_occlusion_set(size: int, kinds: tuple[str, ...] = ("sunglasses", "eyeglasses"),
                          clean_per_person: int = 2, occluded_per_person: int = 4, max_people: int = 0,
                          seed: int = 0) -> Path:
    """LFW's held-out photos with natural ``kinds`` of occlusion and the same people's clean photos, as the
    folder ``occface.eval.protocols.real_occlusions(root, size=size)`` scores (see the module docstring).
    The faces are aligned at ``size`` here once (cached), so the protocol's own call finds them ready.

    >>> root = natural_occlusion_set(64, kinds=("sunglasses",))
    >>> real_occlusions(root, restore=my_method, size=64)["eer"]
    """
    selection = select_natural(tuple(kinds), clean_per_person, occluded_per_person, max_people, seed)
    if not selection.occluded:
        raise ValueError(f"no held-out person has both a {'/'.join(kinds)} photo and a clean one")
    key = json.dumps([selection.clean, selection.occluded], sort_keys=True).encode()
    name = f"lfw-{'-'.join(sorted(kinds))}-{hashlib.sha256(key).hexdigest()[:10]}"
    root = _materialise(selection, name)
    from .protocols import load_folder

    load_folder(root, size)  # detect + align once at this size (align_photos caches it)
    return root


def selection_of(root: str | Path) -> NaturalSelection | None:
    """The selection a :func:`natural_occlusion_set` folder was built from (None for a user's own folder)."""
    path = Path(root) / "selection.json"
    if not path.exists():
        return None
    data = json.loads(path.read_text())
    return NaturalSelection(data["clean"], data["occluded"])


# ------------------------------------------------------------------------------------------------ scoring
def _sorted_roc_inputs(scores: np.ndarray, same: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Order (descending score, stable) and the last index of each run of tied scores."""
    order = np.argsort(-scores, kind="mergesort")
    ranked = scores[order]
    last_of_tie = np.r_[np.flatnonzero(np.diff(ranked)), ranked.size - 1]
    return order, same[order], last_of_tie


def weighted_eer(scores: np.ndarray, same: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """:func:`occface.eval.metrics.eer` of the scores each repeated ``weights`` times, for every row of
    ``weights`` (R,N) at once: one sort instead of R (a bootstrap resample is a vector of counts)."""
    order, label, last = _sorted_roc_inputs(np.asarray(scores, np.float64), np.asarray(same, bool))
    w = np.atleast_2d(weights)[:, order].astype(np.float64)
    tp = np.cumsum(w * label, axis=1)[:, last]
    fp = np.cumsum(w * ~label, axis=1)[:, last]
    with np.errstate(invalid="ignore", divide="ignore"):
        tpr = np.c_[np.zeros(len(w)), tp / tp[:, -1:]]
        fpr = np.c_[np.zeros(len(w)), fp / fp[:, -1:]]
    diff = (1.0 - tpr) - fpr  # decreasing from 1 to -1: the first index past the crossing, interpolated
    j = np.argmax(diff <= 0, axis=1)
    rows = np.arange(len(w))
    d0, d1 = diff[rows, np.maximum(j - 1, 0)], diff[rows, j]
    f0, f1 = fpr[rows, np.maximum(j - 1, 0)], fpr[rows, j]
    with np.errstate(invalid="ignore", divide="ignore"):
        t = np.where((j == 0) | (d1 == 0), 1.0, d0 / (d0 - d1))
    out = f0 + t * (f1 - f0)
    out[(tp[:, -1] == 0) | (fp[:, -1] == 0)] = np.nan  # a resample without genuine or without impostor pairs
    return out


def clustered_eer(scores: np.ndarray, same: np.ndarray, cluster: np.ndarray, resamples: int = 1000,
                  seed: int = 0, level: float = 0.95) -> tuple[float, tuple[float, float]]:
    """EER and its seeded bootstrap interval, whole ``cluster``s resampled: the same draws as
    ``metrics.eer_interval`` (``rng.integers`` over the clusters), as counts instead of gathered copies."""
    from .metrics import bootstrap_interval

    ids, inverse = np.unique(cluster, return_inverse=True)
    draw = np.random.default_rng(seed).integers(len(ids), size=(resamples, len(ids)))
    reps = []
    for chunk in np.array_split(draw, max(1, resamples // 100)):
        counts = np.stack([np.bincount(d, minlength=len(ids)) for d in chunk])
        reps.append(weighted_eer(scores, same, counts[:, inverse]))
    point = float(weighted_eer(scores, same, np.ones((1, len(scores))))[0])
    return point, bootstrap_interval(np.concatenate(reps), level)


@dataclass
class RealSet:
    """A real-occlusion folder aligned once: faces, person of each, and which occluded photos belong to
    each subset (for LFW's natural set: "sunglasses", "eyeglasses" and "together"; else only "all")."""
    clean: torch.Tensor
    clean_person: np.ndarray
    occluded: torch.Tensor
    occluded_person: np.ndarray
    subsets: dict[str, np.ndarray]
    undetected: int
    root: Path


def load_real_set(root: str | Path, size: int) -> RealSet:
    """A ``<person>/clean|occluded/`` folder (``protocols.load_folder``), with the kind subsets of a
    :func:`natural_occlusion_set` folder when it was built with both kinds."""
    from .protocols import load_folder

    data = load_folder(root, size)
    n = len(data.occluded.images)
    subsets = {"all": np.ones(n, bool)}
    selection = selection_of(root)
    if selection is not None:
        folder = attributes_folder()
        files = [f for person in data.people for f in sorted(selection.occluded.get(person, []))]
        if folder is not None and len(files) == n:
            values, _, names = lfw_attributes(files, folder)
            for kind, flag in FLAGS.items():
                subsets[kind] = values[:, names.index(flag)]
            subsets = {"sunglasses": subsets["sunglasses"], "eyeglasses": subsets["eyeglasses"],
                       "together": subsets.pop("all")}
    return RealSet(data.clean.images, data.clean_person, data.occluded.images, data.occluded_person, subsets,
                   data.undetected, Path(root))


def score_real_set(data: RealSet, restore=None, seed: int = 0) -> dict[str, dict]:
    """EER of every clean x occluded pair (genuine when the person matches), judged by the dlib evaluator,
    per subset: {subset: {"eer", "eer_ci", "genuine", "impostor", "occluded"}}. The interval is a seeded
    bootstrap over the occluded photos (each with all its pairs, which share that photo), 1,000 resamples.
    ``restore`` (a de-occluder) is applied to the occluded photos only. The same pairs as
    ``protocols.real_occlusions``, scored once for all subsets, with an interval that respects the pairs'
    dependence on their photo."""
    from .protocols import _batched
    from .recognizers import cached_embeddings, dlib_evaluator

    evaluator = dlib_evaluator()
    shown = data.occluded if restore is None else _batched(restore, data.occluded).clamp(0, 1)
    fc, fo = cached_embeddings("dlib-real-clean", data.clean, evaluator.embed), evaluator.embed(shown)
    scores = -np.linalg.norm(fo[:, None] - fc[None], axis=2)  # dlib's own metric: closer = same
    same = data.occluded_person[:, None] == data.clean_person[None]
    out = {}
    for name, sel in data.subsets.items():
        if not sel.any():
            continue
        s, y = scores[sel], same[sel]
        cluster = np.repeat(np.arange(len(s)), s.shape[1])
        value, ci = clustered_eer(s.ravel(), y.ravel(), cluster, seed=seed)
        out[name] = {"eer": value, "eer_ci": ci, "genuine": int(y.sum()), "impostor": int((~y).sum()),
                     "occluded": int(sel.sum())}
    return out


def user_note(data: RealSet) -> str:
    """The note every table scored on the user's folder (``OCCFACE_REAL_OCCLUSIONS``) carries: what it holds
    and how many faces were not detected (aligned from the central box, so scored on a guess)."""
    return (f"OCCFACE_REAL_OCCLUSIONS={data.root}: {len(data.occluded)} occluded and {len(data.clean)} clean "
            f"photos of {len(set(data.clean_person.tolist()))} people, read upright (EXIF orientation applied); "
            f"{data.undetected} of {len(data.occluded) + len(data.clean)} faces not detected, aligned from the "
            "central box.")


__all__ = [
    "NaturalSelection",
    "RealSet",
    "clustered_eer",
    "load_real_set",
    "natural_occlusion_set",
    "real_sets",
    "score_real_set",
    "select_natural",
    "selection_of",
    "user_note",
    "weighted_eer",
]


def real_sets(size: int, people: int = 0, seed: int = 0,
              log: Callable[[str], None] | None = print) -> dict[str, RealSet]:
    """The real-occlusion sets RLA's Table II and the benchmark score, aligned at ``size``: LFW's held-out photos
    with natural sunglasses or eyeglasses (at most ``people`` people, 0 = all) under "lfw" and, when
    ``OCCFACE_REAL_OCCLUSIONS`` names a folder, the user's own photos under "user"."""
    sets = {}
    try:
        sets["lfw"] = load_real_set(natural_occlusion_set(size, max_people=people, seed=seed), size)
    except FileNotFoundError as err:  # no attributes folder: a user's folder can still be scored
        if log:
            log(f"no LFW natural-occlusion set: {err}")
    folder = os.environ.get("OCCFACE_REAL_OCCLUSIONS")
    if folder:
        if not os.path.isdir(folder):
            raise ValueError(f"OCCFACE_REAL_OCCLUSIONS={folder} is not a folder; point it at a folder of "
                             "<person>/clean/ and <person>/occluded/ photos, or unset it")
        sets["user"] = load_real_set(folder, size)
    elif log:
        log("OCCFACE_REAL_OCCLUSIONS is not set: no folder of your own photos to score")
    return sets
