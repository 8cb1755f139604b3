"""OA-GAN's alternating training (Sec. III-C, IV-B): paired batches with synthetic occluders (Eq. 8) alternate
with unpaired natural batches (Eq. 9); WGAN-GP critic steps on every batch, generator steps on every
``g_every``-th. One checkpointed, resumable :class:`Trainer` per configuration (Table IV: one per ablation).

Schedules (``schedule``):

- ``"paper"``: paired batches only for the first ``warmup`` of training (the auxiliary stage that "makes a
  good initialization"; its length is not given), then natural batches at 1 in 11 (paired:natural = 10:1),
  their share growing linearly until 1:1 at ``ramp`` of training (the paper gives no rate), 1:1 after. The
  choice is made per generator update, so D and G see the same share.
- ``"official"``: every ``official_every``-th batch is natural, fixed (official ``train3.py``: 1 in 10; with
  G stepping every 5th batch, half of G's updates are natural).
- ``"pretrain"``: Fig. 15's "training method 1": paired batches only until ``ramp`` of training (pre-training),
  natural batches only after (fine-tuning), for comparison with the alternating schedule.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import torch
from torch import nn

from ...faces.pairs import step_generator
from ...nn.gan import GANSteps
from ...nn.losses import PerceptualStyle
from ...profiles import ProfileConfig
from ...runtime import seed_everything
from ...train import Trainer, checkpoint_path
from .model import OAGAN, Discriminator, LossWeights, NetConfig, discriminator_losses, generator_losses
from .natural import OAGANData, load_data


@dataclass(frozen=True)
class OAGANConfig(ProfileConfig):
    """Everything that shapes a trained OA-GAN. ``full`` is the paper's (128 px, Adam 1e-4, batch 48 and
    beta1 0.5 from the official code); ``quick`` / ``default`` shrink widths, batches and schedules."""
    profile: str
    net: NetConfig
    batch: int
    steps: int                   # batches = critic updates
    g_every: int = 5             # official train_G_every_n_iterations (the paper does not say)
    lr: float = 1e-4
    beta1: float = 0.5
    schedule: str = "paper"      # "paper" | "official" | "pretrain" (Fig. 15)
    warmup: float = 0.1
    ramp: float = 0.5
    official_every: int = 10
    perceptual_batch: int = 0    # faces per batch for Eqs. 4-5 (0 = all): FaceNet at 160 px is the CPU cost
    # share of each paired batch left unoccluded (empty known mask; not in the paper): with known_mask alone the
    # mask learns "there is always an occluder" (16 % of a clean face predicted hole on validation; 2 % with 0.25)
    clean_share: float = 0.25
    weights: LossWeights = field(default_factory=LossWeights)
    drop: tuple[str, ...] = ()   # Table IV: names from model.ABLATIONS
    attributes: bool = True      # False: no attribute head, synthetic natural batches (the fallback)
    max_train_images: int = 0
    seed: int = 0

    SHARED = {"profile": "name", "max_train_images": "max_train_images"}
    PER_PROFILE = {
        # one CPU thread, < 60 s: tiny nets; FaceNet features (160 px chips, the main cost) on 1 face a step
        "quick": dict(batch=8, steps=80, g_every=2, lr=4e-4, perceptual_batch=1, net=dict(res_blocks=2)),
        # measured 16 min a model on the shared 2-core CPU (load ~8); a smaller run (batch 8, 600 batches, 1 face
        # for Eqs. 4-5) left the predicted mask nearly empty (IoU 0.04 vs 0.37 here). Table IV trains six
        "default": dict(batch=16, steps=800, g_every=2, lr=2e-4, perceptual_batch=2),
        # the paper's sizes; official batch 48, G every 5th batch; 60k batches = 12k G updates (paper: 100+10 epochs
        # of CelebA, not comparable on LFW's ~5k clean training photos)
        "full": dict(batch=48, steps=60000, g_every=5),
    }


@dataclass
class TrainedOAGAN:
    """The trained generator (``restore`` / ``predict_mask``), its loss history and checkpoint name."""
    model: OAGAN
    history: dict
    checkpoint: str
    data_note: str = ""
    features: str = "facenet"    # the feature network of Eqs. 4-5 ("none": trained without them)


def natural_steps(cfg: OAGANConfig) -> np.ndarray:
    """Boolean per batch: True where the batch is natural (see the module docstring)."""
    steps = np.arange(cfg.steps)
    if cfg.schedule == "official":
        return (steps + 1) % cfg.official_every == 0
    if cfg.schedule not in ("paper", "pretrain"):
        raise ValueError(f"schedule must be 'paper', 'official' or 'pretrain', got {cfg.schedule!r}")
    updates = -(-cfg.steps // cfg.g_every)
    t = np.arange(updates) / max(updates, 1)
    if cfg.schedule == "pretrain":
        return (t >= cfg.ramp)[steps // cfg.g_every]
    grow = np.clip((t - cfg.warmup) / max(cfg.ramp - cfg.warmup, 1e-9), 0, 1)
    share = np.where(t < cfg.warmup, 0.0, 1 / 11 + (1 / 2 - 1 / 11) * grow)
    count = np.floor(np.concatenate([[0.0], np.cumsum(share)]) + 1e-9)
    natural_update = count[1:] > count[:-1]  # a natural batch whenever the running share passes an integer
    return natural_update[steps // cfg.g_every]


def train_key(cfg: OAGANConfig, features: str) -> dict:
    return dataclasses.asdict(cfg) | {"features": features}


@lru_cache(maxsize=4)
def training_data(size: int, max_images: int, seed: int, attributes: bool) -> OAGANData:
    return load_data(size, max_images=max_images, seed=seed, attributes=attributes)


def _feature_network() -> tuple[nn.Module, str]:
    """``occface.nn.identity.feature_network()`` (FaceNet, CASIA-WebFace) and its name for the checkpoint key."""
    from ...nn.identity import feature_network

    return feature_network(), "facenet"


def _init_generator(module: nn.Module) -> None:
    """N(0, 0.02) conv weights, as the official code (the paper does not say); D keeps torch's default."""
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
        nn.init.normal_(module.weight, 0.0, 0.02)


def train_oa_gan(cfg: OAGANConfig, features: nn.Module | None = None,
                 data: OAGANData | None = None) -> TrainedOAGAN:
    """Train (or reuse / resume) OA-GAN. ``features``: the frozen feature network of Eqs. 4-5 (default:
    FaceNet's, fetched lazily); ``data``: the training sets (default: :func:`natural.load_data`)."""
    name = type(features).__name__ if features is not None else None
    if features is None and not {"perceptual", "style"} <= set(cfg.drop):
        features, name = _feature_network()
    data = data or training_data(cfg.net.image_size, cfg.max_train_images, cfg.seed, cfg.attributes)
    net_cfg = dataclasses.replace(cfg.net, attributes=data.attributes)
    seed_everything(cfg.seed)
    gen, disc = OAGAN(net_cfg), Discriminator(net_cfg)
    gen.apply(_init_generator)
    opt = {k: torch.optim.Adam(m.parameters(), lr=cfg.lr, betas=(cfg.beta1, 0.999))
           for k, m in (("g", gen), ("d", disc))}
    path = checkpoint_path("oa-gan", train_key(cfg, name or "none"))
    trainer = Trainer({"gen": gen, "disc": disc}, opt, path, steps=cfg.steps, desc=f"OA-GAN {cfg.profile}")
    ps = PerceptualStyle(features).to(trainer.device) if features is not None else None
    step = _step_fn(cfg, trainer, data, ps)
    history = trainer.fit(step)
    return TrainedOAGAN(trainer.unwrapped("gen").cpu().eval(), history, path.name, data.note,
                        name or "none")


def train_ablations(cfg: OAGANConfig, features: nn.Module | None = None,
                    data: OAGANData | None = None) -> dict[str, TrainedOAGAN]:
    """Table IV: one model per column, each without one loss term ("w/ all losses" is ``cfg`` itself)."""
    from .published import TABLE4_DROP

    return {column: train_oa_gan(dataclasses.replace(cfg, drop=(drop,) if drop else ()), features, data)
            for column, drop in TABLE4_DROP.items()}


def train_strategies(cfg: OAGANConfig, features: nn.Module | None = None,
                     data: OAGANData | None = None) -> dict[str, TrainedOAGAN]:
    """Fig. 15: training method 1 (pre-train on pairs, then fine-tune on natural faces) and method 2 (the
    alternating schedule of ``cfg``), same length, seed and batches."""
    return {"(1) pre-train, fine-tune": train_oa_gan(dataclasses.replace(cfg, schedule="pretrain"), features, data),
            "(2) alternating": train_oa_gan(cfg, features, data)}


def _step_fn(cfg: OAGANConfig, trainer: Trainer, data: OAGANData, ps: PerceptualStyle | None):
    """One batch: a WGAN-GP critic update (Eq. 3), then, every ``g_every``-th batch, a generator update on
    Eq. 8 (paired) or Eq. 9 (natural)."""
    natural = natural_steps(cfg)
    w = cfg.weights.without(cfg.drop)
    gen, disc = trainer.modules["gen"], trainer.modules["disc"]
    steps = GANSteps(disc=disc, opt_d=trainer.optimizers["d"], opt_g=trainer.optimizers["g"], backward=trainer)
    dev = trainer.device

    def step(i: int) -> dict[str, float]:
        rng = step_generator(cfg.seed, i)
        attrs = known = gt = occluder = None
        if natural[i]:
            x, real = (t.to(dev) for t in data.natural_batch(rng, cfg.batch))
        else:
            b = data.paired_batch(rng, cfg.batch, cfg.clean_share)
            x, gt, occluder = b.occluded.to(dev), b.clean.to(dev), b.mask.to(dev)
            real = gt
            if b.attrs is not None:
                attrs, known = b.attrs.to(dev), b.known.to(dev)
        alpha = torch.rand(cfg.batch, 1, 1, 1, generator=rng).to(dev)
        update_g = (i + 1) % cfg.g_every == 0
        with torch.set_grad_enabled(update_g):
            out = gen(x)
        d_terms: dict = {}

        def d_loss() -> torch.Tensor:
            d_terms.update(discriminator_losses(disc, real, out.final, w, attrs, known, alpha))
            return d_terms["total"]

        steps.d_step(d_loss)
        logs = {f"d_{k}": v.item() for k, v in d_terms.items()}
        if update_g:
            g_terms: dict = {}

            def g_loss() -> torch.Tensor:
                g_terms.update(generator_losses(out, disc, w, gt, ps, attrs, known,
                                                perceptual_rows=slice(None, cfg.perceptual_batch or None),
                                                occluder=occluder))
                return g_terms["total"]

            steps.g_step(g_loss)
            kind = "natural" if natural[i] else "paired"
            logs |= {f"g_{k}": v.item() for k, v in g_terms.items()} | {f"g_total_{kind}": g_terms["total"].item()}
        return logs

    return step
