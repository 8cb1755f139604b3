"""OA-GAN's Table III (PSNR/SSIM against mask-requiring methods fed OA-GAN's binarised predicted mask),
Table IV (loss ablation) and a mask table of ours (IoU of the predicted hole against the true synthetic mask,
per occluder kind, and the predicted hole on clean faces: Fig. 9's claim); builders return ``Table`` values.

The test set: LFW's test people (View-2 folds 6-10), occluded with the *test* half of the templates (kinds
and templates unseen in training), one kind per face, on the landmarks, rotated up to +-15 degrees.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch

from ...eval.metrics import psnr, ssim
from ...results import Cell
from ...tables import Table
from . import published
from .natural import occlude_rotated
from .train import OAGANConfig, TrainedOAGAN

Restore = Callable[[torch.Tensor], torch.Tensor]
BASELINES = {"GFC": "gfc", "GnIpt": "deepfill", "PConv": "pconv", "CSA": "csa"}  # Table III -> registry
EVAL_IMAGES = {"quick": 64, "default": 600, "full": 3000}
THRESHOLD = 0.5  # the binarisation of Fig. 10 (c); the paper does not give its threshold



def notes(cfg: OAGANConfig, data_note: str, features: str = "facenet") -> list[str]:
    """What every OA-GAN table must say about how its model was trained."""
    from ...nn.identity import substitute_note

    loss = (substitute_note("ImageNet VGG-16 (Eqs. 4-5)") if features == "facenet" else
            f"perceptual and style losses (Eqs. 4-5) on a '{features}' feature network, not FaceNet")
    return [loss,
            f"trained on LFW's training people (none of View-2 folds 6-10) at {cfg.net.image_size} px instead of "
            f"CelebA at 128 px; {cfg.steps} batches of {cfg.batch}, schedule '{cfg.schedule}'",
            data_note,
            "test: LFW test people with unseen occluder templates (one of nine kinds per face, +-15 degrees)"]


@dataclass
class TestSet:
    occluded: torch.Tensor
    clean: torch.Tensor
    mask: torch.Tensor   # 1 = occluder
    kinds: list[str]


def test_set(size: int, images: int, seed: int = 0) -> TestSet:
    """``images`` LFW test faces at ``size`` with one synthetic occluder each from the test templates."""
    from ...faces.data import load_faces

    faces = load_faces("lfw", size=size, split="test", max_images=images, seed=seed)
    occ, mask, kinds = occlude_rotated(faces.images, faces.landmarks, seed=seed + 1, templates="test")
    return TestSet(occ, faces.images, mask, kinds)


def _scores(restore: Restore, test: TestSet) -> tuple[float, float]:
    out = restore(test.occluded)
    return psnr(out, test.clean), ssim(out, test.clean)


def _available(name: str) -> bool:
    from ...baselines import registry

    return name in registry.available()


def table3(cfg: OAGANConfig, trained: TrainedOAGAN, test: TestSet) -> Table:
    """Table III: the mask-requiring methods get ``with_mask(inpainter, model.predict_mask, 0.5)``, OA-GAN
    predicts its own mask; columns of methods not registered yet are left empty."""
    from ...baselines import registry

    model = trained.model
    columns: dict[str, Restore | None] = {}
    for column, name in BASELINES.items():
        columns[column] = (registry.with_mask(registry.inpainter(name, cfg.profile), model.predict_mask,
                                              THRESHOLD) if _available(name) else None)
    columns["Proposed"] = model.restore
    cells, missing = [], [c for c, r in columns.items() if r is None]
    for column, restore in columns.items():
        p, s = _scores(restore, test) if restore is not None else (None, None)
        cells += [Cell("PSNR", column, p, published.TABLE3["PSNR"][column], unit="dB"),
                  Cell("SSIM", column, s, published.TABLE3["SSIM"][column], unit="")]
    extra = [f"not registered yet, left empty: {', '.join(missing)}"] if missing else []
    return Table("table3_psnr_ssim", cells, "Table III: PSNR (dB) and SSIM, mask-requiring methods fed "
                 "OA-GAN's binarised predicted mask", notes(cfg, trained.data_note, trained.features) + extra +
                 [f"mask binarised at {THRESHOLD}; {len(test.clean)} test faces; PSNR/SSIM on [0,1] RGB"], digits=3)


def table4(cfg: OAGANConfig, models: dict[str, TrainedOAGAN], test: TestSet) -> Table:
    """Table IV: PSNR / SSIM of the models trained without one loss term (``train.train_ablations``)."""
    cells = []
    for column, trained in models.items():
        p, s = _scores(trained.model.restore, test)
        cells += [Cell("PSNR", column, p, published.TABLE4["PSNR"][column], unit="dB"),
                  Cell("SSIM", column, s, published.TABLE4["SSIM"][column], unit="")]
    return Table("table4_ablation", cells, "Table IV: PSNR (dB) and SSIM when one loss term is discarded",
                 notes(cfg, trained.data_note, trained.features) +
                 [f"{len(test.clean)} test faces; one model per column, same seed and batches"],
                 digits=3)


def mask_iou(hole: torch.Tensor, truth: torch.Tensor, threshold: float = THRESHOLD) -> np.ndarray:
    """Per-image IoU of ``hole > threshold`` with the true mask (1 when both are empty)."""
    pred, true = hole > threshold, truth > 0.5
    inter = (pred & true).flatten(1).sum(1).double()
    union = (pred | true).flatten(1).sum(1).double()
    return torch.where(union > 0, inter / union.clamp_min(1), torch.ones_like(union)).numpy()


def mask_table(cfg: OAGANConfig, trained: TrainedOAGAN, test: TestSet) -> Table:
    """Ours: IoU of the binarised predicted hole with the true mask per occluder kind; on the clean test
    faces, the predicted hole's area (Fig. 9: "very minor occlusion masks") and PSNR of x_final to the input."""
    model = trained.model
    hole = model.predict_mask(test.occluded)
    iou, kinds = mask_iou(hole, test.mask), np.array(test.kinds)
    area = (hole > THRESHOLD).float().mean((1, 2, 3)).numpy()
    cells = []
    for kind in sorted(set(test.kinds)):
        sel = kinds == kind
        cells += [Cell(kind, "IoU", float(iou[sel].mean()), unit=""),
                  Cell(kind, "predicted area", float(area[sel].mean()), unit=""),
                  Cell(kind, "true area", float(test.mask[torch.from_numpy(sel)].mean()), unit="")]
    cells += [Cell("all occluded", "IoU", float(iou.mean()), unit=""),
              Cell("all occluded", "predicted area", float(area.mean()), unit=""),
              Cell("all occluded", "true area", float(test.mask.mean()), unit="")]
    clean_hole = model.predict_mask(test.clean)
    cells += [Cell("clean faces", "predicted area", float((clean_hole > THRESHOLD).float().mean()), unit=""),
              Cell("clean faces", "PSNR to input", psnr(model.restore(test.clean), test.clean), unit="dB")]
    return Table("mask_iou", cells, "Predicted occlusion mask vs the true synthetic mask (ours; no paper "
                 "counterpart), and on clean faces (Fig. 9)", notes(cfg, trained.data_note, trained.features) +
                 [f"hole = 1 - M binarised at {THRESHOLD}; area = fraction of the image"], digits=3)
