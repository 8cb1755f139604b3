"""FROM's training recipe (Sec. 4.2) on the LFW *training* identities (CASIA-WebFace is not available here).

- **Baseline**: the backbone alone, trained from scratch on clean faces with CosFace (SGD, momentum 0.9,
  weight decay 5e-4, lr 0.1 divided by 10 at 15/40 and 30/40 of the schedule).
- every other model starts from the Baseline checkpoint and is fine-tuned (lr 0.01) on the mixed set of
  Alg. 1: a random occluder kind, a random scale S from 1.0:0.5:5.0, a random centre; one face in three
  left clean (Mix-WebFace's 2:1 ratio): **Baseline-Aug** (no Mask Decoder; lr /10 at 15/25),
  **Baseline-MD** (lambda = 0), **FROM** (K = 5, lambda = 1; lr /10 at 10/40 and 25/40) and the ablation
  variants of Tables 3, 4, 7, 8 and Fig. 12.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Sequence

import numpy as np
import torch

from ...faces.data import Faces, load_faces
from ...faces.occlusion import KINDS
from ...faces.pairs import occlude_mixed, step_generator
from ...nn.margins import COSFACE, MarginSoftmax
from ...profiles import Profile, ProfileConfig, get_profile
from ...runtime import seed_everything
from ...train import Trainer, checkpoint_path
from .model import FROMConfig, FROMNet, from_loss

SCALES = tuple(float(s) for s in np.arange(1.0, 5.01, 0.5))     # Alg. 1 / Sec. 4.2: S from 1.0:0.5:5.0
# Fig. 12: the nine kinds in alphabetical order of the paper's names, three groups of three
GROUPS = {"R1": ("book", "cup", "eye_mask"), "R2": ("eyeglasses", "hand", "mouth_mask"),
          "R3": ("phone", "scarf", "sunglasses")}
MAIN = ("Baseline", "Baseline-Aug", "Baseline-MD", "FROM")


@dataclass(frozen=True)
class FROMRecipe(ProfileConfig):
    """Training schedule (Sec. 4.2) scaled to a profile. Every fine-tuned model, main or ablation, gets
    ``finetune_steps``: Tables 3, 4, 7 and 8 compare ablations with FROM itself (K5, lambda 1, 3-D), so a shorter
    schedule for the ablations would confound the ablated choice with training length."""
    profile: str
    steps: int
    finetune_steps: int
    batch: int
    max_train_images: int
    lr: float = 0.1
    finetune_lr: float = 0.01
    momentum: float = 0.9
    weight_decay: float = 5e-4
    clean_fraction: float = 1 / 3      # Mix-WebFace: occluded : clean = 2 : 1
    seed: int = 0

    SHARED = {"profile": "name", "batch": "batch", "max_train_images": "max_train_images"}
    # (steps, finetune_steps). CPU budgets (quick <= 5 min, default <= 45 min for all 16 models on
    # 2 shared cores) train shorter than the profile's generic steps; full follows the profile (one GPU).
    PER_PROFILE = {
        "quick": dict(steps=150, finetune_steps=40),
        "default": dict(steps=600, finetune_steps=200),
        "full": dict(steps=60000, finetune_steps=20000),
    }


@dataclass(frozen=True)
class Variant:
    """One fine-tuned model: config changes, occluder kinds and scales seen in training, schedule."""
    name: str
    changes: dict = field(default_factory=dict)
    kinds: tuple[str, ...] = KINDS
    scales: tuple[float, ...] = SCALES
    milestones: tuple[float, ...] = (10 / 40, 25 / 40)


VARIANTS: dict[str, Variant] = {v.name: v for v in [
    Variant("Baseline-Aug", dict(mask="none"), milestones=(15 / 25,)),
    Variant("Baseline-MD", dict(lam=0.0)),
    Variant("FROM", {}),                               # K=5, lambda=1, 3-D masks, classification
    Variant("K3", dict(K=3)), Variant("K4", dict(K=4)), Variant("K6", dict(K=6)),   # Table 3
    Variant("λ0.5", dict(lam=0.5)),                                # Table 4
    Variant("FC", dict(mask="fc")), Variant("2D", dict(mask="2d")),                 # Table 7
    Variant("REG0.1", dict(pattern_head="reg", lam=0.1)),         # Table 8
    Variant("REG0.2", dict(pattern_head="reg", lam=0.2)),
    Variant("REG0.5", dict(pattern_head="reg", lam=0.5)),
    *[Variant(g, dict(K=4), kinds=kinds, scales=(1.0,)) for g, kinds in GROUPS.items()],  # Fig. 12: S=1, K=4
]}
ALIASES = {"K0": "Baseline", "K5": "FROM", "λ0": "Baseline-MD", "λ1.0": "FROM", "3D": "FROM"}


def _sgd(params, lr: float, r: FROMRecipe) -> torch.optim.Optimizer:
    return torch.optim.SGD(params, lr=lr, momentum=r.momentum, weight_decay=r.weight_decay)


def _fit(name: str, model: FROMNet, head: MarginSoftmax, faces: Faces, recipe: FROMRecipe, steps: int,
         lr: float, milestones: Sequence[float], occluded: bool, kinds: Sequence[str],
         scales: Sequence[float], key: tuple) -> dict[str, list[float]]:
    params = [p for p in list(model.parameters()) + list(head.parameters()) if p.requires_grad]
    opt = _sgd(params, lr, recipe)
    sched = torch.optim.lr_scheduler.MultiStepLR(opt, [max(1, int(m * steps)) for m in milestones], 0.1)
    trainer = Trainer({"model": model, "head": head}, {"sgd": opt}, checkpoint_path(f"from-{name}", *key),
                      steps=steps, desc=f"FROM {name}", schedulers={"lr": sched})
    cfg = model.config
    device = trainer.device
    n = len(faces.images)

    def step_fn(step: int) -> dict[str, float]:
        rng = step_generator(recipe.seed, step)
        idx = torch.randint(n, (recipe.batch,), generator=rng)
        x = faces.images[idx]
        flip = torch.rand(recipe.batch, generator=rng) < 0.5   # horizontal flips, as the official loader
        x = torch.where(flip[:, None, None, None], x.flip(-1), x)
        target = None
        if occluded:
            occ = occlude_mixed(x, seed=recipe.seed * 1_000_003 + step, kinds=kinds, scales=scales,
                                clean=recipe.clean_fraction, K=cfg.K if cfg.mask != "none" else None)
            x = occ.images
            target = occ.pattern if cfg.pattern_head == "cls" else occ.box
            target = None if target is None else target.to(device)
        loss = from_loss(trainer.modules["model"], trainer.modules["head"], x.to(device),
                         faces.identity[idx].to(device), target, cfg.lam)
        opt.zero_grad(set_to_none=True)
        trainer.backward(loss.total)
        opt.step()
        out = {"loss": loss.total.item(), "margin": loss.margin.item()}
        if loss.pred is not None:
            out["pred"] = loss.pred.item()
        return out

    return trainer.fit(step_fn)


class FROMModels:
    """Trains (or reloads from the checkpoint cache) every FROM model of a profile once, by table label."""

    def __init__(self, profile: str | Profile = "quick", seed: int = 0):
        self.profile = get_profile(profile)
        self.recipe = FROMRecipe.for_profile(self.profile, seed=seed)
        self.config = FROMConfig.for_profile(self.profile)
        self.seed = seed
        self._models: dict[str, FROMNet] = {}
        self._baseline_head: MarginSoftmax | None = None
        self.history: dict[str, dict[str, list[float]]] = {}

    @cached_property
    def train_faces(self) -> Faces:
        return load_faces("lfw", size=self.config.input_size, split="train",
                          max_images=self.recipe.max_train_images, seed=self.seed)

    def baseline(self) -> FROMNet:
        if "Baseline" not in self._models:
            seed_everything(self.seed)
            cfg = self.config.replace(mask="none")
            model, head = FROMNet(cfg), MarginSoftmax(cfg.embedding, int(self.train_faces.identity.max()) + 1,
                                                      **COSFACE)
            self.history["Baseline"] = _fit("Baseline", model, head, self.train_faces, self.recipe,
                                            self.recipe.steps, self.recipe.lr, (15 / 40, 30 / 40), False, KINDS,
                                            SCALES, (cfg, self.recipe, "baseline"))
            self._models["Baseline"], self._baseline_head = model.eval(), head
        return self._models["Baseline"]

    def model(self, name: str) -> FROMNet:
        """A trained model by its table label (e.g. "FROM", "K3", "λ0", "2D", "REG0.1", "R2")."""
        name = ALIASES.get(name, name)
        if name == "Baseline":
            return self.baseline()
        if name not in self._models:
            base = self.baseline()
            v = VARIANTS[name]
            seed_everything(self.seed)
            cfg = self.config.replace(**v.changes)
            model = FROMNet(cfg)
            missing, unexpected = model.load_state_dict(base.state_dict(), strict=False)
            if unexpected or any(k.split(".")[0] not in {"pyramid", "decoder", "predictor"} for k in missing):
                raise RuntimeError(f"{name}: the Baseline checkpoint does not fit (missing {missing}, "
                                   f"unexpected {unexpected}); delete the stale FROM checkpoints and rerun")
            head = MarginSoftmax(cfg.embedding, self._baseline_head.weight.shape[0], **COSFACE)
            head.load_state_dict(self._baseline_head.state_dict())
            steps = self.recipe.finetune_steps
            self.history[name] = _fit(name, model, head, self.train_faces, self.recipe, steps,
                                      self.recipe.finetune_lr, v.milestones, True, v.kinds, v.scales,
                                      (cfg, self.recipe, v.kinds, v.scales, steps, v.milestones, "finetune"))
            self._models[name] = model.eval()
        return self._models[name]
