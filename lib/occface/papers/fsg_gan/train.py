"""FSG-GAN's training (Algorithm 1): V to its budget on Eq. 4, then G (Eq. 8) and D (Eq. 11) alternately
with V frozen; Adam 1e-4, beta = (0.5, 0.999) at ``full``. Each phase is one checkpointed, resumable
:class:`Trainer`; every batch comes from ``step_generator(seed, step)`` through ``TrainingPairs.batch``."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from ...faces.occlusion import KINDS, occlude
from ...faces.pairs import TrainingPairs
from ...nn.gan import GANSteps
from ...profiles import ProfileConfig
from ...runtime import seed_everything
from ...train import Trainer, checkpoint_path
from .model import (FSGGAN, Generator, LossWeights, StructureVAE, discriminator, discriminator_loss,
                    generator_loss, vae_loss)

PLACEMENTS = ("semantic", "random")
EVAL_FIELDS = ("table_images",)


@dataclass
class FSGConfig(ProfileConfig):
    """Sizes, schedule and switches; ``full`` is the paper's where it says (128 px, Adam 1e-4, batch 30),
    the smaller profiles shrink widths and schedules (and raise the learning rate to fit their few steps).

    Switches (Table 4 and beyond): ``hdc=False`` plain convs instead of HDC; ``disc="regular"`` a single
    head on D's last level; ``official_losses=True`` the released code's losses (no adversarial gradient
    for G, two dead D heads, exp(loss) head weights, a TV term).
    """
    profile: str
    image_size: int
    width: int                   # G's stem width w; V's encoder runs w/2 .. 4w
    z_dim: int
    batch: int                   # GAN phase (official: 30)
    vae_batch: int               # VAE phase (official: 128)
    vae_steps: int
    gan_steps: int
    lr: float = 1e-4
    betas: tuple[float, float] = (0.5, 0.999)
    lam: float = 1.0             # Eq. 10's lambda
    weights: LossWeights = field(default_factory=LossWeights)
    hdc: bool = True
    disc: str = "multi_rf"
    official_losses: bool = False
    identity_rows: int = 0       # faces per batch fed to F for L_ip (0 = all); FaceNet dominates CPU time
    identity_every: int = 1      # L_ip on every k-th G step (CPU budgets; 1 = every step, as the paper)
    occlusions_per_face: int = 1
    rotation: float = 15.0       # occluder rotation, degrees (Sec. 4.1: random rotation)
    sizes: tuple[float, ...] = (0.8, 1.0, 1.25)  # occluder size factors (Sec. 4.1: random size)
    max_train_images: int = 0
    table_images: int = 200      # test faces per Table 2 / Table 4 cell
    seed: int = 0

    SHARED = {"profile": "name", "image_size": "image_size", "max_train_images": "max_train_images"}
    PER_PROFILE = {
        "quick": dict(width=16, z_dim=64, batch=16, vae_batch=32, vae_steps=100, gan_steps=150, lr=1e-3,
                      identity_rows=2, identity_every=10, max_train_images=1000, table_images=64),
        "default": dict(width=16, z_dim=128, batch=16, vae_batch=32, vae_steps=500, gan_steps=400, lr=1e-3,
                        identity_rows=2, identity_every=4, occlusions_per_face=2, table_images=300),
        "full": dict(width=64, z_dim=512, batch=30, vae_batch=128, vae_steps=30000, gan_steps=60000, lr=1e-4,
                     occlusions_per_face=2, table_images=2000),
    }


def vae_key(cfg: FSGConfig) -> dict:
    """What shapes V: its sizes, its phase and the data; the GAN switches are left out, so every G
    variant (Table 4, official losses) reuses the same V."""
    keep = ("profile", "image_size", "width", "z_dim", "vae_batch", "vae_steps", "lr", "betas",
            "occlusions_per_face", "rotation", "sizes", "max_train_images", "seed")
    return {k: getattr(cfg, k) for k in keep}


def gan_key(cfg: FSGConfig) -> dict:
    """Every training field; evaluation sizes are left out so that re-scoring never retrains."""
    key = dataclasses.asdict(cfg)
    for name in EVAL_FIELDS:
        key.pop(name)
    return key


# ## Training data (Sec. 4.1)
def occlude_fsg(images: torch.Tensor, seed: int, landmarks: torch.Tensor | None = None, templates: str = "train",
                rotation: float = 15.0, sizes: tuple[float, ...] = (0.8, 1.0, 1.25)
                ) -> tuple[torch.Tensor, torch.Tensor]:
    """Sec. 4.1: occluders pasted "with random shape, location, rotation and size": per face a random kind
    (shape: a random template of it), a random placement (on the landmarks or anywhere, our choice),
    a random size factor from ``sizes`` and a rotation up to +-``rotation`` degrees. (images, mask)."""
    n = len(images)
    rng = np.random.default_rng(seed)
    draw = np.stack([rng.integers(len(KINDS), size=n), rng.integers(len(PLACEMENTS), size=n),
                     rng.integers(len(sizes), size=n)], 1)
    out, mask = images.clone(), torch.zeros(n, 1, *images.shape[-2:])
    for g, (k, p, s) in enumerate(np.unique(draw, axis=0)):
        sub = torch.from_numpy(np.flatnonzero((draw == (k, p, s)).all(1)))
        occ = occlude(images[sub], KINDS[k], scale=sizes[s], placement=PLACEMENTS[p], seed=seed * 131 + g,
                      templates=templates, rotation=rotation,
                      landmarks=None if landmarks is None else landmarks[sub])
        out[sub], mask[sub] = occ.images, occ.mask
    return out, mask


def training_pairs(cfg: FSGConfig) -> TrainingPairs:
    """LFW training identities (none of View-2 folds 6-10; the paper's CelebA is not available here), each
    face occluded ``occlusions_per_face`` times with the *training* half of the templates."""
    from ...faces.data import load_faces

    faces = load_faces("lfw", size=cfg.image_size, split="train", max_images=cfg.max_train_images,
                       seed=cfg.seed)
    draws = [occlude_fsg(faces.images, cfg.seed * 97 + v, faces.landmarks, "train", cfg.rotation, cfg.sizes)
             for v in range(cfg.occlusions_per_face)]
    reps = cfg.occlusions_per_face
    return TrainingPairs(occluded=torch.cat([d[0] for d in draws]), clean=faces.images.repeat(reps, 1, 1, 1),
                         identity=faces.identity.repeat(reps), mask=torch.cat([d[1] for d in draws]))


class LazyPairs:
    """``training_pairs(cfg)`` built on the first batch asked for, so a finished checkpoint loads without
    touching the faces."""

    def __init__(self, cfg: FSGConfig):
        self.cfg, self.data = cfg, None

    def batch(self, step: int, size: int, seed: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        if self.data is None:
            self.data = training_pairs(self.cfg)
        return self.data.batch(step, size, seed)


def identity_network() -> nn.Module:
    """F of Eq. 6: FaceNet from ``occface.nn.identity`` (in place of LightCNN)."""
    from ...nn.identity import identity_network as build

    return build()


def _adam(params, cfg: FSGConfig) -> torch.optim.Optimizer:
    return torch.optim.Adam(params, lr=cfg.lr, betas=cfg.betas)


@dataclass
class TrainedFSG:
    """The trained (V, G) as one restorer, V alone, the loss histories and the G checkpoint's name."""
    model: FSGGAN
    vae: StructureVAE
    history: dict
    checkpoint: str


# ## Algorithm 1, lines 1-5: V to its budget
def train_vae(cfg: FSGConfig, data: TrainingPairs | LazyPairs | None = None) -> tuple[StructureVAE, dict, str]:
    """Stage I on Eq. 4 (reconstruction of the clean face from the occluded one + KL). Returns the frozen
    V (eval mode), its history and its checkpoint name."""
    data = data if data is not None else LazyPairs(cfg)
    seed_everything(cfg.seed)
    vae = StructureVAE(cfg.image_size, cfg.width, cfg.z_dim)
    path = checkpoint_path("fsg-vae", vae_key(cfg))
    trainer = Trainer({"vae": vae}, {"opt": _adam(vae.parameters(), cfg)}, path, steps=cfg.vae_steps,
                      desc="FSG-GAN V")

    def step(i: int) -> dict[str, float]:
        occ, clean, _ = (t.to(trainer.device) for t in data.batch(i, cfg.vae_batch, cfg.seed + 1))
        g, mu, logvar = trainer.modules["vae"](occ * 2 - 1)
        rec, kl = vae_loss(g, clean * 2 - 1, mu, logvar)
        trainer.optimizers["opt"].zero_grad(set_to_none=True)
        trainer.backward(rec + kl)
        trainer.optimizers["opt"].step()
        return {"rec": rec.item(), "kl": kl.item()}

    history = trainer.fit(step)
    vae = vae.cpu().eval().requires_grad_(False)
    return vae, history, path.name


# ## Algorithm 1, lines 6-12: G and D alternately, V frozen
def train_fsg_gan(cfg: FSGConfig, identity: nn.Module | None = None,
                  data: TrainingPairs | LazyPairs | None = None) -> TrainedFSG:
    """V (reused when already trained), then G on Eq. 8 and D on Eq. 11 in turn each step (G first, as
    Algorithm 1 lists them). ``identity``: F of Eq. 6 (default: :func:`identity_network`)."""
    data = data if data is not None else LazyPairs(cfg)
    vae, vae_history, vae_name = train_vae(cfg, data)
    identity = identity if identity is not None else identity_network()
    if identity is not None:
        identity = identity.eval().requires_grad_(False)
    id_name = "none" if identity is None else getattr(identity, "name", type(identity).__name__)
    seed_everything(cfg.seed)
    gen, disc = Generator(cfg.width, cfg.hdc), discriminator(vae, cfg.disc, cfg.lam)
    path = checkpoint_path("fsg-gan", gan_key(cfg), vae_name, id_name)
    trainer = Trainer({"gen": gen, "disc": disc},
                      {"g": _adam(gen.parameters(), cfg), "d": _adam(disc.parameters(), cfg)},
                      path, steps=cfg.gan_steps, desc="FSG-GAN G/D")
    steps = GANSteps(trainer.modules["disc"], trainer.optimizers["d"], trainer.optimizers["g"], trainer)
    vae = vae.to(trainer.device)
    identity = identity.to(trainer.device) if identity is not None else None

    def step(i: int) -> dict[str, float]:
        occ, clean, _ = (t.to(trainer.device) for t in data.batch(i, cfg.batch, cfg.seed + 2))
        x, y = occ * 2 - 1, clean * 2 - 1
        with torch.no_grad():
            g = vae(x)[0]  # line 8: the trained V predicts the structure
        fake = trainer.modules["gen"](x, g)
        ident = identity if i % cfg.identity_every == 0 else None
        terms: dict[str, float] = {}

        def g_loss() -> torch.Tensor:
            total, parts = generator_loss(trainer.modules["disc"], fake, y, ident, cfg.weights,
                                          cfg.official_losses, cfg.identity_rows)
            terms.update(parts)
            return total

        terms["g"] = steps.g_step(g_loss)  # line 10: Eq. 8
        terms["d"] = steps.d_step(lambda: discriminator_loss(trainer.modules["disc"], y, fake,
                                                             cfg.official_losses))  # line 11: Eq. 11
        return terms

    history = trainer.fit(step)
    model = FSGGAN(vae.cpu(), gen.cpu().eval(), cfg.image_size).eval()
    return TrainedFSG(model, vae.cpu(), {"vae": vae_history, "gan": history}, path.name)
