"""The one way every paper is scored.

- ``verification``: held-out LFW View-2 pairs (folds 6-10, people never trained on) with one image of each
  pair occluded, the first and the second in turn (RLA Sec. 4.3's protocol, doubling the pairs). Scores
  clean pairs, occluded pairs, any de-occluder ``restore(images) -> images`` (judged by the dlib evaluator)
  and any recognizer ``embed(images) -> features``. Returns EER, 10-fold accuracy, TAR@FAR and counts.
- ``identification``: one clean gallery image and five occluded probes per person, five repeats, rank-1/5/10
  (FSG-GAN Table 3).
- ``image_quality``: PSNR / SSIM of restored against clean test faces (RLA Table I, FSG-GAN Table 1, ...),
  and PSNR inside the occluder's mask (hole PSNR); ``clean_input_quality``: a blind restorer on clean faces.
- ``real_occlusions``: any folder of real occluded faces (none ships), laid out as::

      <root>/<person>/clean/*.{jpg,png}      # unoccluded faces of the person
      <root>/<person>/occluded/*.{jpg,png}   # occluded faces of the same person

  Faces must already be aligned to our template (``occface.data.template``) at any square size (they are
  resized): dlib's landmark detector is unreliable on occluded faces, so no detection happens here. Every
  clean x occluded image pair is scored (genuine when the person matches).

Scores: the dlib evaluator uses negative Euclidean distance (its own metric), trained recognizers cosine.
"""

from __future__ import annotations

import errno
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

import numpy as np
import torch

from .metrics import (cosine_matrix, eer, eer_interval, lfw_accuracy, masked_psnr, mean_interval, probe_ranks,
                      psnr, ssim, tar_at_far)
from ..faces.photos import AlignedPhotos
from ..profiles import Profile, get_profile
from .recognizers import cached_embeddings, dlib_evaluator

Restore = Callable[[torch.Tensor], torch.Tensor]
Embed = Callable[[torch.Tensor], np.ndarray]


def _batched(fn: Callable[[torch.Tensor], torch.Tensor], images: torch.Tensor, batch: int = 256) -> torch.Tensor:
    with torch.no_grad():
        return torch.cat([torch.as_tensor(fn(images[i:i + batch])).detach().float().cpu()
                          for i in range(0, len(images), batch)])


def _features(images: torch.Tensor, embed: Embed | None, cache_key: str | None = None) -> np.ndarray:
    """Features of images: the recognizer's, or dlib's (cached when ``cache_key`` names a fixed clean set)."""
    if embed is not None:
        return np.asarray(embed(images), np.float32)
    evaluator = dlib_evaluator()
    if cache_key:
        return cached_embeddings(cache_key, images, evaluator.embed)
    return evaluator.embed(images)


def clean_dlib_features(paths: list[str], images: torch.Tensor) -> np.ndarray:
    """dlib features of clean LFW faces, cached per source image (and per size and landmark file), so every
    subset of pairs, every sweep and every notebook reuses them: ``<cache>/embeddings/dlib-lfw-<H>x<W>-<hash>.npz``."""
    import hashlib

    from ..faces.align import ASSETS
    from ..paths import cache_dir

    h, w = images.shape[-2:]
    marks = (ASSETS / "landmarks_lfw.npz").read_bytes()
    path = cache_dir("embeddings") / f"dlib-lfw-{h}x{w}-{hashlib.sha256(marks).hexdigest()[:10]}.npz"
    known: dict[str, np.ndarray] = {}
    if path.exists():
        with np.load(path, allow_pickle=False) as f:
            known = dict(zip(f["paths"].tolist(), f["features"]))
    first = {}
    for i, p in enumerate(paths):
        first.setdefault(p, i)
    missing = [p for p in first if p not in known]
    if missing:
        feats = dlib_evaluator().embed(images[[first[p] for p in missing]])
        known.update(zip(missing, feats))
        keys = sorted(known)
        tmp = path.with_name(path.name + ".tmp.npz")
        np.savez(tmp, paths=np.array(keys), features=np.stack([known[k] for k in keys]))
        tmp.replace(path)
    return np.stack([known[p] for p in paths]).astype(np.float32)


def _pair_scores(a: np.ndarray, b: np.ndarray, dlib: bool) -> np.ndarray:
    if dlib:
        return -np.linalg.norm(a - b, axis=1)
    a = a / np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1e-12)
    b = b / np.maximum(np.linalg.norm(b, axis=1, keepdims=True), 1e-12)
    return (a * b).sum(1)


def score_summary(scores: np.ndarray, same: np.ndarray, folds: np.ndarray,
                  far: Iterable[float] = (1e-3, 1e-4), cluster: np.ndarray | None = None, seed: int = 0) -> dict:
    """EER, k-fold accuracy (threshold from the other folds) and TAR@FAR (NaN where the FAR is finer than
    1 / impostors, see ``metrics.tar_at_far``), all in [0, 1], with the counts they rest on.

    ``eer_ci`` and ``accuracy_ci`` are 95 % intervals from one seeded bootstrap over View-2 pairs (1,000
    resamples; a pair's ``cluster`` of scores, e.g. its two occlusion turns, is resampled whole): the one
    interval convention of every verification table."""
    same = np.asarray(same, bool)
    out = {"eer": eer(scores[same], scores[~same]),
           "eer_ci": eer_interval(scores, same, cluster, seed=seed)}
    acc = lfw_accuracy(scores, same, folds)
    out.update(accuracy=acc.mean, accuracy_std=acc.std, folds=len(acc.folds),
               accuracy_ci=mean_interval(acc.correct, cluster, seed=seed))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # unresolvable FARs are reported as NaN
        for f in far:
            out[f"tar@far={f:g}"] = float(tar_at_far(scores[same], scores[~same], f))
    out.update(scored_pairs=int(len(scores)), genuine=int(same.sum()), impostor=int((~same).sum()))
    return out


def verification(profile: str | Profile, occlusion: dict | None = None, restore: Restore | None = None,
                 embed: Embed | None = None, size: int | tuple[int, int] | None = None, seed: int = 0,
                 far: Iterable[float] = (1e-3, 1e-4), max_pairs: int | None = None,
                 inpaint: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None,
                 per_pair: bool = False) -> dict:
    """Verification on held-out View-2 pairs (folds 6-10), ``profile.eval_pairs`` of them (balanced, seeded).

    ``occlusion``: kwargs of ``occface.occlusion.occlude`` (e.g. ``dict(kind="sunglasses")``); then the first
    image of each pair is occluded (second clean), and again the second (first clean): 2P scored pairs (RLA).
    ``restore`` is applied to the occluded images only (``inpaint(images, mask)`` instead gets the true
    mask). Without ``embed`` the dlib evaluator scores.
    Accuracy uses 10 folds: each LFW fold 6-10 split in two halves, both occlusion turns of a pair in the
    same fold (so a threshold is never chosen on the other turn of a pair it is tested on).
    Returns ``eer``, ``accuracy``, ``accuracy_std``, ``tar@far=<far>`` (fractions) and counts, seconds;
    ``per_pair`` adds ``correct`` (each scored pair decided right at its fold's threshold) and ``cluster``
    (its View-2 pair), in a fixed order, for paired tests of two methods on the same pairs and occluders
    (``metrics.paired_difference``).
    """
    from ..faces.data import load_pair_faces

    p = get_profile(profile)
    size = size or p.image_size
    started = time.perf_counter()
    pf = load_pair_faces(size=size, max_pairs=max_pairs or p.eval_pairs, seed=seed)
    n = len(pf.same)
    same = pf.same.numpy().astype(bool)
    # pairs.txt lists each fold's same pairs before its different ones, so halves by position would make
    # single-class folds; alternate within each (fold, same) stratum instead (balanced folds)
    within = np.zeros(n, np.int64)
    for f in np.unique(pf.fold.numpy()):
        for flag in (True, False):
            idx = np.flatnonzero((pf.fold.numpy() == f) & (same == flag))
            within[idx] = np.arange(len(idx)) % 2
    folds = (pf.fold.numpy() - pf.fold.numpy().min()) * 2 + within
    dlib = embed is None
    if dlib:
        fa = clean_dlib_features([q.first for q in pf.pairs], pf.first)
        fb = clean_dlib_features([q.second for q in pf.pairs], pf.second)
    else:
        fa, fb = _features(pf.first, embed), _features(pf.second, embed)
    area = float("nan")
    if occlusion is None and restore is None and inpaint is None:
        scores, same_all, folds_all, cluster = _pair_scores(fa, fb, dlib), same, folds, np.arange(n)
        embedded = 2 * n
    else:
        from ..faces.occlusion import occlude

        occ_kw = dict(occlusion or {})
        turns, areas = [], []
        for turn, (images, marks) in enumerate([(pf.first, pf.landmarks_first), (pf.second, pf.landmarks_second)]):
            if occlusion is not None:
                occ = occlude(images, landmarks=marks, seed=seed + turn, **occ_kw)
                shown, areas = occ.images, areas + [occ.area.numpy()]
            else:
                shown = images
            if inpaint is not None and occlusion is not None:  # a mask-requiring method gets the true mask
                shown = torch.cat([inpaint(x, m) for x, m in zip(shown.split(256), occ.mask.split(256))]).clamp(0, 1)
            elif restore is not None:
                shown = _batched(restore, shown).clamp(0, 1)
            turns.append(_features(shown, embed))
        scores = np.concatenate([_pair_scores(turns[0], fb, dlib), _pair_scores(fa, turns[1], dlib)])
        same_all, folds_all, cluster = np.r_[same, same], np.r_[folds, folds], np.r_[np.arange(n), np.arange(n)]
        area = float(np.concatenate(areas).mean()) if areas else 0.0
        embedded = 4 * n
    out = score_summary(scores, same_all, folds_all, far, cluster, seed)
    if per_pair:
        out.update(correct=lfw_accuracy(scores, same_all, folds_all).correct, cluster=cluster)
    out.update(pairs=n, occluded_area=area, images_embedded=embedded, seconds=time.perf_counter() - started,
               evaluator="dlib" if dlib else "embed", size=size)
    return out


@dataclass(frozen=True)
class TestSet:
    """A synthetic evaluation set: occluded faces, the clean faces they came from, the occluder masks
    (1 = occluder) and, where known, each face's occluder kind. Every paper's PSNR/SSIM tables score on one."""
    occluded: torch.Tensor
    clean: torch.Tensor
    mask: torch.Tensor
    kinds: list[str] | None = None


@dataclass(frozen=True)
class Rate:
    """An identification rate (%) with its interval: ``low``/``high`` are mean -/+ one s.d. over gallery draws
    (``interval="sd"``, FSG-GAN's Table 3) or a 95 % bootstrap interval over probes (``"bootstrap"``)."""
    mean: float
    low: float
    high: float
    interval: str


def identification_rates(gallery: tuple[np.ndarray, np.ndarray], probes: tuple[np.ndarray, np.ndarray],
                         ks: Iterable[int], metric: str = "cosine",
                         draws: list[tuple[np.ndarray, np.ndarray]] | None = None, interval: str = "bootstrap",
                         seed: int = 0) -> dict[int, Rate]:
    """Closed-set rank-k identification, the one protocol every paper's table uses (``metrics.probe_ranks``).

    ``gallery`` and ``probes``: (features, labels). ``draws``: (gallery indices, probe indices) pairs, one
    per random choice of the gallery images (None: one draw of everything). ``interval``: ``"sd"`` (mean +- s.d.
    of the rate over draws) or ``"bootstrap"`` (95 % bootstrap over the probes of the draws, pooled)."""
    if interval not in ("sd", "bootstrap"):
        raise ValueError(f"interval must be 'sd' or 'bootstrap', got {interval!r}")
    g_feat, g_lab = gallery
    p_feat, p_lab = probes
    draws = draws or [(np.arange(len(g_lab)), np.arange(len(p_lab)))]
    g_lab, p_lab = np.asarray(g_lab), np.asarray(p_lab)
    ranks = [probe_ranks((g_feat[g], g_lab[g]), (p_feat[p], p_lab[p]), metric) for g, p in draws]
    out = {}
    for k in ks:
        per_draw = [100 * float(np.mean(r < k)) for r in ranks]
        mean = float(np.mean(per_draw))
        if interval == "sd":
            sd = float(np.std(per_draw))
            out[k] = Rate(mean, mean - sd, mean + sd, interval)
        else:
            hit = np.concatenate([(r < k).astype(float) for r in ranks])
            low, high = mean_interval(hit, seed=seed)
            out[k] = Rate(100 * float(hit.mean()), 100 * low, 100 * high, interval)
    return out


def identification(profile: str | Profile, occlusion: dict | None = None, restore: Restore | None = None,
                   embed: Embed | None = None, size: int | tuple[int, int] | None = None, seed: int = 0,
                   people: int | None = None, probes: int = 5, repeats: int = 5,
                   k: Iterable[int] = (1, 5, 10)) -> dict:
    """FSG-GAN Table 3: test people with >= 1 + ``probes`` images; per repeat, one clean gallery image and
    ``probes`` (occluded, restored) probes per person drawn with the repeat's seed; rank-k mean and s.d.

    ``people`` (default: ``eval_pairs // 10``, at least 10) caps the people, taken in a seeded order; every
    image of a chosen person is occluded once (seeded) and embedded once, so repeats cost no embeddings.
    """
    from ..faces.data import load_faces

    p = get_profile(profile)
    size = size or p.image_size
    started = time.perf_counter()
    faces = load_faces("lfw", size=size, split="test", min_per_identity=1 + probes, seed=seed)
    rng = np.random.default_rng(seed)
    ids = faces.identity.numpy()
    chosen = rng.permutation(len(faces.names))[: max(10, people or p.eval_pairs // 10)]
    # at most 3 * (1 + probes) images per person keeps George W. Bush's 500 from dominating the cost
    keep = np.sort(np.concatenate([rng.permutation(np.flatnonzero(ids == c))[: 3 * (1 + probes)] for c in chosen]))
    images, labels = faces.images[keep], ids[keep]
    marks = faces.landmarks[keep]
    dlib = embed is None
    clean = clean_dlib_features([faces.paths[i] for i in keep], images) if dlib else _features(images, embed)
    shown = images
    if occlusion is not None:
        from ..faces.occlusion import occlude

        shown = occlude(images, landmarks=marks, seed=seed, **occlusion).images
    if restore is not None:
        shown = _batched(restore, shown).clamp(0, 1)
    probe_feats = clean if shown is images else _features(shown, embed)
    draws = []
    for r in range(repeats):
        rr = np.random.default_rng(seed * 1000 + r)
        gal, prb = [], []
        for c in chosen:
            members = rr.permutation(np.flatnonzero(labels == c))
            gal.append(members[0])
            prb.extend(members[1:1 + probes])
        draws.append((np.array(gal), np.array(prb)))
    # dlib ranks by Euclidean distance (its metric), recognizers by cosine
    rates = identification_rates((clean, labels), (probe_feats, labels), list(k), draws=draws, interval="sd",
                                 metric="euclidean" if dlib else "cosine")
    out = {f"rank{kk}": rate.mean / 100 for kk, rate in rates.items()}
    out.update({f"rank{kk}_std": (rate.mean - rate.low) / 100 for kk, rate in rates.items()})
    out.update(people=len(chosen), probes=len(chosen) * probes, repeats=repeats, images_embedded=len(keep) * (
        1 if shown is images else 2), seconds=time.perf_counter() - started)
    return out


def quality_intervals(images: torch.Tensor, clean: torch.Tensor, suffix: str = "", seed: int = 0,
                      mask: torch.Tensor | None = None) -> dict:
    """Mean PSNR / SSIM of ``images`` against ``clean`` with 95 % bootstrap intervals over the faces
    (``psnr<suffix>``, ``psnr<suffix>_ci``, ...); with the occluder's ``mask`` also the hole PSNR, PSNR inside
    the mask only (``psnr_hole<suffix>``; faces with an empty mask left out)."""
    out = {}
    for name, fn in (("psnr", psnr), ("ssim", ssim)):
        values = fn(images, clean, per_image=True)
        out[f"{name}{suffix}"] = float(np.mean(values))
        out[f"{name}{suffix}_ci"] = mean_interval(values, seed=seed)
    if mask is not None:
        values = masked_psnr(images, clean, mask, per_image=True)
        values = values[~np.isnan(values)]
        out[f"psnr_hole{suffix}"] = float(np.mean(values)) if values.size else float("nan")
        out[f"psnr_hole{suffix}_ci"] = mean_interval(values, seed=seed) if values.size else (float("nan"),) * 2
    return out


def _test_faces(profile: str | Profile, size, seed: int, max_images: int | None):
    from ..faces.data import load_faces

    p = get_profile(profile)
    return load_faces("lfw", size=size or p.image_size, split="test", max_images=max_images or p.eval_pairs,
                      seed=seed)


def image_quality(restore: Restore | None, profile: str | Profile, occlusion: dict | None = None,
                  size: int | tuple[int, int] | None = None, seed: int = 0, max_images: int | None = None,
                  inpaint: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None) -> dict:
    """PSNR (dB) and SSIM (scikit-image settings) of ``restore(occluded)`` — or ``inpaint(occluded, true
    mask)`` for a mask-requiring method — and of the occluded input itself against the clean held-out test
    faces (``profile.eval_pairs`` of them by default); each with a 95 % bootstrap interval over the faces.
    ``psnr_hole`` / ``psnr_hole_occluded``: PSNR inside the occluder's mask only, where removal happens (the
    whole-image PSNR is mostly the untouched face around it)."""
    from ..faces.occlusion import occlude

    faces = _test_faces(profile, size, seed, max_images)
    occ = occlude(faces.images, landmarks=faces.landmarks, seed=seed, **(occlusion or dict(kind="block_black")))
    out = {"images": len(faces.images), "occluded_area": float(occ.area.mean())}
    out.update(quality_intervals(occ.images, faces.images, "_occluded", seed, occ.mask))
    if restore is not None or inpaint is not None:
        restored = (_batched(restore, occ.images) if inpaint is None
                    else torch.cat([inpaint(x, m) for x, m in zip(occ.images.split(256), occ.mask.split(256))]))
        out.update(quality_intervals(restored.clamp(0, 1), faces.images, "", seed, occ.mask))
    return out


def clean_input_quality(restore: Restore, profile: str | Profile, size: int | tuple[int, int] | None = None,
                        seed: int = 0, max_images: int | None = None,
                        predict_mask: Callable[[torch.Tensor], torch.Tensor] | None = None,
                        threshold: float = 0.5) -> dict:
    """A blind restorer given clean held-out faces (no occluder): a de-occluder should leave them alone.
    ``psnr_clean_input``: PSNR of its output against its own (clean) input; with ``predict_mask`` (the hole
    probability the method computes on its way, e.g. OA-GAN's 1 - M, RLA's S^det) also
    ``predicted_area_clean``: the fraction of the face it marks as occluded (> ``threshold``). Each with a
    95 % bootstrap interval over the faces."""
    faces = _test_faces(profile, size, seed, max_images)
    restored = _batched(restore, faces.images).clamp(0, 1)
    values = psnr(restored, faces.images, per_image=True)
    finite = values[np.isfinite(values)]  # an untouched face has infinite PSNR: counted, not averaged
    out = {"images": len(faces.images), "unchanged_faces": int((~np.isfinite(values)).sum()),
           "psnr_clean_input": float(np.mean(finite)) if finite.size else float("inf"),
           "psnr_clean_input_ci": mean_interval(finite, seed=seed) if finite.size else (float("inf"),) * 2}
    if predict_mask is not None:
        area = (_batched(predict_mask, faces.images) > threshold).float().flatten(1).mean(1).numpy()
        out.update(predicted_area_clean=float(area.mean()), predicted_area_clean_ci=mean_interval(area, seed=seed))
    return out


IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".pgm", ".ppm", ".webp", ".tif", ".tiff")  # what Pillow reads
PARTS = ("clean", "occluded")  # matched without case: Occluded/ is occluded/


@dataclass
class FolderFaces:
    """A real-occlusion folder, aligned: ``clean`` / ``occluded`` photos (each an ``AlignedPhotos``), the
    person index of each, and the people's folder names."""
    clean: AlignedPhotos
    clean_person: np.ndarray
    occluded: AlignedPhotos
    occluded_person: np.ndarray
    people: list[str]

    @property
    def undetected(self) -> int:
        return self.clean.undetected + self.occluded.undetected


def _unreadable(path: Path) -> str | None:
    """Why a link under a photo folder cannot be followed (a loop, a missing target), else None."""
    try:
        path.stat()
    except OSError as err:
        why = {errno.ELOOP: "a link loop", errno.ENOENT: "a link to a missing file"}.get(err.errno, err.strerror)
        return f"{path} ({why})"
    return None


def _part(person: Path, part: str) -> Path | None:
    found = sorted(d for d in person.iterdir() if d.name.lower() == part and d.is_dir())
    return found[0] if found else None


def _photos(folder: Path, problems: list[str], ignored: list[str]) -> list[Path]:
    """The photos of one ``clean``/``occluded`` folder (accepted suffixes, links followed); unreadable links
    go to ``problems``, files of other suffixes to ``ignored``."""
    files = []
    for f in sorted(folder.iterdir()):
        if f.suffix.lower() not in IMAGE_SUFFIXES:
            ignored.append(f.name)
        elif (why := _unreadable(f)) is not None:
            problems.append(why)
        else:
            files.append(f)
    return files


def _person_folders(root: Path) -> tuple[dict[str, dict[str, Path | None]], list[str]]:
    """{person: {"clean": folder or None, "occluded": folder or None}} and the entries that cannot be read."""
    people, problems = {}, []
    for d in sorted(root.iterdir()):
        if (why := _unreadable(d)) is not None:
            problems.append(why)
        elif d.is_dir():
            parts = {part: _part(d, part) for part in PARTS}
            if any(parts.values()):
                people[d.name] = parts
    return people, problems


def load_folder(root: str | Path, size: int = 64) -> FolderFaces:
    """A folder of ``<person>/clean/`` and ``<person>/occluded/`` photos (names matched without case; the
    suffixes of ``IMAGE_SUFFIXES``), every face detected and aligned on the template like LFW
    (``occface.faces.photos``; undetected faces use a central box and are counted). A person with clean
    photos only is kept as an impostor (their photos join the clean side), one with occluded photos only is
    left out (no clean photo to match); both are named in a warning. A link that cannot be followed (a
    loop, a missing target) is an error naming it."""
    from ..faces.photos import align_photos

    root = Path(root)
    if not root.is_dir():
        raise ValueError(f"{root} is not a folder of <person>/clean/ + <person>/occluded/ faces")
    people, problems = _person_folders(root)
    files: dict[str, list[tuple[str, Path]]] = {part: [] for part in PARTS}
    ignored: list[str] = []
    for person, parts in people.items():
        for part, folder in parts.items():
            if folder is not None:
                files[part] += [(person, f) for f in _photos(folder, problems, ignored)]
    if problems:
        raise ValueError(f"{root}: {len(problems)} entr{'y' if len(problems) == 1 else 'ies'} cannot be read: "
                         f"{'; '.join(problems[:10])}. Fix or remove these links, then run again.")
    complete = [p for p in people if all(people[p].values())]
    if not complete:
        raise ValueError(f"{root} holds no <person>/clean/ + <person>/occluded/ folders "
                         "(see occface.eval.protocols.load_folder)")
    has = {part: {person for person, _ in files[part]} for part in PARTS}
    for part in PARTS:
        if not has[part]:
            seen = f"; ignored files of other types: {', '.join(sorted(set(ignored))[:5])}" if ignored else ""
            raise ValueError(f"no {part} images under {root}/*/{part}/: accepted suffixes are "
                             f"{', '.join(IMAGE_SUFFIXES)} (any case){seen}")
    clean_only = sorted(has["clean"] - has["occluded"])
    occluded_only = sorted(has["occluded"] - has["clean"])
    left = []
    if clean_only:
        left.append(f"{', '.join(clean_only)}: clean photos but no occluded ones, kept as impostors only")
    if occluded_only:
        left.append(f"{', '.join(occluded_only)}: occluded photos but no clean ones to match, left out")
    if left:
        warnings.warn(f"{root}: " + "; ".join(left), UserWarning, stacklevel=2)
    kept = sorted(has["clean"])
    index = {person: j for j, person in enumerate(kept)}
    parts = {}
    for part in PARTS:
        chosen = [(index[person], f) for person, f in files[part] if person in index]
        parts[part] = (align_photos([f for _, f in chosen], size), np.array([j for j, _ in chosen]))
    return FolderFaces(*parts["clean"], *parts["occluded"], kept)


def real_occlusions(root: str | Path, restore: Restore | None = None, embed: Embed | None = None,
                    size: int = 64, far: Iterable[float] = (1e-2, 1e-3), folds: int = 10, seed: int = 0) -> dict:
    """Score a folder of real occluded faces (aligned like LFW, see :func:`load_folder`; ``undetected``
    counts the faces aligned from the central-box fallback): every clean x occluded pair (genuine when same person),
    EER / k-fold accuracy (seeded random folds) / TAR@FAR, plus rank-1 identification of each occluded face
    against all clean faces. ``restore`` is applied to the occluded faces only."""
    data = load_folder(root, size)
    ci, cl, oi, ol = data.clean.images, data.clean_person, data.occluded.images, data.occluded_person
    if restore is not None:
        oi = _batched(restore, oi).clamp(0, 1)
    dlib = embed is None
    fc, fo = _features(ci, embed), _features(oi, embed)
    if dlib:
        scores = -np.linalg.norm(fo[:, None] - fc[None], axis=2)
    else:
        scores = cosine_matrix(fo, fc)
    same = ol[:, None] == cl[None]
    fold_id = np.random.default_rng(seed).permutation(same.size) % min(folds, same.size)
    out = score_summary(scores.ravel(), same.ravel(), fold_id, far)
    best = np.full((len(oi), cl.max() + 1), -np.inf)
    np.maximum.at(best.T, cl, scores.T)
    out.update(rank1=float(np.mean(best.argmax(1) == ol)), people=int(cl.max() + 1), clean_images=len(ci),
               occluded_images=len(oi), undetected=data.undetected)
    return out


__all__ = ["verification", "identification", "image_quality", "clean_input_quality", "quality_intervals",
           "real_occlusions", "score_summary", "load_folder"]
