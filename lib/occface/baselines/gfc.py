"""# GFC: generative face completion

Li, Liu, Yang, Yang, *Generative Face Completion*, CVPR 2017 (OA-GAN's "GFC", its ref. [1]; ID-GAN's "GFC",
its ref. [20]). Facts the paper leaves out come from the official Matcaffe code (Yijunmaverick/
GenerativeFaceCompletion; official-code-notes.md Sec. 4). The file reads like the paper's Sec. 3:

1. the generator: a VGG-like encoder (32 x2 | 64 x2 | 128 x2 | 256 x4 channels, each stage ending in a
   max-pool that keeps its indices), fc 4096, fc back to 256 x (size/16)^2, and a SegNet decoder that unpools
   with those indices (``Model_G.prototxt``); its input is the face with the hole filled with U(-1, 1) noise;
2. the local discriminator on the hole and the global one on the whole completed image (pairs of conv 3x3 and
   conv 4x4/2, LeakyReLU 0.2, up to 512 channels, then one logit; ``Model_localD`` / ``Model_globalD``);
3. the semantic parsing network: frozen; its pixel-wise softmax loss compares the parsing of the completed
   face with the argmax parsing of the original (``GFC_Softmax_loss.m``);
4. the objective L = L_r + lambda_1 L_a1 + lambda_2 L_a2 + lambda_3 L_p with the official weights 300, 300,
   0.05 (``gradstack.m``), and the paper's three-stage schedule: reconstruction alone, then + the local
   adversarial loss, then + the global adversarial loss and the parsing loss.

Scale: as in GFC's Matlab losses, every term is a per-image *sum* (over pixels) averaged over the batch, on
[-1,1] images; the adversarial terms are -log D per image. The weights 300 / 0.05 only balance at that scale,
and at 128 px: below it, the pixel sums (L_r, L_p) are multiplied by (128 / size)^2, i.e. counted in 128 px
pixels, so each term weighs what it weighs in GFC at every profile (at 32 px L_a would otherwise count 16x).

Deviations. (a) The parser is ``occface.nn.parsing.frozen_parser`` (a small U-Net trained on landmark-polygon
labels of LFW training faces, 10 classes), in place of GFC's Helen-trained 11-class parser, which cannot be had
here. (b) The generator also gets the hole mask as a fourth input channel (official: 3 channels, the noise marks
the hole): our holes are occluder-shaped, not GFC's square. (c) The local D sees the hole's bounding box resized
to size/2 (GFC's square 64 px hole at 128 px is exactly that box). (d) Both Ds end in one logit (a conv over the
remaining side); the official global D ends in 5x5 logits that its loss sums. (e) Batches are half faces and
half their mirror images as the official ``GFC_Gen_training_G.m``, without its +-5 % shift / +-5 degree jitter.
(f) The paper orders the three stages but does not give their lengths; ``rec_steps`` and ``local_steps`` are ours.
At test time the generated hole is pasted into the input (``composite``, as ``demo_face128.m``); the optional
Poisson blending of that demo is left out.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..faces.pairs import TrainingPairs, step_generator
from ..nn.adversarial import GANLoss
from ..nn.discriminators import crop_boxes
from ..nn.gan import GANSteps
from ..profiles import BASELINE_SHARED, Profile, ProfileConfig
from .deepfill import composite, face_pairs, hole_boxes
from ..registry import Trained, register

VERSION = "gfc-v2"  # part of the checkpoint key: bump when the model or its losses change


# ## Configuration
@dataclass(frozen=True)
class GFCConfig(ProfileConfig):
    """``full``: the official sizes (width 32, fc 4096, D width 64) at 128 px; smaller profiles shrink."""
    profile: str
    image_size: int
    width: int               # channels of the first encoder stage (official 32; the stages are w, 2w, 4w, 8w)
    fc: int                  # the fully connected bottleneck (official 4096)
    disc_width: int          # first D stage (official 64, doubling up to 8x)
    batch: int               # half faces, half their mirror images (official: one face and its mirror)
    steps: int
    rec_steps: int           # stage 1: L_r only
    local_steps: int         # stage 2: + L_a1 (local D); stage 3, the remaining steps: + L_a2 (global D) + L_p
    lr_g: float = 1e-4       # official Adam, betas (0.9, 0.999)
    lr_d: float = 2e-4       # official Adam, betas (0.5, 0.999)
    adv_local: float = 300.0   # lambda_1 (gradstack.m lamda_local_D)
    adv_global: float = 300.0  # lambda_2 (lamda_global_D)
    parsing: float = 0.05      # lambda_3 (lamda_parsing)
    max_train_images: int = 0
    copies: int = 1          # occlusions drawn per training face
    seed: int = 0

    # quick/default: narrow nets, a small fc and a 10x / 5x larger lr for a CPU budget (quick: seconds; default:
    # minutes on one CPU thread); the three stages take a third of the steps each (full: 10k, 10k, 40k)
    SHARED = BASELINE_SHARED
    PER_PROFILE = {
        "quick": dict(width=8, fc=128, disc_width=8, batch=16, rec_steps=50, local_steps=50, lr_g=1e-3, lr_d=2e-3),
        "default": dict(width=16, fc=512, disc_width=16, batch=16, steps=600, rec_steps=200, local_steps=200,
                        lr_g=5e-4, lr_d=1e-3, copies=2),
        "full": dict(width=32, fc=4096, disc_width=64, batch=16, rec_steps=10000, local_steps=10000, copies=2),
    }

    def stage(self, step: int) -> int:
        """1, 2 or 3: the paper's training stage of ``step`` (a function of the step, so a resumed run agrees)."""
        return 1 if step < self.rec_steps else 2 if step < self.rec_steps + self.local_steps else 3


# ## 1. The generator (Model_G.prototxt)
def _convs(cin: int, widths: list[int]) -> nn.Sequential:
    """3x3 convs with ReLU, one per width (VGG's and SegNet's stage)."""
    layers: list[nn.Module] = []
    for cout in widths:
        layers += [nn.Conv2d(cin, cout, 3, padding=1), nn.ReLU()]
        cin = cout
    return nn.Sequential(*layers)


class GFCGenerator(nn.Module):
    """``forward(x, mask)``: x (N,3,S,S) in [-1,1] with the hole already filled with noise, mask (N,1,S,S) 1 = hole;
    returns (N,3,S,S), unbounded (the official last conv has no activation). S must be a multiple of 16."""

    def __init__(self, image_size: int = 128, width: int = 32, fc: int = 4096):
        super().__init__()
        if image_size % 16:
            raise ValueError(f"GFC's four pooling stages need an image size divisible by 16, got {image_size}")
        w, side = width, image_size // 16
        self.encoder = nn.ModuleList([_convs(4, [w, w]), _convs(w, [2 * w, 2 * w]), _convs(2 * w, [4 * w, 4 * w]),
                                      _convs(4 * w, [8 * w] * 4)])
        self.pool = nn.MaxPool2d(2, 2, return_indices=True)
        self.bottom = (8 * w, side, side)
        self.fc = nn.Sequential(nn.Flatten(), nn.Linear(8 * w * side * side, fc), nn.ReLU(),
                                nn.Linear(fc, 8 * w * side * side), nn.ReLU())
        # each decoder stage follows an unpooling and ends with the channels of the next unpooling's indices
        self.decoder = nn.ModuleList([_convs(8 * w, [2 * w, 2 * w, 2 * w, 4 * w]), _convs(4 * w, [2 * w, 2 * w]),
                                      _convs(2 * w, [2 * w, w]), _convs(w, [w, w])])
        self.out = nn.Conv2d(w, 3, 3, padding=1)
        self._init()

    def _init(self) -> None:
        """Official fillers: MSRA for every layer, N(0, 0.001) for the output conv; zero biases."""
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
                nn.init.zeros_(m.bias)
        nn.init.normal_(self.out.weight, std=0.001)

    def forward(self, x: Tensor, mask: Tensor) -> Tensor:
        h, indices = torch.cat([x, mask], 1), []
        for stage in self.encoder:
            h, idx = self.pool(stage(h))
            indices.append(idx)
        h = self.fc(h).view(-1, *self.bottom)
        for stage in self.decoder:
            h = stage(unpool(h, indices.pop()))
        return self.out(h)

    def predict(self, images: Tensor, mask: Tensor, seed: int = 0) -> Tensor:
        """[0,1] in and out: the hole filled with U(-1,1) noise from a fixed seed (so a call is deterministic)."""
        rng = torch.Generator().manual_seed(seed)
        noise = torch.rand(images.shape, generator=rng).to(images) * 2 - 1
        return (self(fill_noise(images * 2 - 1, mask, noise), mask) + 1) / 2


def unpool(h: Tensor, indices: Tensor) -> Tensor:
    """SegNet's unpooling (Caffe ``Upsample`` with the pooling mask): each value goes back to the position its 2x2
    max came from, zeros elsewhere. Same result as ``nn.MaxUnpool2d(2, 2)``, whose kernel torch flags as
    non-deterministic; here a nearest x2 upsampling times the one-hot of the kept positions."""
    hh, ww = 2 * h.shape[-2], 2 * h.shape[-1]
    up = lambda t: t.repeat_interleave(2, -2).repeat_interleave(2, -1)  # noqa: E731
    position = torch.arange(hh * ww, device=h.device).view(hh, ww)
    return up(h) * (up(indices) == position)


def fill_noise(x: Tensor, mask: Tensor, noise: Tensor) -> Tensor:
    """The official input: the hole (mask 1) replaced by U(-1,1) noise."""
    return torch.where(mask > 0.5, noise, x)


def complete(out: Tensor, real: Tensor, mask: Tensor) -> Tensor:
    """G's pixels in the hole, the original's outside: what both Ds and the parser see (official ``batch_ori``)."""
    return out * mask + real * (1 - mask)


# ## 2. The local and global discriminators (Model_localD / Model_globalD)
class GFCDiscriminator(nn.Module):
    """Pairs of conv 3x3 and conv 4x4/2 (LeakyReLU 0.2, no normalisation; widths w, 2w, 4w, 8w), as many as leave
    at least 4x4 (four at 64 px and up), then a conv over the remaining side: one logit per image."""

    def __init__(self, size: int, width: int = 64):
        super().__init__()
        layers: list[nn.Module] = []
        cin, side = 3, size
        for i in range(min(4, int(math.log2(size)) - 2)):
            cout = width * 2 ** i
            layers += [nn.Conv2d(cin, cout, 3, padding=1), nn.LeakyReLU(0.2), nn.Conv2d(cout, cout, 4, 2, 1),
                       nn.LeakyReLU(0.2)]
            cin, side = cout, side // 2
        self.net = nn.Sequential(*layers, nn.Conv2d(cin, 1, side))
        for m in self.modules():
            if isinstance(m, nn.Conv2d):  # official filler: N(0, 0.02), zero bias
                nn.init.normal_(m.weight, std=0.02)
                nn.init.zeros_(m.bias)

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x).flatten(1).squeeze(1)


@dataclass
class GFCModels:
    """The generator and the two discriminators; the local D sees the hole's box resized to ``local_size``."""
    gen: GFCGenerator
    d_local: GFCDiscriminator
    d_global: GFCDiscriminator
    local_size: int

    @classmethod
    def build(cls, cfg: GFCConfig) -> "GFCModels":
        local = cfg.image_size // 2  # official: the 64 px hole of a 128 px face
        return cls(GFCGenerator(cfg.image_size, cfg.width, cfg.fc), GFCDiscriminator(local, cfg.disc_width),
                   GFCDiscriminator(cfg.image_size, cfg.disc_width), local)

    def modules(self) -> dict[str, nn.Module]:
        return {"gen": self.gen, "d_local": self.d_local, "d_global": self.d_global}

    def local_patch(self, images: Tensor, mask: Tensor) -> Tensor:
        return crop_boxes(images, hole_boxes(mask), self.local_size)


# ## 3-4. Losses and the three-stage schedule
PAPER_SIZE = 128  # GFC's faces; pixel sums are counted in pixels of this size (module docstring)


def pixel_scale(size: int) -> float:
    """How many 128 px pixels one pixel of a ``size`` px face stands for."""
    return (PAPER_SIZE / size) ** 2


def reconstruction_loss(out: Tensor, real: Tensor) -> Tensor:
    """L_r: the paper's L2 between G's output and the original over the whole image, as ``GFC_L2_loss.m``
    (0.5 x the per-image sum of squares, batch mean), in 128 px pixels. The released training script calls a
    smooth L1 instead; we follow the paper."""
    return 0.5 * pixel_scale(out.shape[-1]) * (out - real).pow(2).flatten(1).sum(1).mean()


Parser = Callable[[Tensor], Tensor]  # faces (N,3,S,S) in [0,1] -> parsing logits (N,K,S,S)


def parsing_loss(parser: Parser, completed: Tensor, original: Tensor) -> Tensor:
    """L_p: pixel-wise softmax loss of the parsing of the completed face ([0,1]) against the argmax parsing of the
    original (``GFC_Softmax_loss.m``: summed over pixels, batch mean), in 128 px pixels. ``parser`` is frozen,
    not detached: the gradient reaches G through it."""
    with torch.no_grad():
        target = parser(original).argmax(1)
    ce = F.cross_entropy(parser(completed), target, reduction="none")
    return pixel_scale(completed.shape[-1]) * ce.flatten(1).sum(1).mean()


def make_step(m: GFCModels, parser: Parser, steps: GANSteps, cfg: GFCConfig,
              batch: Callable[[int], tuple[Tensor, Tensor, Tensor]]) -> Callable[[int], dict[str, float]]:
    """One step of the official loop (D first, then G) at the stage of step ``i``: stage 1 trains G on L_r alone;
    stage 2 updates the local D and adds lambda_1 L_a1; stage 3 also updates the global D and adds lambda_2 L_a2 +
    lambda_3 L_p. ``batch(i)`` = (noise-filled input, original, hole mask), images in [-1,1]."""
    gan = GANLoss("bce")  # D: log D(x) + log(1 - D(G(z))); G: -log D(G(z)) (official GFC_BCE_loss2)

    def step(i: int) -> dict[str, float]:
        x, real, mask = batch(i)
        stage = cfg.stage(i)
        out = m.gen(x, mask)
        logs: dict[str, float] = {}
        if stage >= 2:
            fake = complete(out.detach(), real, mask)

            def d_loss() -> Tensor:
                loss = gan.d_loss(m.d_local(m.local_patch(real, mask)), m.d_local(m.local_patch(fake, mask)))
                if stage == 3:
                    loss = loss + gan.d_loss(m.d_global(real), m.d_global(fake))
                return loss
            logs["d"] = steps.d_step(d_loss)

        def g_loss() -> Tensor:
            completed = complete(out, real, mask)
            terms = {"rec": reconstruction_loss(out, real)}
            if stage >= 2:
                terms["adv_local"] = gan.g_loss(m.d_local(m.local_patch(completed, mask)))
            if stage == 3:
                terms["adv_global"] = gan.g_loss(m.d_global(completed))
                terms["parsing"] = parsing_loss(parser, (completed + 1) / 2, (real + 1) / 2)
            logs.update({k: v.item() for k, v in terms.items()})
            weights = {"rec": 1.0, "adv_local": cfg.adv_local, "adv_global": cfg.adv_global, "parsing": cfg.parsing}
            return sum(weights[k] * v for k, v in terms.items())
        return {"g": steps.g_step(g_loss), **logs}
    return step


class DeferredParser:
    """``frozen_parser(profile, seed)``, loaded at its first call (stage 3) on ``device``: a run that reuses GFC's
    finished checkpoint never pays for the parser's labelled training faces (~25 s at quick)."""

    def __init__(self, profile: str, seed: int, device: torch.device):
        self.profile, self.seed, self.device, self.model = profile, seed, device, None

    def __call__(self, images: Tensor) -> Tensor:
        if self.model is None:
            from ..nn.parsing import frozen_parser

            with torch.enable_grad():  # the first call sits in parsing_loss's no_grad; the parser may still train
                self.model = frozen_parser(self.profile, self.seed).eval().requires_grad_(False).to(self.device)
        return self.model(images)


def train_gfc(cfg: GFCConfig, parser: nn.Module | None = None, data: TrainingPairs | None = None) -> Trained:
    """Train (or load) GFC at ``cfg``: the generator in eval mode and the loss history. ``parser`` defaults to
    ``occface.nn.parsing.frozen_parser(cfg.profile)``, loaded only if training reaches stage 3."""
    from ..runtime import seed_everything
    from ..train import Trainer, checkpoint_path

    seed_everything(cfg.seed)
    data = data or face_pairs(cfg.image_size, cfg.max_train_images, cfg.seed, cfg.copies)
    m = GFCModels.build(cfg)
    opt_g = torch.optim.Adam(m.gen.parameters(), lr=cfg.lr_g, betas=(0.9, 0.999))
    opt_d = torch.optim.Adam([*m.d_local.parameters(), *m.d_global.parameters()], lr=cfg.lr_d, betas=(0.5, 0.999))
    trainer = Trainer(m.modules(), {"g": opt_g, "d": opt_d}, checkpoint_path("gfc", dataclasses.asdict(cfg), VERSION),
                      steps=cfg.steps, desc="GFC")
    live = GFCModels(**trainer.modules, local_size=m.local_size)
    steps = GANSteps([live.d_local, live.d_global], trainer.optimizers["d"], trainer.optimizers["g"], trainer)
    parser = (parser.eval().requires_grad_(False).to(trainer.device) if parser is not None
              else DeferredParser(cfg.profile, cfg.seed, trainer.device))

    def batch(i: int) -> tuple[Tensor, Tensor, Tensor]:
        occ, clean, mask, _ = data.masked_batch(i, cfg.batch // 2, cfg.seed + 8)
        occ, clean, mask = (torch.cat([t, t.flip(-1)]) for t in (occ, clean, mask))  # each face and its mirror
        noise = torch.rand(occ.shape, generator=step_generator(cfg.seed + 9, i)) * 2 - 1
        x = fill_noise(occ * 2 - 1, mask, noise)
        return x.to(trainer.device), (clean * 2 - 1).to(trainer.device), mask.to(trainer.device)

    history = trainer.fit(make_step(live, parser, steps, cfg, batch))
    return Trained(m.gen.cpu().eval(), history)


@register("gfc", "inpainter", "Li et al., CVPR 2017 (OA-GAN's and ID-GAN's GFC)", keeps_known=True)
def _gfc(profile: Profile):
    cfg = GFCConfig.for_profile(profile)
    trained = train_gfc(cfg)
    predict = lambda images, mask: trained.model.predict(images, mask, cfg.seed)  # noqa: E731
    return Trained(composite(predict, cfg.image_size), trained.history)
