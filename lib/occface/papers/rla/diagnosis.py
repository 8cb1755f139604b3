"""What RLA's occlusion detector finds (beyond the paper): the detection channel's scores sigma(S_t) of
Eq. 12 against the true synthetic masks, per Table I row (occluder kind x face region), at every decoder
step t = 1..T.

- **AUC**: pixel-level ROC-AUC of sigma(S_t) against the mask (``sklearn.metrics.roc_auc_score``), pooled over
  the row's faces; 0.5 = no better than chance, 1 = every occluder pixel scored above every face pixel.
- **IoU**: intersection over union of {sigma(S_t) > 0.5} and the mask, pooled over the row's faces.

Three references say *why* a detector scores what it scores:

- **prior AUC**: the AUC of the training masks' pixel frequency (the same map for every face). A detector
  whose AUC is close to it has learned where occluders usually are, not where this one is.
- **mean-map AUC**: the AUC of the detector's own average map (over all evaluated faces) used for every face;
  a detector that ignores its input scores the same as its mean map.
- **Eq. 14 target IoU**: Eq. 14 rewards S = 1 exactly where the reconstruction is closer to the clean face
  than the occluded input, (X^rec - X)^2 < (X^occ - X)^2; the IoU of that pixel set with the mask says how
  much of the occluder the paper's unsupervised loss asks the detector to find, given our reconstruction.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ...faces.occlusion import occlude
from ...results import Cell
from ...tables import Table
from . import published
from .model import RLA, to_grey
from .tables import row_occlusion

CATEGORIES = ("Quarter of face", "Left/right half", "Upper face", "Lower face")

# Detectors compared with the paper's schedule: what changes when the training data, the schedule or the
# supervision changes (``variant_config``). Only the last one leaves the paper (its loss adds the true masks).
SUPERVISED = "mask-supervised, 4x longer (beyond the paper)"  # registered as the method "rla-supervised"
VARIANTS: dict[str, dict] = {
    "before: every occluder on the landmarks": dict(placement="semantic"),
    "detector stages 8x longer": dict(detector_steps=8),
    SUPERVISED: dict(detector_steps=4, detector_mask_weight=1.0),
}


def variant_config(cfg, name: str):
    """``cfg`` changed as :data:`VARIANTS` names (``detector_steps``: stages 2 and 3 that many times longer)."""
    import dataclasses

    change = dict(VARIANTS[name])
    factor = change.pop("detector_steps", 1)
    return dataclasses.replace(cfg, stage2_steps=cfg.stage2_steps * factor, stage3_steps=cfg.stage3_steps * factor,
                               **change)


@dataclass
class DiagnosisFaces:
    """Held-out faces, each under one Table I row's occluder (test templates): grey (N,1,H,W)."""
    occluded: torch.Tensor
    clean: torch.Tensor
    mask: torch.Tensor
    rows: list[str]


def diagnosis_faces(size: int, per_row: int, seed: int = 0, rows: list[str] | None = None) -> DiagnosisFaces:
    """``per_row`` held-out LFW faces (View-2 folds 6-10 people) under every Table I row's occluder."""
    from ...faces.data import load_faces

    rows = rows or list(published.TABLE1)
    faces = load_faces("lfw", size=size, split="test", max_images=per_row * len(rows), seed=seed + 5)
    if len(faces) < per_row * len(rows):
        raise ValueError(f"only {len(faces)} test faces for {per_row} x {len(rows)} rows; lower per_row")
    occ, mask, labels = [], [], []
    for r, row in enumerate(rows):
        sl = slice(r * per_row, (r + 1) * per_row)
        kw = row_occlusion(row)
        o = occlude(faces.images[sl], kw.pop("kind"), landmarks=faces.landmarks[sl], seed=seed + 31 * r, **kw)
        occ.append(o.images)
        mask.append(o.mask)
        labels += [row] * per_row
    return DiagnosisFaces(to_grey(torch.cat(occ)), to_grey(faces.images[: per_row * len(rows)]),
                          torch.cat(mask).float(), labels)


@torch.no_grad()
def detector_outputs(model: RLA, occluded: torch.Tensor, batch: int = 128) -> tuple[np.ndarray, np.ndarray]:
    """(scores (T,N,H,W) = sigma(S_t) per step, reconstruction (N,H,W) = sigma(X_T)) as float32 arrays."""
    model = model.eval()
    scores, recs = [], []
    for chunk in occluded.split(batch):
        out = model(chunk)
        scores.append(torch.stack([s[:, 0] for s in out.score_steps]))
        recs.append(out.reconstruction[:, 0])
    return torch.cat(scores, 1).numpy(), torch.cat(recs).numpy()


def _auc(score: np.ndarray, mask: np.ndarray) -> float:
    from sklearn.metrics import roc_auc_score

    y = mask.ravel() > 0.5
    if y.all() or not y.any():
        return float("nan")
    return float(roc_auc_score(y, score.ravel()))


def _iou(pred: np.ndarray, mask: np.ndarray) -> float:
    m = mask > 0.5
    union = np.logical_or(pred, m).sum()
    return float(np.logical_and(pred, m).sum() / union) if union else float("nan")


@dataclass
class Diagnosis:
    """``auc[group]`` and ``iou[group]``: one value per decoder step; the references per group (see the
    module docstring); ``groups``: each Table I row, then each category, then "all"."""
    auc: dict[str, list[float]]
    iou: dict[str, list[float]]
    prior_auc: dict[str, float]
    mean_map_auc: dict[str, float]
    target_iou: dict[str, float]
    mean_map: np.ndarray          # the detector's average sigma(S_T)
    prior: np.ndarray | None      # the training masks' pixel frequency
    faces: int

    @property
    def groups(self) -> list[str]:
        return list(self.auc)

    @property
    def steps(self) -> int:
        return len(next(iter(self.auc.values())))


def diagnose(model: RLA, faces: DiagnosisFaces, prior: torch.Tensor | None = None) -> Diagnosis:
    """Score the detector of ``model`` on ``faces`` (see the module docstring); ``prior`` is the training
    masks' mean (H,W) or (1,H,W) map, e.g. ``training_pairs(cfg).mask.mean(0)``."""
    scores, rec = detector_outputs(model, faces.occluded)
    mask = faces.mask[:, 0].numpy()
    occ, clean = faces.occluded[:, 0].numpy(), faces.clean[:, 0].numpy()
    target = (rec - clean) ** 2 < (occ - clean) ** 2  # where Eq. 14 prefers the reconstruction
    mean_map = scores[-1].mean(0)
    prior_map = None if prior is None else prior.reshape(mask.shape[-2:]).numpy()
    rows = np.array(faces.rows)
    groups = {r: rows == r for r in dict.fromkeys(faces.rows)}
    groups |= {c: np.char.startswith(rows.astype(str), c + " /") for c in CATEGORIES}
    groups = {g: m for g, m in groups.items() if m.any()}
    groups["all"] = np.ones(len(rows), bool)
    out = Diagnosis({}, {}, {}, {}, {}, mean_map, prior_map, len(rows))
    for g, sel in groups.items():
        m = mask[sel]
        out.auc[g] = [_auc(s[sel], m) for s in scores]
        out.iou[g] = [_iou(s[sel] > 0.5, m) for s in scores]
        out.mean_map_auc[g] = _auc(np.broadcast_to(mean_map, m.shape), m)
        out.prior_auc[g] = float("nan") if prior_map is None else _auc(np.broadcast_to(prior_map, m.shape), m)
        out.target_iou[g] = _iou(target[sel], m)
    return out


def _nan_none(x: float) -> float | None:
    return None if np.isnan(x) else float(x)


def diagnosis_tables(diag: Diagnosis, label: str = "") -> tuple[Table, Table]:
    """Two tables, rows = groups: ``detector_auc`` (AUC per step, prior AUC, mean-map AUC) and
    ``detector_iou`` (IoU per step, Eq. 14 target IoU). ``label`` names the model in the titles."""
    steps = [f"t={t + 1}" for t in range(diag.steps)]
    auc, iou = [], []
    for g in diag.groups:
        auc += [Cell(g, s, _nan_none(v), None, "") for s, v in zip(steps, diag.auc[g])]
        auc += [Cell(g, "prior", _nan_none(diag.prior_auc[g]), None, ""),
                Cell(g, "mean map", _nan_none(diag.mean_map_auc[g]), None, "")]
        iou += [Cell(g, s, _nan_none(v), None, "") for s, v in zip(steps, diag.iou[g])]
        iou += [Cell(g, "Eq. 14 target", _nan_none(diag.target_iou[g]), None, "")]
    where = f" ({label})" if label else ""
    common = [f"{diag.faces} held-out faces, the same number under each Table I row's occluder (test templates); "
              "pixels pooled over a row's faces; categories and 'all' pool their rows. Beyond the paper."]
    t1 = Table("detector_auc", auc, f"Occlusion detector{where}: pixel ROC-AUC of sigma(S_t) against the true mask",
               common + ["prior: the training masks' pixel frequency used as a score for every face (where "
                         "occluders usually are); mean map: the detector's own average map used for every face."], 3)
    t2 = Table("detector_iou", iou, f"Occlusion detector{where}: IoU of sigma(S_t) > 0.5 with the true mask",
               common + ["Eq. 14 target: the pixels where the reconstruction is closer to the clean face than the "
                         "occluded input, i.e. where Eq. 14 rewards S = 1."], 3)
    return t1, t2


def diagnosis_figure(diags: dict[str, Diagnosis]):
    """AUC and IoU against the decoder step per category (one line style per model in ``diags``), and the
    training-mask frequency beside each model's mean detector map."""
    import textwrap

    import matplotlib.pyplot as plt

    names = list(diags)
    first = diags[names[0]]
    images = ([("training-mask frequency", first.prior)] if first.prior is not None else []) + \
        [(f"mean sigma(S_T): {n}", d.mean_map) for n, d in diags.items()]
    fig = plt.figure(figsize=(11, 3.6 + 2.2 * ((len(images) + 3) // 4)))
    grid = fig.add_gridspec(1 + (len(images) + 3) // 4, 4, height_ratios=[1.6] + [1] * ((len(images) + 3) // 4))
    ax_auc, ax_iou = fig.add_subplot(grid[0, :2]), fig.add_subplot(grid[0, 2:])
    styles = ["-", "--", ":", "-."]
    colours = dict(zip([*CATEGORIES, "all"], ["C0", "C1", "C2", "C3", "k"]))
    steps = np.arange(1, first.steps + 1)
    for k, (name, d) in enumerate(diags.items()):
        for g, colour in colours.items():
            if g in d.auc:
                label = g if k == 0 else None
                ax_auc.plot(steps, d.auc[g], styles[k % 4], color=colour, label=label)
                ax_iou.plot(steps, d.iou[g], styles[k % 4], color=colour)
    if not np.isnan(first.prior_auc.get("all", np.nan)):
        ax_auc.axhline(first.prior_auc["all"], color="0.5", lw=0.8)
        ax_auc.text(steps[-1], first.prior_auc["all"], "prior (all) ", fontsize=7, va="bottom", ha="right",
                    color="0.4")
    ax_auc.axhline(0.5, color="0.8", lw=0.8)
    ax_auc.set(xlabel="decoder step t", ylabel="pixel ROC-AUC", title="detection AUC vs true mask")
    ax_iou.set(xlabel="decoder step t", ylabel="IoU (score > 0.5)", title="detection IoU vs true mask")
    ax_auc.legend(fontsize=7, loc="lower right")
    if len(names) > 1:
        for k, n in enumerate(names):
            ax_iou.plot([], [], styles[k % 4], color="0.3", label=n)
        ax_iou.legend(fontsize=7)
    maps = []
    for j, (title, img) in enumerate(images):
        ax = fig.add_subplot(grid[1 + j // 4, j % 4])
        shown = ax.imshow(img, cmap="magma", vmin=0, vmax=1)
        ax.set_title(textwrap.fill(title, 28), fontsize=7)
        ax.axis("off")
        maps.append(ax)
    fig.tight_layout()
    fig.colorbar(shown, ax=maps, shrink=0.8, label="mean detector score / mask frequency (0-1)")
    return fig


def variants_table(diags: dict[str, Diagnosis]) -> Table:
    """One row per detector (``diags``: name -> diagnosis): AUC at the last step per category and over all
    rows, beside the mean-map and prior AUCs (over all rows) and the IoU over all rows."""
    cells = []
    for name, d in diags.items():
        for g in [*CATEGORIES, "all"]:
            if g in d.auc:
                cells.append(Cell(name, f"AUC {g}", _nan_none(d.auc[g][-1]), None, ""))
        cells += [Cell(name, "mean-map AUC (all)", _nan_none(d.mean_map_auc["all"]), None, ""),
                  Cell(name, "prior AUC (all)", _nan_none(d.prior_auc["all"]), None, ""),
                  Cell(name, "IoU (all)", _nan_none(d.iou["all"][-1]), None, "")]
    notes = ["Pixel ROC-AUC of sigma(S_T) against the true masks at the last decoder step, per Table I category; "
             "a detector whose AUC equals its mean-map AUC scores every face with the same map (it ignores the "
             "input); the prior AUC scores the training masks' frequency map. Beyond the paper.",
             "Variants (occface.papers.rla.diagnosis.VARIANTS): the paper's schedule and training placement (first "
             "row); the same with every occluder on the landmarks (our earlier training data); stages 2 and 3 "
             "eight times longer; a detector also fitted to the true masks (pixel BCE), outside the paper."]
    return Table("detector_variants", cells, "Occlusion detectors compared: AUC per region category", notes, 3)


def blend_gradient(model: RLA, occluded: torch.Tensor, clean: torch.Tensor) -> dict[str, float]:
    """Eq. 14's gradient on one batch: how far autograd's dL/dS^det is from Eq. 16, 1/K (X~ - X) (X^rec - X^occ),
    and the gradient norm that reaches the detector's parameters through the blend (zero would mean the
    detector cannot learn from Eq. 14)."""
    from .model import mse_loss

    was = model.training
    model.train()
    model.zero_grad(set_to_none=True)
    out = model(occluded)
    out.scores.retain_grad()
    mse_loss(out, occluded, clean).backward()
    eq16 = (out.recovered - clean).detach() * (out.reconstruction - occluded).detach() / len(occluded)
    norm = torch.sqrt(sum(p.grad.pow(2).sum() for p in model.detector.parameters() if p.grad is not None))
    result = {"max |autograd - Eq. 16|": float((out.scores.grad - eq16).abs().max()),
              "max |Eq. 16|": float(eq16.abs().max()), "detector gradient norm": float(norm)}
    model.zero_grad(set_to_none=True)
    model.train(was)
    return result


@torch.no_grad()
def encoder_probe(model: RLA, occluded: torch.Tensor, mask: torch.Tensor, faces: DiagnosisFaces,
                  ridge: float = 0.1, batch: int = 256, max_train: int = 3000, seed: int = 0) -> dict[str, float]:
    """How much the detector *could* know: a ridge regression from what the detection channel reads (the
    encoder's last states h, c of every layer and the reconstruction channel's h_T) to the mask, fitted on
    the training pairs (``occluded``, ``mask``) and scored (pixel AUC) on ``faces``; beside it the same probe
    on the raw occluded pixels and the prior. A probe near the prior means the encoder passes on little of
    where this face's occluder is. At most ``max_train`` training pairs (seeded) are used."""
    model = model.eval()
    if len(occluded) > max_train:  # a seeded subset keeps the 64 px pixel probe within memory
        keep = torch.randperm(len(occluded), generator=torch.Generator().manual_seed(seed))[:max_train]
        occluded, mask = occluded[keep], mask[keep]

    def states(x: torch.Tensor) -> torch.Tensor:
        out = []
        for chunk in x.split(batch):
            encoded = model.encoder(chunk)
            _, hiddens = model.reconstructor(encoded, model.config.steps)
            out.append(torch.cat([t for h, c in encoded.states for t in (h, c)] + [hiddens[-1]], 1))
        return torch.cat(out).double()

    target, truth = mask.flatten(1).double(), faces.mask[:, 0].numpy()
    mean = target.mean(0)

    def probe(train_x: torch.Tensor, test_x: torch.Tensor) -> float:
        centre = train_x.mean(0)
        a, b = train_x - centre, test_x - centre
        w = torch.linalg.solve(a.T @ a + ridge * len(a) * torch.eye(a.shape[1], dtype=a.dtype), a.T @ (target - mean))
        return _auc((b @ w + mean).view(-1, *truth.shape[-2:]).numpy(), truth)

    return {"encoder + h_rec probe": probe(states(occluded), states(faces.occluded)),
            "raw-pixel probe": probe(occluded.flatten(1).double(), faces.occluded.flatten(1).double()),
            "prior": _auc(np.broadcast_to(mean.view(truth.shape[-2:]).numpy(), truth.shape), truth)}
