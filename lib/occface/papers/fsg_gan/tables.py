"""FSG-GAN's Table 2 (PSNR / SSIM on new identities with seen and with unseen occluders), Table 3 (rank-k
identification) and Table 4 (ablation); builders return :class:`occface.tables.Table` values.

Test sets (Table 1, LFW half): Set1-LFW = LFW test identities (View-2 folds 6-10, never trained on) with
the *training* half of the occluder templates; Set2-LFW = the same faces and placements with the *unseen*
half. CelebA cannot be had here: the CelebA columns (``Set1-CelebA*``, ``Set2-CelebA*``) are computed on the
second half of the LFW test people, disjoint from the LFW columns' people, and say so.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from ...eval.protocols import TestSet, identification_rates
from ...profiles import ProfileConfig
from ...results import Cell
from ...tables import Table
from . import published
from .train import FSGConfig, LazyPairs, TrainedFSG, occlude_fsg, train_fsg_gan

# a method of the tables: (occluded images, occluder mask) -> restored images, all [0,1]; restorers ignore
# the mask, DeepFill gets the true one (the paper: "it needs the binary mask ... during testing")
Method = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
# Table 2 row -> registry. "DeepFill" is the paper's row: released weights trained off-domain (generic holes),
# handed the occluder's mask at test. The in-domain row (trained on our occluders, handed their exact mask) is
# an upper bound beyond the paper: it only fills a hole it was trained on; no claim is made against it.
UPPER_BOUND = "DeepFill, in-domain, true mask (upper bound)"
COMPARED = {"Cycle-GAN": "cyclegan", "DeepFill": "deepfill-generic", UPPER_BOUND: "deepfill", "OA-GAN": "oa-gan"}
VARIANTS = {"HDC + multi-RFs Dis.": {}, "w/o HDC": {"hdc": False}, "Regular Dis.": {"disc": "regular"},
            "Eq. 10 on logits (beyond the paper)": {"eq10": "logits"},
            "Official losses (beyond the paper)": {"official_losses": True}}


DATASET = "LFW deep-funneled + occluder templates (OCCFACE_DATA)"  # the dataset line of the fsg_gan results
CELEBA_STANDIN = "*"  # Set1-CelebA* / Set2-CelebA*: computed on the second half of the LFW test people


@dataclass(frozen=True)
class Knobs(ProfileConfig):
    """20: held-out people of Table 3's identification (one gallery image and five probes each)."""
    identification_people: int
    PER_PROFILE = {"quick": dict(identification_people=10), "default": dict(identification_people=100),
                   "full": dict(identification_people=200)}


def _half_of_the_people(identity: torch.Tensor, second: bool) -> np.ndarray:
    """Indices of the faces of the first or second half of the people (in identity order)."""
    people = np.unique(identity.numpy())
    chosen = people[len(people) // 2:] if second else people[: len(people) // 2]
    return np.flatnonzero(np.isin(identity.numpy(), chosen))


def test_sets(cfg: FSGConfig) -> dict[str, TestSet]:
    """Table 1's four sets, ``table_images`` test faces each, one occluder per face. Set1 uses the *training*
    half of the occluder templates, Set2 the unseen half, on the same faces and placements (same seed), so
    only the templates differ. CelebA cannot be had: the CelebA columns (``Set1-CelebA*``) are computed on the
    second half of the LFW test people, disjoint from the people of the LFW columns."""
    from ...faces.data import load_faces

    faces = load_faces("lfw", size=cfg.image_size, split="test", seed=cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    out = {}
    for database, second in (("CelebA" + CELEBA_STANDIN, True), ("LFW", False)):
        half = _half_of_the_people(faces.identity, second)
        idx = np.sort(rng.choice(half, size=min(cfg.table_images, len(half)), replace=False))
        images, landmarks = faces.images[idx], faces.landmarks[idx]
        for number, templates in (("Set1", "train"), ("Set2", "test")):
            occ, mask = occlude_fsg(images, cfg.seed + 1000, landmarks, templates, cfg.rotation, cfg.sizes)
            out[f"{number}-{database}"] = TestSet(occluded=occ, clean=images, mask=mask)
    return out


def _paper_set(name: str) -> str:
    return name.replace(CELEBA_STANDIN, "")


def as_method(restore: Callable[[torch.Tensor], torch.Tensor]) -> Method:
    return lambda images, mask: restore(images)


def compared_methods(profile: str, rows: Sequence[str] | None = None) -> tuple[dict[str, Method], list[str]]:
    """Cycle-GAN, DeepFill (generic holes; and in-domain, the upper bound) and OA-GAN from the registry (their
    modules imported here, so the link reads in the code), and notes; ``rows``: only these rows of ``COMPARED``
    (in that order), the others neither trained nor loaded."""
    from ... import registry
    from ...baselines import cyclegan, deepfill  # noqa: F401  (registers "cyclegan", "deepfill", "deepfill-generic")
    from ..oa_gan import registration  # noqa: F401  (registers "oa-gan")

    out: dict[str, Method] = {}
    notes = []
    for row, name in (COMPARED if rows is None else {row: COMPARED[row] for row in rows}).items():
        if registry.method(name).kind == "inpainter":
            out[row] = registry.inpainter(name, profile)
            notes.append(f"{row} ({name}) is given the true occluder mask, as the paper gave DeepFill"
                         + (": trained on generic free-form / rectangular holes, never on an occluder, as the "
                            "released weights the paper used" if name == "deepfill-generic" else
                            ": trained on our occluder templates, so it fills the kind of hole it was trained on; "
                            "an upper bound, not the paper's comparison (no claim is made against it)") + ".")
        else:
            out[row] = as_method(registry.restorer(name, profile))
    return out, notes


def script_config(description: str) -> FSGConfig:
    """The command line of the ``scripts/fsg_gan_*.py`` checks: ``--profile`` (default quick), torch on one CPU
    thread; returns the profile's :class:`FSGConfig`."""
    import argparse

    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--profile", default="quick")
    args = parser.parse_args()
    torch.set_num_threads(1)
    return FSGConfig.for_profile(args.profile)


def train_variants(cfg: FSGConfig, identity=None) -> dict[str, TrainedFSG]:
    """The full model, the Table 4 ablations and the official losses, on one training set and one V."""
    data = LazyPairs(cfg)  # one training set for all, built only if something is trained
    return {row: train_fsg_gan(dataclasses.replace(cfg, **change), identity, data)
            for row, change in VARIANTS.items()}


def _scores(method: Method, s: TestSet, seed: int = 0) -> dict:
    """Mean PSNR / SSIM of ``method`` on ``s``, and its hole PSNR (inside the occluder mask only), with 95 %
    bootstrap intervals over the faces."""
    from ...eval.protocols import quality_intervals

    with torch.no_grad():
        out = torch.cat([method(x, m) for x, m in zip(s.occluded.split(128), s.mask.split(128))]).clamp(0, 1)
    return quality_intervals(out, s.clean, seed=seed, mask=s.mask)


def _quality_cells(row: str, prefix: str, q: dict | None, paper: tuple) -> list[Cell]:
    """PSNR and SSIM cells of one row (``prefix`` names the test set), the paper's PSNR on the [0,1] scale, and
    (ours) the hole PSNR, inside the occluder mask only."""
    q = q or {}
    cells = []
    for metric, unit, ref in (("psnr", "dB", paper[0] and published.psnr_01(paper[0])), ("ssim", "", paper[1])):
        lo, hi = q.get(f"{metric}_ci", (None, None))
        cells.append(Cell(row, f"{prefix}{metric.upper()}", q.get(metric), ref, unit, lo, hi))
    lo, hi = q.get("psnr_hole_ci", (None, None))  # ours, no paper counterpart
    cells.append(Cell(row, f"{prefix}hole PSNR", q.get("psnr_hole"), None, "dB", lo, hi))
    return cells


def _notes(cfg: FSGConfig) -> list[str]:
    from ...nn.identity import substitute_note

    return [f"Ours: {cfg.table_images} LFW test faces per set (View-2 folds 6-10 people, never trained on) at "
            f"{cfg.image_size} px, profile {cfg.profile}; training on LFW's training identities, not CelebA. "
            "CelebA cannot be had: the Set1-CelebA* / Set2-CelebA* columns are the second half of the LFW test "
            "people (disjoint from the LFW columns' people), beside the paper's CelebA numbers.",
            "PSNR on [0,1] images; the paper's PSNRs (official script: [-1,1] data, peak 1) are shown +6.02 dB "
            "to match. Its SSIM also ran on [-1,1] data with [0,1] constants and is not convertible.",
            "hole PSNR (ours, no paper counterpart): PSNR inside the occluder's mask only, where removal "
            "happens; whole-image PSNR is mostly the untouched face around it.",
            substitute_note("LightCNN-29")]


def table2(cfg: FSGConfig, methods: dict[str, Method | None], sets: dict[str, TestSet],
           notes: list[str] = ()) -> Table:
    """Table 2: PSNR (dB) and SSIM per method on Set1-LFW / Set2-LFW; ``methods`` in row order (None: an
    empty row). Rows the paper has get its numbers beside ours."""
    cells = []
    for row, method in methods.items():
        paper = published.TABLE2.get(row, {})
        for set_name, s in sets.items():
            q = _scores(method, s, cfg.seed) if method is not None else None
            cells += _quality_cells(row, f"{set_name} ", q, paper.get(_paper_set(set_name), (None, None)))
    return Table("table2", cells, "Table 2: PSNR / SSIM of de-occluded faces, new identities (Set1: seen "
                 "occluder templates; Set2: unseen ones)", [*_notes(cfg), *notes,
                 "The paper's OA-GAN is Dong et al. (ICME 2020), re-implemented by its authors; ours is Cai et "
                 "al. (TIFS 2020) where registered."], digits=3)


def table4(cfg: FSGConfig, variants: dict[str, Method], test: TestSet) -> Table:
    """Table 4: the ablation on one test set (ours: Set2-LFW; the paper used its recognition images)."""
    cells = []
    for row, method in {"Occluded image": lambda x, m: x, **variants}.items():
        cells += _quality_cells(row, "", _scores(method, test, cfg.seed), published.TABLE4.get(row, (None, None)))
    return Table("table4", cells, "Table 4: ablation (w/o HDC, regular discriminator, full model) on Set2-LFW",
                 [*_notes(cfg), "Eq. 10 on logits: the softmax of Eq. 10 taken over D's mean patch logits instead "
                  "of the paper's level outputs in [0, 1] (this project's earlier code; the top level then takes "
                  "nearly all the weight).",
                  "Official losses: the released training code's losses (G gets no adversarial "
                  "gradient; two of three D heads compare labels with themselves; exp(loss) head weights; TV)."],
                 digits=3)


def _evaluators() -> dict[str, tuple[Callable[[torch.Tensor], np.ndarray], str]]:
    """The two independent evaluators (never trained here) in place of the paper's ArcFace, with their
    metric: dlib's descriptor (Euclidean, its own convention) and FaceNet (cosine)."""
    from ...eval.recognizers import dlib_evaluator
    from ...pretrained.facenet import load_facenet

    facenet = load_facenet()
    return {"dlib": (dlib_evaluator(), "euclidean"), "FaceNet": (facenet.embed, "cosine")}


def table3(cfg: FSGConfig, methods: dict[str, Method], people: int, repeats: int = 5) -> Table:
    """Table 3: rank-1/5/10 identification on LFW test people with >= 6 images: per repeat, one clean
    gallery image per person and the other five, occluded (unseen templates) and de-occluded, as probes;
    features from dlib and from FaceNet in place of ArcFace. Cells: mean and +-std over repeats."""
    from ...faces.data import load_faces

    faces = load_faces("lfw", size=cfg.image_size, split="test", min_per_identity=6, seed=cfg.seed)
    idx, _ = faces.pick_people(min(people, len(faces.names)), 6, cfg.seed)
    clean, labels = faces.images[idx], faces.identity[idx].numpy()
    occ, mask = occlude_fsg(clean, cfg.seed + 2000, faces.landmarks[idx], "test", cfg.rotation, cfg.sizes)
    rng = np.random.default_rng(cfg.seed)
    picks = [rng.integers(6, size=len(idx) // 6) for _ in range(repeats)]
    with torch.no_grad():
        restored = {row: torch.cat([method(x, m) for x, m in zip(occ.split(128), mask.split(128))]).clamp(0, 1)
                    for row, method in methods.items()}
    draws = []
    for pick in picks:
        gallery = np.arange(0, len(idx), 6) + pick
        draws.append((gallery, np.setdiff1d(np.arange(len(idx)), gallery)))
    cells = []
    for evaluator, (embed, metric) in _evaluators().items():
        clean_feat = embed(clean)
        for row in methods:
            rates = identification_rates((clean_feat, labels), (embed(restored[row]), labels), published.RANKS,
                                         metric, draws, interval="sd")
            paper = published.TABLE3["Set2-LFW"].get(row) if evaluator == "dlib" else None
            for j, k in enumerate(published.RANKS):
                cells.append(Cell(row, f"{evaluator} Rank-{k}", rates[k].mean, paper[j][0] if paper else None, "%",
                                  rates[k].low, rates[k].high))
    return Table("table3", cells, "Table 3: rank-1/5/10 identification (%) on Set2-LFW-style probes, dlib and "
                 "FaceNet features", [*_notes(cfg)[:1], f"{len(idx) // 6} people x 6 images, {repeats} repeats; "
                 "+- is the std over repeats (as the paper). Features: dlib's descriptor (Euclidean) and FaceNet "
                 "(cosine), both never trained here, in place of ArcFace; the paper's numbers (ArcFace) are shown "
                 "beside the dlib columns.", _notes(cfg)[2]], digits=1)


def fig9(variants: dict[str, Method], test: TestSet, n: int = 8):
    """Fig. 9: the ablation's outputs on the same Set2-LFW faces: input, each variant, ground truth."""
    from ...plots import image_grid

    shown = slice(0, n)
    occ, mask = test.occluded[shown], test.mask[shown]
    with torch.no_grad():
        rows = {"occluded": occ, **{row: method(occ, mask).clamp(0, 1) for row, method in variants.items()},
                "ground truth": test.clean[shown]}
    return image_grid(rows, title="Table 4's variants on the same Set2-LFW faces (unseen occluder templates)")


def fig7(methods: dict[str, Method | None], sets: dict[str, TestSet], n: int = 4):
    """Fig. 7: every compared method (rows) on the same faces of each test set (column blocks of ``n``, two
    sets a block). The "Occluded image" method (the input itself) is the "occluded" row, not a second one."""
    from ...plots import image_grid

    shown = slice(0, n)
    methods = {row: m for row, m in methods.items() if m is not None and row != "Occluded image"}
    rows: dict[str, list[torch.Tensor]] = {"occluded": [], **{r: [] for r in methods}, "ground truth": []}
    with torch.no_grad():
        for s in sets.values():
            occ, mask = s.occluded[shown], s.mask[shown]
            rows["occluded"].append(occ)
            for row, method in methods.items():
                rows[row].append(method(occ, mask).clamp(0, 1))
            rows["ground truth"].append(s.clean[shown])
    titles = [f"{name}\n#{i + 1}" for name in sets for i in range(n)]  # two lines: 8 columns a block
    return image_grid({row: torch.cat(v) for row, v in rows.items()}, titles, size=0.9, max_columns=2 * n,
                      title="Every compared method on the same faces of each test set")


def claims(table2: Table, table3: Table, table4: Table) -> list:
    """The paper's orderings as :class:`occface.claims.Claim` values: FSG-GAN above every compared method in
    PSNR on Set1 and Set2 (Table 2) and in dlib rank-1 (Table 3), the in-domain DeepFill upper bound excepted;
    the full model above each ablation and above the official losses as released (Table 4, PSNR)."""
    from ...claims import Claim

    def side(table: Table, row: str, column: str):
        return table.estimate(row, column, name=row)

    out = []
    others = [r for r in dict.fromkeys(c.row for c in table2.cells)
              if not r.startswith("FSG-GAN") and r != UPPER_BOUND]
    psnr_columns = dict.fromkeys(c.column for c in table2.cells if c.column.endswith(" PSNR"))
    for column in psnr_columns:
        out += [Claim(f"FSG-GAN > {o} ({column})", side(table2, "FSG-GAN", column), side(table2, o, column),
                      better="higher", unit="dB") for o in others]
    out += [Claim(f"FSG-GAN > {o} (dlib rank-1, +-1 s.d.)", side(table3, "FSG-GAN", "dlib Rank-1"),
                  side(table3, o, "dlib Rank-1"), better="higher") for o in others]
    full = "HDC + multi-RFs Dis."
    out += [Claim(f"{full} > {o} (Table 4 PSNR)", side(table4, full, "PSNR"), side(table4, o, "PSNR"),
                  better="higher", unit="dB") for o in VARIANTS if o != full]
    return out
