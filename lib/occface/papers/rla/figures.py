"""RLA's qualitative figures (Figs. 5-8), all drawn with :func:`occface.plots.image_grid`."""

from __future__ import annotations

import torch

from ...plots import image_grid
from . import published
from .model import RLA, to_grey
from .tables import Restore, row_occlusion
from .train import RLAExperimentConfig


def test_faces(cfg: RLAExperimentConfig, n: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` held-out LFW faces (seeded) and their landmarks."""
    from ...faces.data import load_faces

    faces = load_faces("lfw", size=cfg.model.image_size, split="test", max_images=max(n * 4, 64),
                       seed=cfg.seed + 1)
    idx = torch.randperm(len(faces.images), generator=torch.Generator().manual_seed(cfg.seed))[:n]
    return faces.images[idx], faces.landmarks[idx]


def occluded_rows(images: torch.Tensor, landmarks: torch.Tensor, rows: list[str], seed: int,
                  per_face_seed: bool = False) -> torch.Tensor:
    """Face i under Table I row ``rows[i]`` (test templates)."""
    from ...faces.occlusion import occlude

    out = []
    for i, row in enumerate(rows):
        kw = row_occlusion(row)
        out.append(occlude(images[i:i + 1], kw.pop("kind"), landmarks=landmarks[i:i + 1],
                           seed=seed + (i if per_face_seed else 0), **kw).images)
    return torch.cat(out)


def fig5_steps(cfg: RLAExperimentConfig, rla: RLA, row: str = "Upper face / Sunglasses"):
    """Fig. 5: per decoder step t = 1..T, the blended output X~_t, the reconstruction sigma(X_t) and the
    occlusion scores sigma(S_t), for one occluded test face (input first, original last)."""
    images, marks = test_faces(cfg, 1)
    occ = to_grey(occluded_rows(images, marks, [row], cfg.seed))
    with torch.no_grad():
        out = rla.eval()(occ)
    steps = len(out.reconstruction_steps)
    grey = to_grey(images)

    def strip(seq: list[torch.Tensor]) -> torch.Tensor:
        return torch.cat([occ, *[s[:1] for s in seq], grey])

    rows = {"blended": strip(out.recovered_steps), "reconstruction": strip(out.reconstruction_steps),
            "occlusion scores": strip(out.score_steps)}
    return image_grid(rows, ["input", *[f"t={t + 1}" for t in range(steps)], "original"], size=1.3,
                      cmaps={"occlusion scores": "magma"}, fontsize=8,
                      title=f"RLA's decoder steps on one test face ({row}); scores: bright = occluded")


def fig6_methods(cfg: RLAExperimentConfig, restorers: dict[str, Restore], rows: list[str] | None = None):
    """Fig. 6: original and occluded faces, then each method's output, one Table I occluder per column."""
    rows = rows or list(published.TABLE1)
    images, marks = test_faces(cfg, len(rows))
    occluded = occluded_rows(images, marks, rows, cfg.seed)
    order = [m for m in ("PCA", "AE", "SRC", "SSDA", "Face Rec", "RLA", "IP-RLA") if m in restorers]
    grid = {"original": to_grey(images), "occluded": to_grey(occluded)}
    grid |= {m: to_grey(restorers[m](occluded)) for m in order}
    return image_grid(grid, [r.split(" / ")[1] for r in rows], title="Table I's methods, one occluder per column")


def fig7_people(cfg: RLAExperimentConfig, restore: Restore, row: str = "Lower face / Mask", people: int = 8):
    """Fig. 7: different people under the same occluder at the same place (one template, one seed)."""
    images, marks = test_faces(cfg, people)
    occ = occluded_rows(images, marks, [row] * people, cfg.seed)
    return image_grid({"original": to_grey(images), "occluded": to_grey(occ), "recovered": to_grey(restore(occ))},
                      title=f"Different people, the same occluder at the same place ({row})")


def fig8_categories(cfg: RLAExperimentConfig, restore: Restore, per_category: int = 3):
    """Fig. 8: the four region categories (quarter, left/right half, upper, lower face)."""
    categories = {"Quarter of face": ["Hand", "Book", "Hand"], "Left/right half": ["Hand", "Book", "Hand"],
                  "Upper face": ["Glasses", "Sunglasses", "Eye mask"], "Lower face": ["Mask", "Phone", "Scarf"]}
    rows = [f"{c} / {o}" for c, occs in categories.items() for o in occs[:per_category]]
    images, marks = test_faces(cfg, len(rows))
    occ = occluded_rows(images, marks, rows, cfg.seed, per_face_seed=True)
    titles = [r.split(" / ")[0] if j % per_category == 0 else "" for j, r in enumerate(rows)]
    return image_grid({"original": to_grey(images), "occluded": to_grey(occ), "IP-RLA": to_grey(restore(occ))},
                      titles, title="IP-RLA on the four region categories")


def fig_real(data, restorers: dict[str, Restore], n: int = 8, seed: int = 0):
    """Real occlusions (Table II's photos, beyond the paper's figures): a clean photo of the person, the
    photo with real sunglasses or eyeglasses, then what Face Rec, RLA and IP-RLA make of it. ``data`` is an
    ``occface.eval.real.RealSet``; half the columns show sunglasses where the set has them."""
    import numpy as np

    rng = np.random.default_rng(seed)
    subsets = data.subsets
    if "sunglasses" in subsets:
        sun = rng.permutation(np.flatnonzero(subsets["sunglasses"]))[: n // 2]
        rest = rng.permutation(np.flatnonzero(~subsets["sunglasses"]))[: n - len(sun)]
        picks, titles = np.r_[sun, rest], ["sunglasses"] * len(sun) + ["eyeglasses"] * len(rest)
    else:
        picks = rng.permutation(len(data.occluded))[:n]
        titles = [""] * len(picks)
    occluded = data.occluded[torch.from_numpy(picks)]
    first_clean = {p: i for i, p in reversed(list(enumerate(data.clean_person.tolist())))}
    clean = data.clean[[first_clean[p] for p in data.occluded_person[picks].tolist()]]
    grid = {"clean (same person)": to_grey(clean), "real occlusion": to_grey(occluded)}
    grid |= {m: to_grey(restorers[m](occluded)) for m in ("Face Rec", "RLA", "IP-RLA") if m in restorers}
    return image_grid(grid, titles, title="Real glasses (never seen in training): clean photo, occluded photo, "
                      "each method")
