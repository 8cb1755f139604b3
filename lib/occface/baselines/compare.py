"""Every comparison method on the same held-out faces and occluders (notebooks/03_baselines): PSNR / SSIM
with intervals, dlib verification accuracy of the restored faces, training time, a grid per occluder kind."""

from __future__ import annotations

import time
from typing import Sequence

import torch

from ..faces.occlusion import occlude
from ..profiles import Profile, get_profile
from ..results import Cell
from ..tables import Table
from . import registry

BASELINES = ("pm", "deepfill", "pconv", "csa", "coopnets", "cyclegan")
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
             "Inpainters (PM, DeepFill, PConv, CSA, CoopNets) receive the true occluder mask; CycleGAN finds it "
             "itself. Perceptual/style terms use FaceNet in place of ImageNet VGG-16 where a method has them.",
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
