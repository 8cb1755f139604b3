"""One benchmark for all five papers (notebooks/60_benchmark): every de-occlusion method in the registry and
FROM, on the same held-out LFW people (View-2 folds 6-10), the same unseen-half occluder templates
(``templates="test"``) at three sizes, and the same scorers (``occface.eval.protocols``).

The test grid is occluder kind x size: semantic placement (each occluder where it belongs on the face) at
0.75, 1 and 1.25 times the kind's natural size, about 12, 20 and 29 % of the face image averaged over the
nine kinds. Every cell of the grid is one ``protocols.verification`` call judged by dlib. The leaderboard and
the per-kind heat map read the medium size, which gets the most pairs and where PSNR / SSIM
(``image_quality``), FaceNet verification and rank-1 identification are also measured, kind by kind; the
small and large sizes only add the points of the accuracy-against-area curves.

Leaderboard numbers are macro averages over the kinds (every kind weighs the same). The protocols return
each kind's 95 % bootstrap interval, not its resamples, so a leaderboard interval is the mean of the kinds'
bounds. The spread of a mean is at most the mean of the spreads whatever the kinds' correlation (they share
their View-2 pairs), so this interval is at least about as wide as a bootstrap interval of the mean itself:
conservative. Rank-1 intervals are mean +- s.d. over the gallery draws (FSG-GAN Table 3's convention, as
``protocols.identification`` reports).

Who gets what: restorers get the occluded face; inpainters also the true occluder mask (the protocols'
``inpaint=``); FROM does not restore, it recognises through the occluder with its own features, so its row
has recognition columns only (EER / accuracy with its own features, rank-1) and no dlib or FaceNet numbers.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from typing import Callable, Iterable, Sequence

import numpy as np
import torch

from ..eval.real import real_sets, user_note  # the notebook calls benchmark.real_sets
from ..faces.occlusion import KINDS
from ..profiles import Profile, ProfileConfig, get_profile
from ..results import Cell
from ..tables import Table
from ..eval import protocols

SIZES: dict[str, float] = {"small": 0.75, "medium": 1.0, "large": 1.25}  # semantic scale of the kind's size
LEADERBOARD_SIZE = "medium"
REFERENCES = ("clean", "occluded")


def occlusion(kind: str, size: str) -> dict:
    """``occface.faces.occlusion.occlude`` kwargs of one grid cell: unseen templates, semantic placement."""
    return dict(kind=kind, scale=SIZES[size], templates="test")


# --------------------------------------------------------------------------------------------- budget


@dataclass(frozen=True)
class Budget(ProfileConfig):
    """How much of the held-out data each measurement uses (the profiles differ only here)."""
    kinds: tuple[str, ...]      # occluder kinds of the grid
    pairs: int                  # View-2 pairs per kind at the leaderboard size, dlib (x2: each image occluded)
    curve_pairs: int            # View-2 pairs per kind at the other two sizes (the area curve only)
    facenet_pairs: int          # pairs per kind for the FaceNet columns (FaceNet costs ~5 dlib embeddings)
    people: int                 # identification: people per kind (one clean gallery image each; >= 10)
    probes: int                 # identification: occluded probes per person
    quality_faces: int          # PSNR / SSIM: held-out faces per kind
    speed_faces: int            # faces timed for faces/s
    real_people: int = 0        # LFW natural-occlusion set: at most this many people (0 = all)

    def __post_init__(self) -> None:
        unknown = [k for k in self.kinds if k not in KINDS]
        if not self.kinds or unknown:
            raise ValueError(f"Budget.kinds must name occluder kinds of {KINDS}, got {self.kinds!r}")
        counts = {k: getattr(self, k) for k in ("pairs", "curve_pairs", "facenet_pairs", "people", "probes",
                                                "quality_faces", "speed_faces")}
        if any(int(v) < 1 for v in counts.values()):  # 0 would mean "the profile's default" to the protocols
            raise ValueError(f"every Budget count must be at least 1, got {counts}")

    # quick: two kinds (upper and lower face), a handful of pairs: about 80 s of CPU with cached models.
    # default: ~3,150 restorations and ~2,500 dlib + 180 FaceNet embeddings per method; scoring measured 30-36 s
    # a row (the occluded reference and an identity restorer, one thread on the shared 2-core machine), so ~8 min
    # for 15 rows, plus the methods' own time: CoopNets' 100 Langevin steps at ~4 faces/s (~13 min), PM at ~22
    # faces/s (~2.5 min), the networks well under a minute each; about 30 min with cached checkpoints.
    PER_PROFILE = {
        "quick": dict(kinds=("sunglasses", "mouth_mask"), pairs=8, curve_pairs=4, facenet_pairs=4, people=10,
                      probes=1, quality_faces=32, speed_faces=32, real_people=40),
        "default": dict(kinds=KINDS, pairs=60, curve_pairs=20, facenet_pairs=10, people=10, probes=2,
                        quality_faces=50, speed_faces=64),
        "full": dict(kinds=KINDS, pairs=1000, curve_pairs=300, facenet_pairs=300, people=100, probes=5,
                     quality_faces=1000, speed_faces=1024),
    }


# --------------------------------------------------------------------------------------------- contestants


@dataclass
class Contestant:
    """One row of the benchmark. ``role``: "restorer" (occluded face in, face out), "inpainter" (also the true
    mask), "recognizer" (features through the occluder: FROM), or "reference" (the clean and the occluded
    face, scored as they are)."""
    name: str
    role: str
    fn: Callable | None = None
    paper: str = ""
    size: int | tuple[int, int] | None = None   # input size where it differs from the profile's
    load_seconds: float = 0.0

    def __post_init__(self) -> None:
        if self.role not in ("restorer", "inpainter", "recognizer", "reference"):
            raise ValueError(f"{self.name}: role must be restorer, inpainter, recognizer or reference, "
                             f"got {self.role!r}")
        if self.role == "reference" and self.name not in REFERENCES:
            raise ValueError(f"reference rows are {REFERENCES}, got {self.name!r}")
        if self.role != "reference" and self.fn is None:
            raise ValueError(f"{self.name}: a {self.role} needs its callable")

    @property
    def needs_mask(self) -> bool:
        return self.role == "inpainter"

    @property
    def restores(self) -> bool:
        return self.role in ("restorer", "inpainter")


# variants ranked beside their paper's method: RLA's mask-supervised detector (beyond the paper) against RLA's own
RANKED_VARIANTS = ("rla-supervised",)


def method_names(include_variants: bool = False) -> list[str]:
    """Every registered de-occlusion method (``registry.available()``, so a newly registered one such as GFC
    is picked up), without the "occluded" pass-through (a reference row here) and, unless asked, without a
    paper's ablation variants: a name that extends another registered name ("fsg-gan-official",
    "id-gan-woid") is that method's variant, except the :data:`RANKED_VARIANTS`."""
    from .. import methods as registry

    names = [n for n in registry.available() if n != "occluded"]
    if include_variants:
        return names
    return [n for n in names if n in RANKED_VARIANTS
            or not any(n.startswith(other + "-") for other in names if other != n)]


def load_contestants(profile: str | Profile, names: Sequence[str] | None = None, with_from: bool = True,
                     log: Callable[[str], None] | None = print) -> list[Contestant]:
    """The reference rows, every method of ``names`` (default :func:`method_names`) trained or loaded at
    ``profile`` through the registry, and FROM (``occface.papers.from_``), each timed."""
    from .. import methods as registry

    p = get_profile(profile)
    out = [Contestant("clean", "reference", paper="reference: no occluder"),
           Contestant("occluded", "reference", paper="reference: the occluded input as it is")]
    for name in (method_names() if names is None else names):
        started = time.perf_counter()
        m = registry.method(name)
        fn = registry.inpainter(name, p) if m.kind == "inpainter" else registry.restorer(name, p)
        out.append(Contestant(m.name, m.kind, fn, m.paper, load_seconds=time.perf_counter() - started))
        if log:
            log(f"{m.name:>12}: {m.kind:9s} ready in {out[-1].load_seconds:5.1f} s")
    if with_from:
        out.append(from_contestant(p))
        if log:
            log(f"{'FROM':>12}: recognizer ready in {out[-1].load_seconds:5.1f} s")
    return out


def from_contestant(profile: str | Profile) -> Contestant:
    """FROM (K = 5, lambda = 1, fine-tuned from its Baseline; ``papers/from_/train.py``) as a recognizer at its
    own input size."""
    from ..papers.from_.train import FROMModels

    started = time.perf_counter()
    models = FROMModels(profile)
    net = models.model("FROM")
    return Contestant("FROM", "recognizer", lambda images: net.embed(images).numpy(), "Qiu et al., TPAMI 2021",
                      size=models.config.input_size, load_seconds=time.perf_counter() - started)


# --------------------------------------------------------------------------------------------- helpers


def memoized(embed: Callable[[torch.Tensor], np.ndarray]) -> Callable[[torch.Tensor], np.ndarray]:
    """``embed`` with a per-image cache keyed on the pixels. ``verification`` embeds the clean halves of its
    pairs anew on every call; with FaceNet (~0.1 s a face on one core) that would cost more than the
    occluded halves, and the clean faces are the same in every call."""
    cache: dict[bytes, np.ndarray] = {}

    def run(images: torch.Tensor) -> np.ndarray:
        flat = images.detach().float().cpu().contiguous()
        keys = [hashlib.blake2b(x.numpy().tobytes(), digest_size=16).digest() for x in flat]
        todo = list(dict.fromkeys(k for k in keys if k not in cache))
        if todo:
            first = {k: i for i, k in reversed(list(enumerate(keys)))}
            feats = np.asarray(embed(flat[[first[k] for k in todo]]), np.float32)
            cache.update(zip(todo, feats))
        return np.stack([cache[k] for k in keys]) if keys else np.zeros((0, 1), np.float32)

    return run


class TrueMaskRestorer:
    """An inpainter turned into a restorer that finds the true occluder mask itself, for
    ``protocols.identification`` (which takes ``restore=`` only, no ``inpaint=``). Each occluded probe is
    matched to its clean source among ``clean`` (the identification's test faces): ``occlude`` leaves every
    pixel outside the occluder bit-identical, so the source is the face it equals on most of a fixed sample of
    pixels, and the mask is where the two differ (= ``Occlusion.mask`` except where an occluder pixel happens
    to equal the face's, which changes nothing an inpainter could see)."""

    def __init__(self, inpaint: Callable, clean: torch.Tensor, sample: int = 512, seed: int = 0):
        self.inpaint, self.clean = inpaint, clean.float().contiguous()
        d = self.clean[0].numel()
        self.pixels = torch.from_numpy(np.random.default_rng(seed).choice(d, min(sample, d), replace=False))
        self.signatures = self.clean.flatten(1)[:, self.pixels]

    def sources(self, occluded: torch.Tensor) -> torch.Tensor:
        """Index into ``clean`` of each occluded face's source."""
        probe = occluded.float().flatten(1)[:, self.pixels]
        equal = torch.cat([(probe[:, None] == chunk[None]).sum(-1) for chunk in self.signatures.split(512)], 1)
        best, source = equal.max(1)
        if (best < len(self.pixels) // 4).any():
            raise ValueError("an occluded probe matches none of the clean faces on 1/4 of its pixels: "
                             "TrueMaskRestorer needs the clean faces the probes were occluded from")
        return source

    def masks(self, occluded: torch.Tensor) -> torch.Tensor:
        """(N,1,H,W) 1 where ``occluded`` differs from its matched clean source."""
        return (occluded.float() != self.clean[self.sources(occluded)]).any(1, keepdim=True).float()

    def __call__(self, occluded: torch.Tensor) -> torch.Tensor:
        return self.inpaint(occluded, self.masks(occluded))


def faces_per_second(c: Contestant, images: torch.Tensor, mask: torch.Tensor, warmup: int = 4) -> float | None:
    """Inference rate of one contestant on ``images`` (and their true ``mask``), in one call after a small
    warm-up call (first-call allocations and lazy imports are not the method's speed); None for references."""
    if c.role == "reference":
        return None
    run = {"restorer": lambda x, m: c.fn(x), "inpainter": lambda x, m: c.fn(x, m),
           "recognizer": lambda x, m: c.fn(x)}[c.role]
    with torch.no_grad():
        run(images[:warmup], mask[:warmup])
        started = time.perf_counter()
        run(images, mask)
        return len(images) / max(time.perf_counter() - started, 1e-9)


# --------------------------------------------------------------------------------------------- evaluation


@dataclass
class Scores:
    """Everything measured for one contestant. ``grid``: (kind, size) -> ``verification`` (dlib; FROM: its
    own features); ``facenet``, ``quality``, ``identification``: kind -> protocol result at the leaderboard
    size (empty where the contestant has no such number)."""
    name: str
    role: str
    paper: str = ""
    grid: dict[tuple[str, str], dict] = field(default_factory=dict)
    facenet: dict[str, dict] = field(default_factory=dict)
    quality: dict[str, dict] = field(default_factory=dict)
    identification: dict[str, dict] = field(default_factory=dict)
    clean_input: dict = field(default_factory=dict)  # restorers: ``protocols.clean_input_quality``
    faces_per_second: float | None = None
    seconds: float = 0.0

    @property
    def needs_mask(self) -> bool:
        return self.role == "inpainter"


def _clean_test_faces(size, probes: int, seed: int) -> torch.Tensor:
    from ..faces.data import load_faces

    # the exact set protocols.identification draws its people from
    return load_faces("lfw", size=size, split="test", min_per_identity=1 + probes, seed=seed).images


def evaluate(c: Contestant, profile: str | Profile, budget: Budget, facenet: Callable | None = None,
             sizes: Iterable[str] = tuple(SIZES), seed: int = 0) -> Scores:
    """Score one contestant on the whole grid (dlib, or FROM's own features) and, at the leaderboard size, on
    image quality, FaceNet verification (when ``facenet`` is given) and rank-1 identification.

    The clean reference has no occluder: each protocol runs once and its result stands in every cell."""
    p = get_profile(profile)
    started = time.perf_counter()
    s = Scores(c.name, c.role, c.paper)
    size = c.size or p.image_size
    ver = dict(far=(), seed=seed, size=size)
    act = {"restorer": dict(restore=c.fn), "inpainter": dict(inpaint=c.fn), "recognizer": dict(embed=c.fn),
           "reference": {}}[c.role]
    ident = dict(people=budget.people, probes=budget.probes, seed=seed, size=size, k=(1,))
    if c.role == "recognizer":
        ident["embed"] = c.fn
    elif c.role == "restorer":
        ident["restore"] = c.fn
    elif c.role == "inpainter":
        ident["restore"] = TrueMaskRestorer(c.fn, _clean_test_faces(size, budget.probes, seed), seed=seed)

    if c.name == "clean":
        v = protocols.verification(p, max_pairs=budget.pairs, **ver)
        f = protocols.verification(p, max_pairs=budget.facenet_pairs, embed=facenet, **ver) if facenet else None
        i = protocols.identification(p, **ident)
        s.grid = {(k, z): v for k in budget.kinds for z in sizes}
        s.facenet = {k: f for k in budget.kinds} if f else {}
        s.identification = {k: i for k in budget.kinds}
        s.seconds = time.perf_counter() - started
        return s

    for kind in budget.kinds:
        for z in sizes:
            pairs = budget.pairs if z == LEADERBOARD_SIZE else budget.curve_pairs
            s.grid[kind, z] = protocols.verification(p, occlusion=occlusion(kind, z), max_pairs=pairs, **ver, **act)
        occ = occlusion(kind, LEADERBOARD_SIZE)
        if c.role != "recognizer":
            restore = act.get("restore")
            s.quality[kind] = protocols.image_quality(restore, p, occlusion=occ, seed=seed,
                                                      max_images=budget.quality_faces, inpaint=act.get("inpaint"))
            if facenet is not None:
                s.facenet[kind] = protocols.verification(p, occlusion=occ, max_pairs=budget.facenet_pairs,
                                                         embed=facenet, **ver, **act)
        s.identification[kind] = protocols.identification(p, occlusion=occ, **ident)
    if c.role == "restorer":  # a blind de-occluder should leave a clean face alone
        from .compare import mask_predictor

        s.clean_input = protocols.clean_input_quality(c.fn, p, seed=seed, max_images=budget.quality_faces,
                                                      predict_mask=mask_predictor(c.fn)[0])
    s.seconds = time.perf_counter() - started
    return s


def timing_faces(profile: str | Profile, n: int, seed: int = 0, size=None) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` held-out faces with medium test-half sunglasses and their masks: what faces/s is measured on."""
    from ..faces.data import load_faces
    from ..faces.occlusion import occlude

    faces = load_faces("lfw", size=size or get_profile(profile).image_size, split="test", max_images=n, seed=seed)
    occ = occlude(faces.images, landmarks=faces.landmarks, seed=seed, **occlusion("sunglasses", LEADERBOARD_SIZE))
    return occ.images, occ.mask


# --------------------------------------------------------------------------------------------- leaderboard


def _macro(results: Iterable[dict], key: str, scale: float = 100.0) -> tuple[float, float, float] | None:
    """Mean over kinds of ``result[key]`` and the means of its interval bounds (``<key>_ci``), scaled."""
    results = [r for r in results if r is not None]
    if not results:
        return None
    value = float(np.mean([r[key] for r in results]))
    lo, hi = np.mean([r[f"{key}_ci"] for r in results], axis=0)
    return scale * value, scale * float(lo), scale * float(hi)


def _rank1(results: Iterable[dict]) -> tuple[float, float, float] | None:
    results = [r for r in results if r is not None]
    if not results:
        return None
    mean = float(np.mean([r["rank1"] for r in results]))
    sd = float(np.mean([r["rank1_std"] for r in results]))
    return 100 * mean, 100 * max(0.0, mean - sd), 100 * min(1.0, mean + sd)


def _quality_key(s: Scores, metric: str) -> str | None:
    if s.name == "occluded":
        return f"{metric}_occluded"
    return metric if s.role in ("restorer", "inpainter") else None


def _clean_input_columns(clean_input: dict) -> dict[str, tuple]:
    """PSNR of a blind restorer's output against the clean face it was given, and the share of that face its
    mask marks as occluded (where it predicts one)."""
    row = {}
    if "psnr_clean_input" in clean_input:
        row["PSNR on clean input"] = (clean_input["psnr_clean_input"], *clean_input["psnr_clean_input_ci"])
    if "predicted_area_clean" in clean_input:
        lo, hi = clean_input["predicted_area_clean_ci"]
        row["mask area on clean"] = (100 * clean_input["predicted_area_clean"], 100 * lo, 100 * hi)
    return row


COLUMNS = ("needs mask", "PSNR", "hole PSNR", "SSIM", "PSNR on clean input", "mask area on clean", "dlib accuracy",
           "dlib EER", "FaceNet accuracy", "FaceNet EER",
           "own-features accuracy", "own-features EER", "rank-1", "faces/s")


def summary(s: Scores, size: str = LEADERBOARD_SIZE) -> dict[str, tuple[float, float | None, float | None]]:
    """One leaderboard row: column -> (value, ci_low, ci_high), for the columns this contestant has."""
    kinds = list(dict.fromkeys(k for k, _ in s.grid))
    at_size = [s.grid[k, size] for k in kinds if (k, size) in s.grid]
    row: dict[str, tuple] = {}
    if s.role != "reference":
        row["needs mask"] = (float(s.needs_mask), None, None)
    for metric, column in (("psnr", "PSNR"), ("psnr_hole", "hole PSNR"), ("ssim", "SSIM")):
        key = _quality_key(s, metric)
        if key and s.quality and all(key in q for q in s.quality.values()):
            row[column] = _macro(s.quality.values(), key, scale=1.0)
    row.update(_clean_input_columns(s.clean_input))
    prefix = "own-features" if s.role == "recognizer" else "dlib"
    if at_size:
        row[f"{prefix} accuracy"] = _macro(at_size, "accuracy")
        row[f"{prefix} EER"] = _macro(at_size, "eer")
    if s.facenet:
        row["FaceNet accuracy"] = _macro(s.facenet.values(), "accuracy")
        row["FaceNet EER"] = _macro(s.facenet.values(), "eer")
    if s.identification:
        row["rank-1"] = _rank1(s.identification.values())
    if s.faces_per_second is not None:
        row["faces/s"] = (s.faces_per_second, None, None)
    return {k: v for k, v in row.items() if v is not None}


UNITS = {"needs mask": "1 = yes", "PSNR": "dB", "hole PSNR": "dB", "SSIM": "", "PSNR on clean input": "dB",
         "mask area on clean": "% of the face", "faces/s": "faces/s"}


def ranking(scores: Sequence[Scores]) -> list[Scores]:
    """Rows sorted by dlib accuracy (best first; ties by name); rows without one (FROM) last."""
    def key(s: Scores):
        acc = summary(s).get("dlib accuracy")
        return (acc is None, -(acc[0] if acc else 0.0), s.name)
    return sorted(scores, key=key)


def leaderboard(scores: Sequence[Scores], budget: Budget, profile: str | Profile) -> Table:
    """The leaderboard table: one row per contestant sorted by dlib accuracy, macro averages over the kinds at
    the medium size with their intervals, faces/s, and whether the method needs the mask at test time."""
    p = get_profile(profile)
    rows = {s.name: summary(s) for s in ranking(scores)}
    columns = [col for col in COLUMNS if any(col in row for row in rows.values())]
    cells = []
    for name, row in rows.items():  # every column in every row (empty where it does not apply): fixed order
        for col in columns:
            value, lo, hi = row.get(col, (None, None, None))
            cells.append(Cell(name, col, value, unit=UNITS.get(col, "%"), ci_low=lo, ci_high=hi))
    kinds = ", ".join(budget.kinds)
    notes = [
        f"Held-out LFW people (View-2 folds 6-10) at {p.image_size} px; occluders: unseen-half templates of "
        f"{kinds}, semantic placement, medium size (scale {SIZES[LEADERBOARD_SIZE]}); every number is the mean "
        f"over these {len(budget.kinds)} kinds.",
        f"Verification: {budget.pairs} View-2 pairs per kind (dlib) and {budget.facenet_pairs} (FaceNet), each "
        "image of a pair occluded in turn; EER and 10-fold accuracy. Rank-1: one clean gallery image and "
        f"{budget.probes} occluded probe(s) per person, {budget.people} people, 5 gallery draws, dlib. "
        f"PSNR / SSIM on {budget.quality_faces} faces per kind; hole PSNR: PSNR inside the occluder's mask only "
        "(where removal happens; the occluded row: the occluder itself).",
        f"Blind restorers on {budget.quality_faces} clean faces: PSNR on clean input = PSNR of the output against "
        "the clean face it was given (a de-occluder should leave it alone; an untouched face, infinite PSNR, is "
        "left out of the mean); mask area on clean = % of the face its predicted mask (> 0.5) marks occluded, "
        "for methods that predict one (OA-GAN's 1 - M, RLA's S^det).",
        "Intervals: the mean over kinds of each kind's 95 % bootstrap bounds (pairs or faces resampled), at least "
        "about as wide as an interval of the mean itself (conservative). Rank-1: +- s.d. over the gallery draws.",
        "needs mask = 1: an inpainter, given the true occluder mask at test time (an advantage the restorers do "
        "not have). FROM recognises through the occluder with its own features (own-features columns, "
        f"{'x'.join(map(str, from_size(p)))} px input; its rank-1 too); it restores nothing, so it has no "
        "PSNR, SSIM, dlib or FaceNet numbers.",
        f"faces/s: one call on this machine ({torch.get_num_threads()} CPU thread(s)) after a warm-up; restorers "
        "and inpainters at the profile's size, FROM's embedding at its own size.",
        "Sorted by dlib accuracy. Training on LFW's other people at CPU scale, not the papers' data sets: "
        "absolute numbers are far from the papers', the common protocol is the point.",
    ]
    return Table("leaderboard", cells, "Every method on one protocol: image quality, verification (dlib, FaceNet), "
                 "rank-1, speed", notes, digits=2)


def from_size(profile: str | Profile) -> tuple[int, int]:
    from ..papers.from_.model import FROMConfig

    return tuple(FROMConfig.for_profile(get_profile(profile)).input_size)


def grid_table(scores: Sequence[Scores], budget: Budget) -> Table:
    """dlib accuracy (FROM: its own features) in every grid cell (kind x size), with the cell's interval, and
    each size's occluded area."""
    cells = []
    for s in ranking(scores):
        for (kind, size), r in s.grid.items():
            lo, hi = r["accuracy_ci"]
            cells.append(Cell(s.name, f"{kind} {size}", 100 * r["accuracy"], ci_low=100 * lo, ci_high=100 * hi))
    area = areas(scores)
    for (kind, size), a in area.items():
        cells.append(Cell("occluded area", f"{kind} {size}", 100 * a))
    return Table("grid", cells, "10-fold verification accuracy (%) per occluder kind and size (dlib; FROM: its "
                 "own features)", [f"View-2 pairs x 2 occlusion turns per cell: {budget.pairs} at the "
                                   f"{LEADERBOARD_SIZE} size, {budget.curve_pairs} at the others; 95 % bootstrap "
                                   "intervals; sizes: " + ", ".join(f"{k} = {v}x" for k, v in SIZES.items())], 1)


def areas(scores: Sequence[Scores]) -> dict[tuple[str, str], float]:
    """Mean occluded-area fraction of each grid cell (from the occluded reference, else any restorer)."""
    for s in sorted(scores, key=lambda s: s.name != "occluded"):
        if s.role != "recognizer" and s.name != "clean" and s.grid:
            return {key: r["occluded_area"] for key, r in s.grid.items()}
    return {}


def kind_accuracy(s: Scores, size: str = LEADERBOARD_SIZE) -> dict[str, float]:
    """Accuracy (%) per occluder kind at ``size`` (the leaderboard's, where the pairs are): the heat map's row."""
    return {k: 100 * r["accuracy"] for (k, z), r in s.grid.items() if z == size}


def best_per_kind(scores: Sequence[Scores], roles: Sequence[str] = ("restorer", "inpainter")) -> dict[str, str]:
    """Per occluder kind, the method (of ``roles``) with the highest dlib accuracy at the leaderboard size
    (ties: first by name)."""
    rows = {s.name: kind_accuracy(s) for s in sorted(scores, key=lambda s: s.name) if s.role in roles}
    kinds = list(dict.fromkeys(k for r in rows.values() for k in r))
    return {k: max(rows, key=lambda n: rows[n].get(k, -1.0)) for k in kinds}


# --------------------------------------------------------------------------------------------- figures


def _style(s: Scores) -> dict:
    if s.name == "occluded":
        return dict(color="black", ls="--", lw=1.5)
    if s.role == "recognizer":
        return dict(ls=":", lw=1.8)
    return dict(ls="-" if s.role == "restorer" else "-.", lw=1.2)


def accuracy_vs_area(scores: Sequence[Scores], sizes: Sequence[str] = tuple(SIZES)):
    """Accuracy (mean over kinds) against occluded area (% of the aligned face image, 02_evaluation's x-axis),
    one curve per method through the three sizes; the clean reference as a horizontal line."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    ordered = [s for s in ranking(scores) if s.name != "clean"]
    palette = iter(sns.color_palette("tab20", len(ordered)))
    area = areas(scores)
    fig, ax = plt.subplots(figsize=(7.5, 4.6))
    for s in ordered:
        xs, ys = [], []
        for z in sizes:
            cells = [(kind, zz) for kind, zz in s.grid if zz == z]
            xs.append(100 * np.mean([area.get(c, s.grid[c]["occluded_area"]) for c in cells]))
            ys.append(100 * np.mean([s.grid[c]["accuracy"] for c in cells]))
        style = {"color": next(palette), **_style(s)}
        label = s.name + (" (own features)" if s.role == "recognizer" else " (true mask)" if s.needs_mask else "")
        ax.plot(xs, ys, marker="o", ms=3.5, label=label, **style)
    clean = next((s for s in scores if s.name == "clean"), None)
    if clean is not None and clean.grid:
        ax.axhline(100 * next(iter(clean.grid.values()))["accuracy"], color="0.5", ls="--", lw=1, label="clean")
    ax.set_xlabel("occluded area (% of the aligned face image)")
    ax.set_ylabel("10-fold verification accuracy (%), dlib")
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False)
    ax.set_title(f"Accuracy against occluded area, sizes {', '.join(sizes)} (mean over kinds)", fontsize=9)
    fig.tight_layout()
    return fig


def kind_heatmap(scores: Sequence[Scores]):
    """Methods (leaderboard order) x occluder kinds: dlib accuracy at the medium size (FROM: its own)."""
    import matplotlib.pyplot as plt
    import pandas as pd
    import seaborn as sns

    rows = {(s.name + " (own)" if s.role == "recognizer" else s.name): kind_accuracy(s) for s in ranking(scores)}
    frame = pd.DataFrame(rows).T
    fig, ax = plt.subplots(figsize=(max(4.5, 2.2 + 0.7 * frame.shape[1]), 1.0 + 0.3 * frame.shape[0]))
    sns.heatmap(frame, annot=True, fmt=".0f", cmap="viridis", cbar_kws={"label": "accuracy (%)"}, ax=ax,
                annot_kws={"fontsize": 7})
    ax.set_xlabel(f"occluder kind (unseen templates, {LEADERBOARD_SIZE} size)", fontsize=8)
    ax.set_ylabel("")
    ax.tick_params(labelsize=7)
    fig.tight_layout()
    return fig


def display_frame(table: Table):
    """The leaderboard as a pandas DataFrame for the notebook: "yes"/"no" for the mask column, faces/s as an
    integer, every other number with its interval."""
    frame = table.frame().replace("—", "")
    if "needs mask" in frame:
        frame["needs mask"] = frame["needs mask"].map(lambda t: t and ("yes" if float(t) else "no"))
    if "faces/s" in frame:
        frame["faces/s"] = frame["faces/s"].map(lambda t: t and f"{float(t):.0f}")
    return frame


def key_numbers(scores: Sequence[Scores], digits: int = 1) -> list[str]:
    """The leaderboard's key numbers as text lines, rounded to a CPU-stable precision (accuracy and EER to
    ``digits`` decimals, PSNR to 1, SSIM to 2); no speeds (machine-dependent)."""
    lines = []
    for s in ranking(scores):
        row = summary(s)
        parts = []
        for col, d in (("dlib accuracy", digits), ("dlib EER", digits), ("own-features accuracy", digits),
                       ("FaceNet accuracy", digits), ("rank-1", digits), ("PSNR", 1), ("hole PSNR", 1),
                       ("SSIM", 2)):
            if col in row:
                parts.append(f"{col} {row[col][0]:.{d}f}")
        lines.append(f"{s.name:>12}: " + ", ".join(parts))
    return lines


# --------------------------------------------------------------------------------------------- real occlusions

REAL_COLUMNS = {"sunglasses": "LFW sunglasses", "eyeglasses": "LFW eyeglasses", "together": "LFW both",
                "all": "own folder"}


def real_occlusion_table(contestants: Sequence[Contestant], sets: dict, predict_mask: Callable | None = None,
                         seed: int = 0) -> Table | None:
    """EER (%) on real occlusions for every contestant: every clean x occluded photo pair, judged by dlib
    (``real.score_real_set``; 95 % interval over the occluded photos, each with all its pairs), per subset
    (LFW: sunglasses, eyeglasses, both). No true mask exists for a real occluder: inpainters get
    ``predict_mask``'s binarised mask (OA-GAN's, as OA-GAN's Table III does), or are left out without one.
    FROM scores with its own features (the aligned photos resampled to its input) through
    ``protocols.real_occlusions``, on all photos together. None when ``sets`` is empty."""
    from ..registry import with_mask
    from ..eval.real import score_real_set
    from ..eval.recognizers import resize_aligned

    rows: dict[str, dict[str, tuple]] = {}
    for label, data in sets.items():
        for c in contestants:
            if c.name == "clean" or (c.role == "inpainter" and predict_mask is None):
                continue
            name = c.name + (" (OA-GAN mask)" if c.role == "inpainter" else "")
            if c.role == "recognizer":
                embed = (lambda fn, hw: lambda x: fn(resize_aligned(x, hw)))(c.fn, tuple(c.size))
                r = protocols.real_occlusions(data.root, embed=embed, size=data.clean.shape[-1], seed=seed)
                results = {"together" if label == "lfw" else "all": r}
            else:
                restore = None  # the occluded reference
                if c.role == "restorer":
                    restore = c.fn
                elif c.role == "inpainter":
                    restore = with_mask(c.fn, predict_mask)
                results = score_real_set(data, restore, seed=seed)
            for subset, r in results.items():
                rows.setdefault(name, {})[REAL_COLUMNS[subset]] = (100 * r["eer"], *(100 * v for v in r["eer_ci"]))
    if not rows:
        return None
    columns = [c for c in REAL_COLUMNS.values() if any(c in r for r in rows.values())]
    key = REAL_COLUMNS["together"] if REAL_COLUMNS["together"] in columns else columns[0]  # the most photos
    order = sorted(rows, key=lambda n: (n == "FROM", rows[n].get(key, (np.inf,))[0], n != "occluded", n))
    cells = []
    for n in order:
        for col in columns:
            value, lo, hi = rows[n].get(col, (None, None, None))
            cells.append(Cell(n, col, value, ci_low=lo, ci_high=hi))
    notes = ["EER (%), lower is better: every clean x occluded photo pair of the same held-out people (genuine when "
             "the person matches), judged by dlib; 95 % interval by a seeded bootstrap over the occluded photos.",
             "No true mask exists for a real occluder: inpainters get OA-GAN's predicted, binarised mask.",
             "FROM: its own features, the aligned photos resampled to its input; interval over photo pairs "
             "(protocols.real_occlusions), narrower than the photo-clustered ones above it."]
    if "lfw" in sets:
        d = sets["lfw"]
        counts = {k: int(v.sum()) for k, v in d.subsets.items()}
        notes.insert(0, f"LFW natural: {len(d.occluded)} photos of {len(set(d.occluded_person.tolist()))} held-out "
                        f"people flagged Sunglasses ({counts.get('sunglasses', 0)}) or Eyeglasses "
                        f"({counts.get('eyeglasses', 0)}) by Kumar et al.'s attribute classifiers (not manual "
                        f"labels), against {len(d.clean)} photos of the same people flagged with no natural "
                        f"occlusion ({d.undetected} faces not detected, aligned from the central box).")
    if "user" in sets:
        notes.append(f"own folder: {user_note(sets['user'])}")
    return Table("real_occlusions", cells, "EER (%) on real occlusions, every method (dlib; FROM: its own features)",
                 notes, 1)


__all__ = ["SIZES", "Budget", "Contestant", "Scores", "method_names", "load_contestants",
           "from_contestant", "memoized", "TrueMaskRestorer", "faces_per_second", "evaluate", "timing_faces",
           "summary", "ranking", "leaderboard", "grid_table", "areas", "kind_accuracy", "best_per_kind",
           "accuracy_vs_area", "kind_heatmap", "display_frame", "key_numbers", "real_sets",
           "real_occlusion_table", "occlusion"]
