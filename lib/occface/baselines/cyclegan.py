"""# CycleGAN: unpaired occluded <-> clean translation

Zhu, Park, Isola, Efros, *Unpaired Image-to-Image Translation using Cycle-Consistent Adversarial Networks*,
ICCV 2017 (FSG-GAN's "Cycle-GAN", its ref. [51]; FSG-GAN retrained the official code on its data). The file
reads like Sec. 3-4 of the paper, with the official code's (junyanz/pytorch-CycleGAN-and-pix2pix) facts:

1. the generators G: occluded -> clean and F: clean -> occluded, a ResNet (Sec. 4 / Appendix 7.2:
   c7s1-k, d2k, d4k, R4k x n, u2k, uk, c7s1-3, instance norm, tanh; 6 blocks at 128 px);
2. 70x70 PatchGAN discriminators D_Y, D_X (``occface.nn.discriminators.PatchGAN``);
3. the full objective (Eq. 3): LSGAN adversarial losses (Eq. 1 with least squares, Sec. 4.2) + lambda = 10
   cycle consistency (Eq. 2) + the identity loss 0.5 lambda (Sec. 5.2, official ``lambda_identity``);
4. the history of 50 generated images that the discriminators see (Sec. 4.2, Shrivastava et al.).

It is a restorer: no mask, the occluded face is translated as a whole. Training sets are unpaired: the
occluded faces of one half of the training people and the clean faces of the other half.
Deviations: batch ``batch`` instead of 1 and a step budget instead of 100 + 100 epochs (the lr still decays
linearly to 0 over the second half); residual blocks zero-pad (the shared ``ResidualBlock``) where the
official ones reflect-pad.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..faces.pairs import step_generator
from ..nn.adversarial import GANLoss
from ..nn.blocks import ResidualBlock, conv_norm_act
from ..nn.discriminators import PatchGAN
from ..nn.gan import GANSteps
from ..profiles import BASELINE_SHARED, Profile, ProfileConfig
from .deepfill import face_pairs
from ..registry import Trained, register


# ## Configuration
@dataclass(frozen=True)
class CycleGANConfig(ProfileConfig):
    """``full``: the official sizes (ngf = ndf = 64, 6 residual blocks for 128 px); smaller profiles shrink."""
    profile: str
    image_size: int
    width: int              # ngf (official 64)
    disc_width: int         # ndf (official 64)
    blocks: int             # residual blocks (official: 6 at 128 px, 9 at 256 px)
    batch: int              # official 1
    steps: int
    lr: float = 2e-4        # Adam, betas (0.5, 0.999)
    disc_layers: int = 3    # PatchGAN n_layers (3: 70x70 patches)
    lam: float = 10.0       # cycle weight, each direction
    identity: float = 0.5   # identity loss weight, times lam
    pool: int = 50          # image history per discriminator
    max_train_images: int = 0
    seed: int = 0

    # quick/default: narrow nets, fewer blocks, a larger lr (and at default fewer steps: ~0.4 s a step on one
    # CPU thread) for a CPU budget
    SHARED = BASELINE_SHARED
    PER_PROFILE = {
        "quick": dict(width=8, disc_width=8, blocks=2, batch=8, lr=1e-3),
        "default": dict(width=16, disc_width=16, blocks=4, batch=8, lr=5e-4, steps=1000),
        "full": dict(width=64, disc_width=64, blocks=6, batch=1, lr=2e-4),
    }


# ## Unpaired training sets
@dataclass
class UnpairedFaces:
    """Domain X = occluded faces of some training people, Y = clean faces of the others (no face in both)."""
    occluded: Tensor
    clean: Tensor

    def batch(self, step: int, size: int, seed: int) -> tuple[Tensor, Tensor]:
        rng = step_generator(seed, step)
        return (self.occluded[torch.randint(len(self.occluded), (size,), generator=rng)],
                self.clean[torch.randint(len(self.clean), (size,), generator=rng)])


def unpaired_faces(cfg: CycleGANConfig) -> UnpairedFaces:
    """Training people split in two halves by a seeded permutation: occluded faces of one, clean of the other."""
    pairs = face_pairs(cfg.image_size, cfg.max_train_images, cfg.seed)
    people = pairs.identity.unique()
    half = people[torch.randperm(len(people), generator=torch.Generator().manual_seed(cfg.seed))[: len(people) // 2]]
    in_x = torch.isin(pairs.identity, half)
    return UnpairedFaces(pairs.occluded[in_x], pairs.clean[~in_x])


# ## 1. The ResNet generator (Appendix 7.2)
def _c7s1(cin: int, cout: int, last: bool = False) -> nn.Sequential:
    """Reflection-padded 7x7 conv; instance norm + ReLU, or tanh for the output layer."""
    conv = conv_norm_act(cin, cout, 7, norm="none" if last else "instance", act="none" if last else "relu")
    conv.conv.padding = (0, 0)  # the reflection pad replaces the zero pad
    return nn.Sequential(nn.ReflectionPad2d(3), *conv, *([nn.Tanh()] if last else []))


class ResnetGenerator(nn.Module):
    """c7s1-k, d2k, d4k, ``blocks`` x R4k, u2k, uk, c7s1-3; images in [-1,1] in and out."""

    def __init__(self, width: int = 64, blocks: int = 6):
        super().__init__()
        k = width
        self.net = nn.Sequential(
            _c7s1(3, k), conv_norm_act(k, 2 * k, 3, 2, norm="instance"), conv_norm_act(2 * k, 4 * k, 3, 2, norm="instance"),
            *[ResidualBlock(4 * k, norm="instance") for _ in range(blocks)],
            conv_norm_act(4 * k, 2 * k, 3, 2, norm="instance", transpose=True),
            conv_norm_act(2 * k, k, 3, 2, norm="instance", transpose=True), _c7s1(k, 3, last=True))

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)


# ## 4. Image history (Sec. 4.2)
class ImagePool(nn.Module):
    """The official ``ImagePool``: until full, fakes are stored and returned; then each fake, with probability
    1/2, swaps with a random stored one (the old one is returned) or is returned as is. A module with buffers,
    so the Trainer checkpoints it; its draws come from the step's generator, so a resumed run agrees."""

    def __init__(self, size: int, shape: tuple[int, ...]):
        super().__init__()
        self.size = size
        self.register_buffer("images", torch.zeros(size, *shape))
        self.register_buffer("count", torch.zeros((), dtype=torch.long))

    @torch.no_grad()
    def query(self, fakes: Tensor, rng: torch.Generator) -> Tensor:
        if self.size == 0:
            return fakes
        out = fakes.detach().clone()
        coin, slot = torch.rand(len(fakes), generator=rng), torch.randint(self.size, (len(fakes),), generator=rng)
        for i in range(len(fakes)):
            n = int(self.count)
            if n < self.size:
                self.images[n] = out[i]
                self.count += 1
            elif coin[i] > 0.5:
                j = int(slot[i])
                out[i], self.images[j] = self.images[j].clone(), out[i].clone()
        return out


# ## 3. The objective (Eq. 3)
@dataclass
class CycleGAN:
    """G: X -> Y (occluded -> clean), F: Y -> X, D_Y judges clean faces, D_X occluded ones."""
    g: ResnetGenerator
    f: ResnetGenerator
    d_y: PatchGAN
    d_x: PatchGAN
    pool_y: ImagePool
    pool_x: ImagePool

    @classmethod
    def build(cls, cfg: CycleGANConfig) -> "CycleGAN":
        shape = (3, cfg.image_size, cfg.image_size)
        return cls(ResnetGenerator(cfg.width, cfg.blocks), ResnetGenerator(cfg.width, cfg.blocks),
                   PatchGAN(3, cfg.disc_width, cfg.disc_layers), PatchGAN(3, cfg.disc_width, cfg.disc_layers),
                   ImagePool(cfg.pool, shape), ImagePool(cfg.pool, shape))

    def modules(self) -> dict[str, nn.Module]:
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    def restore(self, images: Tensor) -> Tensor:
        """Restorer: G at its training size (resized there and back), [0,1] in and out."""
        with torch.no_grad():
            hw, size = images.shape[-2:], self.pool_y.images.shape[-1]
            x = images.float() if hw == (size, size) else F.interpolate(
                images.float(), size=(size, size), mode="bilinear", align_corners=False, antialias=True)
            y = (self.g(x * 2 - 1) + 1) / 2
            if hw != (size, size):
                y = F.interpolate(y, size=hw, mode="bilinear", align_corners=False)
            return y.clamp(0, 1).to(images.dtype)


def generator_loss(m: CycleGAN, x: Tensor, y: Tensor, cfg: CycleGANConfig
                   ) -> tuple[Tensor, Tensor, Tensor, dict[str, float]]:
    """Eq. 3 for G and F on x (occluded) and y (clean), both in [-1,1]: LSGAN terms + lambda (Eq. 2 both ways)
    + 0.5 lambda identity. Returns (loss, G(x), F(y), parts)."""
    gan = GANLoss("lsgan")
    fake_y, fake_x = m.g(x), m.f(y)
    adv = gan.g_loss(m.d_y(fake_y)) + gan.g_loss(m.d_x(fake_x))
    cycle = cfg.lam * ((m.f(fake_y) - x).abs().mean() + (m.g(fake_x) - y).abs().mean())
    idt = cfg.identity * cfg.lam * ((m.g(y) - y).abs().mean() + (m.f(x) - x).abs().mean())
    parts = {"adv": adv.item(), "cycle": cycle.item(), "identity": idt.item()}
    return adv + cycle + idt, fake_y, fake_x, parts


def discriminator_loss(m: CycleGAN, x: Tensor, y: Tensor, fake_y: Tensor, fake_x: Tensor) -> Tensor:
    """LSGAN for D_Y and D_X on real images and pooled fakes, each halved as the official ``backward_D_basic``."""
    gan = GANLoss("lsgan")
    return 0.5 * (gan.d_loss(m.d_y(y), m.d_y(fake_y)) + gan.d_loss(m.d_x(x), m.d_x(fake_x)))


def make_step(m: CycleGAN, steps: GANSteps, cfg: CycleGANConfig,
              batch: Callable[[int], tuple[Tensor, Tensor]]) -> Callable[[int], dict[str, float]]:
    """The official order: G and F step (D frozen), then D_Y and D_X on pooled fakes. ``batch(i)`` = (x, y)
    in [0,1]."""
    def step(i: int) -> dict[str, float]:
        x, y = (t * 2 - 1 for t in batch(i))
        fakes: dict[str, Tensor] = {}
        logs: dict[str, float] = {}

        def g_loss() -> Tensor:
            loss, fakes["y"], fakes["x"], parts = generator_loss(m, x, y, cfg)
            logs.update(parts)
            return loss
        g = steps.g_step(g_loss)
        gen = step_generator(cfg.seed + 4, i)
        fake_y, fake_x = m.pool_y.query(fakes["y"], gen), m.pool_x.query(fakes["x"], gen)
        d = steps.d_step(lambda: discriminator_loss(m, x, y, fake_y, fake_x))
        return {"g": g, "d": d, **logs}
    return step


def optimizers(m: CycleGAN, lr: float) -> tuple[torch.optim.Optimizer, torch.optim.Optimizer]:
    """Adam (0.5, 0.999) over both generators and over both discriminators, as the official code."""
    betas = (0.5, 0.999)
    return (torch.optim.Adam([*m.g.parameters(), *m.f.parameters()], lr=lr, betas=betas),
            torch.optim.Adam([*m.d_y.parameters(), *m.d_x.parameters()], lr=lr, betas=betas))


def train_cyclegan(cfg: CycleGANConfig, data: UnpairedFaces | None = None) -> Trained:
    """Train (or load) CycleGAN at ``cfg`` (a ``CycleGAN`` and its loss history): constant lr for the first half,
    linear decay to 0 over the second."""
    from ..runtime import seed_everything
    from ..train import Trainer, checkpoint_path

    seed_everything(cfg.seed)
    data = data or unpaired_faces(cfg)
    m = CycleGAN.build(cfg)
    opt_g, opt_d = optimizers(m, cfg.lr)
    half = cfg.steps // 2
    decay = lambda i: 1.0 - max(0, i - half) / (cfg.steps - half + 1)  # noqa: E731  (official 'linear' policy)
    schedulers = {n: torch.optim.lr_scheduler.LambdaLR(o, decay) for n, o in (("g", opt_g), ("d", opt_d))}
    trainer = Trainer(m.modules(), {"g": opt_g, "d": opt_d}, checkpoint_path("cyclegan", dataclasses.asdict(cfg)),
                      steps=cfg.steps, desc="CycleGAN", schedulers=schedulers)
    live = CycleGAN(**trainer.modules)
    steps = GANSteps([live.d_y, live.d_x], trainer.optimizers["d"], trainer.optimizers["g"], trainer)

    def batch(i: int) -> tuple[Tensor, Tensor]:
        x, y = data.batch(i, cfg.batch, cfg.seed + 3)
        return x.to(trainer.device), y.to(trainer.device)

    history = trainer.fit(make_step(live, steps, cfg, batch))
    for module in m.modules().values():
        module.cpu().eval()
    return Trained(m, history)


@register("cyclegan", "restorer", "Zhu et al., ICCV 2017 (FSG-GAN's Cycle-GAN)")
def _cyclegan(profile: Profile):
    trained = train_cyclegan(CycleGANConfig.for_profile(profile))
    return Trained(trained.model.restore, trained.history)
