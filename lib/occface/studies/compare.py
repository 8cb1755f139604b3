"""Every comparison method on the same held-out faces and occluders (notebooks/03_baselines): PSNR / SSIM
with intervals, dlib verification accuracy of the restored faces, training time, a grid per occluder kind,
and each method's training curves (the loss history its Trainer kept, ``registry.Trained.history``)."""

from __future__ import annotations

import math
import time
from typing import Callable, Sequence

import numpy as np
import torch

from ..faces.occlusion import occlude
from ..profiles import Profile, get_profile
from ..results import Cell
from ..tables import Table
from .. import methods as registry

BASELINES = ("pm", "gfc", "deepfill", "pconv", "csa", "coopnets", "cyclegan")
OCCLUSION = dict(kind="sunglasses", templates="test")  # unseen templates, where the method must invent eyes


def load_methods(names: Sequence[str], profile: str | Profile) -> tuple[dict, dict[str, float]]:
    """{name: (kind, callable)} trained or loaded at ``profile``, and the seconds each took (a reused
    checkpoint loads in well under a second: the training time is the first run's)."""
    methods, seconds = {}, {}
    for name in names:
        started = time.perf_counter()
        m = registry.method(name)
        fn = registry.inpainter(name, profile) if m.kind == "inpainter" else registry.restorer(name, profile)
        methods[name], seconds[name] = (m.kind, fn), time.perf_counter() - started
    return methods, seconds


def mask_predictor(fn: Callable) -> tuple[Callable[[torch.Tensor], torch.Tensor] | None, str]:
    """The mask a registered restorer computes on its way, where it exposes one: OA-GAN's generator has
    ``predict_mask`` (1 - M, Eq. 1); RLA's ``restore`` can return its detection channel S^det (Eq. 13).
    The registry's wrappers (``Checked``: the input check; ``Trained``: model + training history) are looked
    through."""
    from ..registry import unwrap

    fn = unwrap(fn)
    owner = getattr(fn, "__self__", None)
    if callable(getattr(owner, "predict_mask", None)):
        return owner.predict_mask, f"{type(owner).__name__}.predict_mask"
    from ..papers.rla.model import RLA

    if isinstance(owner, RLA):
        return (lambda images: owner.restore(images, channel="scores")[:, :1]), "RLA detection scores S^det"
    return None, ""


def clean_input_table(profile: str | Profile, restorers: dict[str, Callable[[torch.Tensor], torch.Tensor]],
                      max_images: int | None = None, seed: int = 0) -> Table:
    """Blind restorers given clean held-out faces (``eval.protocols.clean_input_quality``): PSNR of the output
    against the clean input (a de-occluder should leave it alone) and, for those that predict a mask
    (:func:`mask_predictor`), the % of the face it marks occluded; 95 % bootstrap intervals over the faces."""
    from ..eval.protocols import clean_input_quality

    cells = []
    for name, fn in restorers.items():
        q = clean_input_quality(fn, profile, seed=seed, max_images=max_images, predict_mask=mask_predictor(fn)[0])
        cells.append(Cell(name, "PSNR on clean input", q["psnr_clean_input"], unit="dB",
                          ci_low=q["psnr_clean_input_ci"][0], ci_high=q["psnr_clean_input_ci"][1]))
        if "predicted_area_clean" in q:
            low, high = q["predicted_area_clean_ci"]
            cells.append(Cell(name, "mask area on clean", 100 * q["predicted_area_clean"], unit="% of the face",
                              ci_low=100 * low, ci_high=100 * high))
        else:
            cells.append(Cell(name, "mask area on clean", None, unit="% of the face"))
    return Table("clean_input", cells, "Blind restorers on clean faces: PSNR against the input and the predicted "
                 "mask's area (ours; no paper counterpart)", [
                     f"{q['images']} held-out LFW test faces, no occluder; a face returned unchanged (infinite "
                     "PSNR) is counted apart, not averaged", "mask area: pixels of the method's own occlusion "
                     "mask above 0.5 (OA-GAN's 1 - M, RLA's S^det); empty for methods without one"], digits=2)


def _apply(kind: str, fn, images: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        return (fn(images, mask) if kind == "inpainter" else fn(images)).clamp(0, 1)


def quality_table(methods: dict, profile: str | Profile, seconds: dict[str, float], seed: int = 0) -> Table:
    """PSNR / SSIM (95 % bootstrap intervals over the faces) and dlib verification accuracy of the restored
    faces (one image of each held-out pair occluded); inpainters get the true mask."""
    from ..eval.protocols import image_quality, verification

    p = get_profile(profile)
    cells = []
    for name, (kind, fn) in {"occluded": ("restorer", None), **methods}.items():
        restore, inpaint = (None, fn) if kind == "inpainter" else (fn, None)
        q = image_quality(restore, p, occlusion=OCCLUSION, seed=seed, inpaint=inpaint)
        v = verification(p, occlusion=OCCLUSION, restore=restore, seed=seed, inpaint=inpaint)
        key = "" if fn is not None else "_occluded"
        for metric, unit in (("psnr", "dB"), ("ssim", "")):
            lo, hi = q[f"{metric}{key}_ci"]
            cells.append(Cell(name, metric.upper(), q[f"{metric}{key}"], unit=unit, ci_low=lo, ci_high=hi))
        lo, hi = v["accuracy_ci"]
        cells.append(Cell(name, "dlib accuracy", 100 * v["accuracy"], unit="%", ci_low=100 * lo, ci_high=100 * hi))
        if name in seconds:
            cells.append(Cell(name, "train or load (s)", seconds[name], unit="s"))
    notes = [f"{q['images']} held-out LFW faces with test-half sunglasses (unseen templates); verification on "
             f"{v['pairs']} View-2 pairs x 2 turns, dlib evaluator; 95 % intervals by bootstrap.",
             "Inpainters (PM, GFC, DeepFill, PConv, CSA, CoopNets) receive the true occluder mask; CycleGAN finds "
             "it itself. Perceptual/style terms use FaceNet in place of ImageNet VGG-16 where a method has them.",
             "GFC's semantic-parsing loss uses our frozen parser trained on landmark-polygon labels of LFW training "
             "faces (occface.nn.parsing) in place of GFC's Helen-trained parser.",
             "Training time is the first run's wall time on this machine; a reused checkpoint only loads."]
    return Table("quality", cells, "Comparison methods on the same held-out faces: PSNR, SSIM, dlib accuracy",
                 notes, digits=3)


def grids(methods: dict, faces: torch.Tensor, landmarks: torch.Tensor, kinds: Sequence[str], seed: int = 0
          ) -> dict[str, dict[str, torch.Tensor]]:
    """Per occluder kind, the rows of an image grid: clean, occluded, then each method's output."""
    out = {}
    for kind in kinds:
        occ = occlude(faces, kind, landmarks=landmarks, seed=seed, templates="test")
        rows = {"clean": faces, "occluded": occ.images}
        rows |= {name: _apply(k, fn, occ.images, occ.mask) for name, (k, fn) in methods.items()}
        out[kind] = rows
    return out


def _scale(series: Sequence[np.ndarray]) -> str:
    """"log" when every value is positive and they span more than a decade, "symlog" when signs mix over a wide
    range (WGAN critics), else "linear"."""
    values = np.concatenate(series)
    magnitude = np.abs(values[values != 0])
    if magnitude.size == 0:
        return "linear"
    wide = magnitude.max() / max(np.median(magnitude), 1e-12)
    if (values > 0).all():
        return "log" if values.max() / values.min() > 10 else "linear"
    return "symlog" if wide > 100 else "linear"


def _quiet_ticks(ax) -> None:
    """Label major ticks only, and on a symlog axis only 0 and the decades outside its linear band, so tick
    labels never run into each other (minor labels like 6x10^-2 did on log panels)."""
    from matplotlib.ticker import FixedLocator, NullFormatter

    ax.yaxis.set_minor_formatter(NullFormatter())
    if ax.get_yscale() == "symlog":
        low, high = ax.get_ylim()
        top = int(np.ceil(np.log10(max(abs(low), abs(high), 10.0))))
        decades = [10.0 ** k for k in range(1, top + 1, 2)]
        ax.yaxis.set_major_locator(FixedLocator(sorted({0.0, *decades, *(-d for d in decades)})))


def _running_mean(y: np.ndarray, window: int) -> np.ndarray:
    """Mean over the last ``window`` values at each step (fewer at the start)."""
    c = np.cumsum(np.insert(y, 0, 0.0))
    idx = np.arange(1, len(y) + 1)
    lo = np.maximum(idx - window, 0)
    return (c[idx] - c[lo]) / (idx - lo)


def training_curves(methods: dict, columns: int = 4, smooth: int | None = None):
    """A matplotlib figure with one small panel per method that kept a training history (``fn.history``, loss
    name -> values; the methods of :func:`load_methods`): every term that is not identically zero against the
    step, faint as logged and solid as a running mean over ``smooth`` steps (default: 1/20 of the run). A term
    logged only from a later step on (a schedule's later stage) has fewer values, drawn at the run's last steps.
    The y axis is logarithmic where a panel's terms are positive and span more than a decade."""
    import matplotlib.pyplot as plt

    histories = {name: getattr(fn, "history", None) for name, (_, fn) in methods.items()}
    histories = {name: h for name, h in histories.items() if h}
    if not histories:
        raise ValueError("none of the methods kept a training history (registry.Trained.history); nothing to plot")
    cols = min(columns, len(histories))
    rows = math.ceil(len(histories) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(2.6 * cols, 2.6 * rows), squeeze=False)
    for ax, (name, history) in zip(axes.flat, histories.items()):
        series = {k: np.asarray(v, dtype=float) for k, v in history.items() if np.any(np.asarray(v) != 0)}
        total = max(len(v) for v in series.values())
        window = smooth or max(1, total // 20)
        for k, y in series.items():
            x = np.arange(total - len(y), total)
            line, = ax.plot(x, _running_mean(y, window), lw=1.0, label=k)
            ax.plot(x, y, lw=0.4, alpha=0.3, color=line.get_color())
        ax.set_yscale(_scale(list(series.values())))
        _quiet_ticks(ax)
        ax.set_title(name, fontsize=8)
        ax.set_xlabel("step", fontsize=6)
        ax.tick_params(which="both", labelsize=6)
        # below the panel, never on the curves
        ax.legend(fontsize=5, frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.28), ncol=2)
    for ax in list(axes.flat)[len(histories):]:
        ax.axis("off")
    fig.tight_layout()
    return fig
