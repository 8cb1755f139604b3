"""# CL / CoopNets: cooperative learning of a descriptor and a generator via MCMC teaching

Xie, Lu, Gao, Wu, *Cooperative Learning of Energy-Based Model and Latent Variable Model via MCMC Teaching*,
AAAI 2018 (ID-GAN's "CL", its ref. [21]; registered as ``coopnets``, its alias maps "cl" to it). Facts the
paper leaves out come from the official TF code (jianwen-xie/CoopNets ``model/model.py``;
official-code-notes.md Sec. 4). The file reads like Sec. 2-3:

1. the descriptor, an energy-based model p(Y) ~ exp(f(Y)) q(Y), q = N(0, sigma_D^2 I) (Eq. 1): conv 5x5/2 64,
   3x3/2 128, 3x3 256 (LeakyReLU), fc 100; f(Y) = the sum of the 100 outputs (what ``tf.gradients`` of them
   differentiates);
2. the generator Y = g(X) + eps, X ~ N(0, I_100), eps ~ N(0, sigma_G^2 I) (Eq. 5): transposed convs 8w (from
   1x1 to size/16), then 4w, 2w, w and 3 at 5x5/2 (BN, LeakyReLU; tanh out);
3. Algorithm 1: the generator proposes Y^ = g(X); the descriptor revises it by l_D Langevin steps (Eq. 3,
   step delta = 0.002, sigma_D = 0.016) into Y~; the descriptor learns from (Y_obs, Y~) (Eq. 2) and the
   generator learns to map X to Y~ (Eq. 7: the MCMC "teaching"). The official default runs no Langevin on
   X (``gen_sample_steps`` = 0), nor do we.

Inpainting. CoopNets learns faces unconditionally (here: clean faces of the training identities) and its
repository has no inpainting code; ID-GAN does not say how it ran CL on its masked faces. Our choice: (a)
infer X from the visible pixels by Langevin on the generator's posterior restricted to them (Eq. 6 with
the mask; step 0.1, sigma_G = 0.3 as the official generator Langevin), (b) fill the hole with g(X), (c) run
the descriptor's Langevin dynamics on the hole pixels with the visible ones clamped, i.e. sample from the
descriptor's conditional p(Y_hole | Y_visible). Noise is drawn from a fixed seed, so a call is deterministic.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Callable

import torch
from torch import Tensor, nn

from ..faces.pairs import step_generator
from ..profiles import BASELINE_SHARED, Profile, ProfileConfig
from .deepfill import composite
from ..registry import Trained, register


# ## Configuration
@dataclass(frozen=True)
class CoopNetsConfig(ProfileConfig):
    """``full``: the official widths (descriptor 64, generator 64 -> 512 channels) at 128 px."""
    profile: str
    image_size: int
    gen_width: int
    des_width: int
    batch: int                 # official 100
    steps: int
    des_lr: float = 1e-3       # official Adam, beta1 0.5 (model.py defaults)
    gen_lr: float = 1e-4
    des_steps: int = 10        # l_D Langevin steps
    des_delta: float = 0.002
    des_sigma: float = 0.016   # reference distribution q
    gen_sigma: float = 0.3
    latent: int = 100
    infer_steps: int = 100     # inpainting: Langevin steps on X (ours)
    infer_delta: float = 0.1   # official ``gen_step_size``
    fill_steps: int = 10       # inpainting: descriptor Langevin steps on the hole (ours: = l_D)
    max_train_images: int = 0
    seed: int = 0

    # quick/default: narrow nets and a larger generator lr for a CPU budget; the descriptor's lr halved (at 1e-3 its
    # energy gap f(Y_obs) - f(Y~) reached 1e7 within 150 quick steps, at 5e-4 about 3e5)
    SHARED = BASELINE_SHARED
    PER_PROFILE = {
        "quick": dict(gen_width=8, des_width=8, batch=16, des_lr=5e-4, gen_lr=1e-3, infer_steps=30),
        "default": dict(gen_width=16, des_width=16, batch=32, des_lr=5e-4, gen_lr=1e-3, steps=1000),
        "full": dict(gen_width=64, des_width=64, batch=100),
    }


# ## 1. The descriptor (Eq. 1)
class Descriptor(nn.Module):
    """f(Y): conv 5x5/2 w, 3x3/2 2w, 3x3 4w (LeakyReLU 0.2), fc 100; ``forward`` returns f summed, [N]."""

    def __init__(self, image_size: int, width: int = 64):
        super().__init__()
        side = image_size // 4
        self.net = nn.Sequential(nn.Conv2d(3, width, 5, 2, 2), nn.LeakyReLU(0.2),
                                 nn.Conv2d(width, 2 * width, 3, 2, 1), nn.LeakyReLU(0.2),
                                 nn.Conv2d(2 * width, 4 * width, 3, 1, 1), nn.LeakyReLU(0.2),
                                 nn.Flatten(), nn.Linear(4 * width * side * side, 100))

    def forward(self, y: Tensor) -> Tensor:
        return self.net(y).sum(1)


# ## 2. The generator (Eq. 5)
class Generator(nn.Module):
    """g(X): X [N, latent] -> transposed conv to 8w x size/16 x size/16, then four 5x5/2 transposed convs
    (BN + LeakyReLU, tanh on the last) to 3 x size x size."""

    def __init__(self, image_size: int, width: int = 64, latent: int = 100):
        super().__init__()
        start = image_size // 16
        ch = [8 * width, 4 * width, 2 * width, width]
        layers: list[nn.Module] = [nn.ConvTranspose2d(latent, ch[0], start), nn.BatchNorm2d(ch[0]), nn.LeakyReLU(0.2)]
        for cin, cout in zip(ch, ch[1:]):
            layers += [nn.ConvTranspose2d(cin, cout, 5, 2, 2, output_padding=1), nn.BatchNorm2d(cout),
                       nn.LeakyReLU(0.2)]
        layers += [nn.ConvTranspose2d(ch[-1], 3, 5, 2, 2, output_padding=1), nn.Tanh()]
        self.net = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x[:, :, None, None])


# ## 3. Langevin dynamics and Algorithm 1
def descriptor_langevin(des: Descriptor, y: Tensor, cfg: CoopNetsConfig, rng: torch.Generator,
                        steps: int, frozen: Tensor | None = None) -> Tensor:
    """Eq. 3: Y <- Y + delta^2/2 (df/dY - Y / sigma_D^2) + delta N(0, I). ``frozen`` (1 = keep) clamps pixels."""
    y = y.detach()
    keep = y if frozen is None else y * frozen
    for _ in range(steps):
        y = y.requires_grad_(True)
        (grad,) = torch.autograd.grad(des(y).sum(), y)
        noise = torch.randn(y.shape, generator=rng).to(y)
        y = (y + 0.5 * cfg.des_delta ** 2 * (grad - y / cfg.des_sigma ** 2) + cfg.des_delta * noise).detach()
        if frozen is not None:
            y = keep + y * (1 - frozen)
    return y


def infer_latent(gen: Generator, y: Tensor, visible: Tensor, cfg: CoopNetsConfig, rng: torch.Generator) -> Tensor:
    """Eq. 6 on the visible pixels: X <- X - s^2/2 (X + d/dX ||V (Y - g(X))||^2 / (2 sigma_G^2)) + s N(0, I)."""
    x = torch.randn(y.shape[0], cfg.latent, generator=rng).to(y)
    s = cfg.infer_delta
    for _ in range(cfg.infer_steps):
        x = x.requires_grad_(True)
        energy = (visible * (y - gen(x))).pow(2).flatten(1).sum(1) / (2 * cfg.gen_sigma ** 2)
        (grad,) = torch.autograd.grad(energy.sum(), x)
        x = (x - 0.5 * s ** 2 * (x + grad) + s * torch.randn(x.shape, generator=rng).to(x)).detach()
    return x


def make_step(des: Descriptor, gen: Generator, opt_d: torch.optim.Optimizer, opt_g: torch.optim.Optimizer,
              cfg: CoopNetsConfig, batch: Callable[[int], Tensor], backward: Callable | None = None
              ) -> Callable[[int], dict[str, float]]:
    """Algorithm 1 on ``batch(i)`` (clean faces in [0,1]); its noise comes from ``step_generator``."""
    backward = backward or Tensor.backward

    def step(i: int) -> dict[str, float]:
        obs = batch(i) * 2 - 1
        rng = step_generator(cfg.seed + 6, i)
        x = torch.randn(obs.shape[0], cfg.latent, generator=rng).to(obs)
        with torch.no_grad():
            proposed = gen(x)                                                        # step 1
        revised = descriptor_langevin(des, proposed, cfg, rng, cfg.des_steps)          # step 2
        loss_d = des(revised).mean() - des(obs).mean()                               # step 3, Eq. 2
        opt_d.zero_grad(set_to_none=True)
        backward(loss_d)
        opt_d.step()
        loss_g = (revised - gen(x)).pow(2).flatten(1).sum(1).mean() / (2 * cfg.gen_sigma ** 2)  # step 4, Eq. 7
        opt_g.zero_grad(set_to_none=True)
        backward(loss_g)
        opt_g.step()
        return {"descriptor": loss_d.item(), "generator": loss_g.item()}
    return step


@dataclass
class CoopNets:
    """The trained pair; ``predict(images, hole)`` inpaints as the module docstring says ([0,1] in and out)."""
    des: Descriptor
    gen: Generator
    cfg: CoopNetsConfig

    def predict(self, images: Tensor, hole: Tensor) -> Tensor:
        rng = torch.Generator().manual_seed(self.cfg.seed)
        y, visible = images * 2 - 1, 1 - hole
        with torch.enable_grad():
            x = infer_latent(self.gen, y, visible, self.cfg, rng)
            with torch.no_grad():
                start = y * visible + self.gen(x) * hole
            out = descriptor_langevin(self.des, start, self.cfg, rng, self.cfg.fill_steps, frozen=visible)
        return (out.clamp(-1, 1) + 1) / 2


def train_coopnets(cfg: CoopNetsConfig, clean: Tensor | None = None) -> Trained:
    """Train (or load) CoopNets on clean training faces: both networks in eval mode (a ``CoopNets``) and the loss
    history."""
    from ..faces.data import load_faces
    from ..runtime import seed_everything
    from ..train import Trainer, checkpoint_path

    if clean is None:
        clean = load_faces("lfw", size=cfg.image_size, split="train", max_images=cfg.max_train_images,
                           seed=cfg.seed).images
    seed_everything(cfg.seed)
    des, gen = Descriptor(cfg.image_size, cfg.des_width), Generator(cfg.image_size, cfg.gen_width, cfg.latent)
    opt_d = torch.optim.Adam(des.parameters(), lr=cfg.des_lr, betas=(0.5, 0.999))
    opt_g = torch.optim.Adam(gen.parameters(), lr=cfg.gen_lr, betas=(0.5, 0.999))
    trainer = Trainer({"des": des, "gen": gen}, {"des": opt_d, "gen": opt_g},
                      checkpoint_path("coopnets", dataclasses.asdict(cfg)), steps=cfg.steps, desc="CoopNets")

    def batch(i: int) -> Tensor:
        idx = torch.randint(len(clean), (cfg.batch,), generator=step_generator(cfg.seed + 7, i))
        return clean[idx].to(trainer.device)

    history = trainer.fit(make_step(trainer.modules["des"], trainer.modules["gen"], trainer.optimizers["des"],
                          trainer.optimizers["gen"], cfg, batch, trainer.backward))
    return Trained(CoopNets(des.cpu().eval(), gen.cpu().eval(), cfg), history)


@register("coopnets", "inpainter", "Xie et al., AAAI 2018 (CoopNets; ID-GAN's CL)", keeps_known=True,
          aliases=("cl",))  # ID-GAN's name for it
def _coopnets(profile: Profile):
    cfg = CoopNetsConfig.for_profile(profile)
    trained = train_coopnets(cfg)
    return Trained(composite(trained.model.predict, cfg.image_size), trained.history)
