"""# FSG-GAN: facial structure guided GAN for identity-preserved face de-occlusion

Cheung, Li, Zou, ICMR 2021 (``papers/2-fsg-gan-facial-structure-guided-gan.md``). This file reads top to
bottom like Sec. 3 of the paper:

1. Stage I (Sec. 3.2): a VAE ``V`` predicts the face's overall structure g = V(x) from the occluded face x
   (Eq. 1). "Structure" in the paper is V's own blurry estimate of the clean face y (V is trained to map x
   to y, Eqs. 3-4), so no edge or parsing map is needed: g is an RGB image, as in the official code;
2. Stage II (Sec. 3.3.1): a U-Net generator y^ = G(x, g) (Eq. 2) whose three encoder blocks are
   down-sampling -> hybrid dilated convolution (rates 1, 2, 5 beside a 1x1 branch) -> residual, BN + swish;
3. the losses of G: L1 (Eq. 5), identity cosine (Eq. 6), adversarial (Eq. 7), their sum (Eq. 8);
4. the multi-receptive-field discriminator (Sec. 3.3.2): feature blocks with the VAE encoder's structure,
   a patch head per level, level outputs d_i in [0, 1] softmax-weighted (Eqs. 9-10), trained with Eq. 11;
5. the official code's losses as released (``official_losses``), a row beyond the paper that shows what
   its two bugs cost (G gets no adversarial gradient; two of D's three heads compare labels with labels).

Images are in [-1, 1] inside (Sec. 3.4, "scaled to [-1, 1]") and in [0, 1] at ``FSGGAN.restore``.
The identity network F of Eq. 6 is any frozen module mapping [0, 1] faces to embeddings (the project uses
FaceNet, ``occface.nn.identity``, in place of the paper's LightCNN).
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ...nn.adversarial import GANLoss
from ...nn.blocks import HybridDilatedBlock, ResidualBlock, conv_norm_act
from ...nn.discriminators import MultiReceptiveFieldDiscriminator
from ...nn.losses import identity_cosine

BCE = GANLoss("bce")


def _down(cin: int, cout: int) -> nn.Sequential:
    """The down-sampling module: conv 3x3 stride 2 -> BN -> swish (NVAE's choice, Sec. 3.3.1)."""
    return conv_norm_act(cin, cout, 3, stride=2, norm="batch", act="swish")


# ## 1. Stage I: the structure-predicting VAE (Eqs. 1, 3, 4)
def encoder_blocks(image_size: int, width: int) -> tuple[nn.ModuleList, list[int]]:
    """The VAE encoder's three blocks (shared in structure by D): [down, residual, down] each, widths
    (w/2 -> w) | (w -> 2w) | (2w -> 4w), as the official encoder (128 -> 32 -> 8 -> 2 px at w = 64).
    The paper is silent on V's layers; smaller images drop the second down-sampling of the last blocks so
    that every profile ends at 2 x 2."""
    if image_size not in (16, 32, 64, 128):
        raise ValueError(f"image_size must be 16, 32, 64 or 128, got {image_size}")
    chans = [(3, width // 2, width), (width, width, 2 * width), (2 * width, 2 * width, 4 * width)]
    left = int(math.log2(image_size)) - 1  # halvings down to 2 x 2
    blocks = []
    for i, (cin, mid, cout) in enumerate(chans):
        twice = left - 2 >= 2 - i  # halve twice while the later blocks still get one halving each
        last = _down(mid, cout) if twice else conv_norm_act(mid, cout, 3, norm="batch", act="swish")
        blocks.append(nn.Sequential(_down(cin, mid), ResidualBlock(mid, norm="batch", act="swish"), last))
        left -= 2 if twice else 1
    return nn.ModuleList(blocks), [c for *_, c in chans]


class StructureVAE(nn.Module):
    """V of Eq. 1: q(z|x) = N(mu_e(x), sigma_e(x)) -> z (reparameterised) -> g = mu_d(z) (Eqs. 3-4).

    forward(x) -> (g, mu, logvar), x and g in [-1, 1]. In eval mode z = mu (a deterministic structure at
    test time; the paper does not say, sampling would make the restorer random). The decoder outputs the
    mean only: sigma_d is fixed, as in the official code (the paper lets the decoder predict it).
    """

    def __init__(self, image_size: int = 128, width: int = 64, z_dim: int = 512):
        super().__init__()
        self.blocks, chans = encoder_blocks(image_size, width)
        c = chans[-1]
        self.latent = nn.Sequential(conv_norm_act(c, z_dim, 2, norm="batch", act="swish"),  # 2x2 -> 1x1
                                    nn.Conv2d(z_dim, 2 * z_dim, 1))
        self.decoder = self._decoder(image_size, width, z_dim)

    @staticmethod
    def _decoder(image_size: int, width: int, z_dim: int) -> nn.Sequential:
        """ConvT 2x2 (1 -> 2 px), then conv -> LeakyReLU -> PixelShuffle(2) per doubling, halving widths
        from 4w to w/2, and a last nearest x2 + conv -> 3 + tanh (the official decoder's layers)."""
        c = 4 * width
        layers: list[nn.Module] = [nn.ConvTranspose2d(z_dim, c, 2), nn.BatchNorm2d(c), nn.SiLU()]
        size = 2
        while size * 2 < image_size:
            out = max(width // 2, c // 2)
            layers += [nn.Conv2d(c, 4 * out, 3, padding=1), nn.LeakyReLU(0.2), nn.PixelShuffle(2)]
            c, size = out, size * 2
        layers += [nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(c, 3, 3, padding=1), nn.Tanh()]
        return nn.Sequential(*layers)

    def encode(self, x: Tensor) -> tuple[Tensor, Tensor]:
        for block in self.blocks:
            x = block(x)
        mu, logvar = self.latent(x).flatten(1).chunk(2, dim=1)
        return mu, logvar.clamp(-30.0, 20.0)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        mu, logvar = self.encode(x)
        z = mu + torch.randn_like(mu) * (0.5 * logvar).exp() if self.training else mu  # reparameterisation
        return self.decoder(z[:, :, None, None]), mu, logvar


def kl_divergence(mu: Tensor, logvar: Tensor) -> Tensor:
    """KL(q(z|x) || N(0, I)) of Eq. 4 in closed form, summed over z, averaged over the batch:
    1/2 sum(mu^2 + sigma^2 - log sigma^2 - 1)."""
    return 0.5 * (mu.pow(2) + logvar.exp() - logvar - 1).sum(1).mean()


def vae_loss(g: Tensor, y: Tensor, mu: Tensor, logvar: Tensor) -> tuple[Tensor, Tensor]:
    """Eq. 4: E[-log p(y|z)] + KL. With a Gaussian decoder of fixed sigma_d the first term is the squared
    error to the clean face y up to constants; summed over pixels, averaged over the batch (the official
    ``MSELoss(sum)/B + KL`` scale, sigma_d^2 = 1/2). Returns (reconstruction, KL)."""
    return (g - y).pow(2).flatten(1).sum(1).mean(), kl_divergence(mu, logvar)


# ## 2. Stage II: the U-Net generator with HDC (Eq. 2, Fig. 4)
class EncoderBlock(nn.Module):
    """Down-sampling -> HDC (rates 1, 2, 5 in parallel with a 1x1, fused) -> residual; BN + swish.
    ``hdc=False`` (Table 4, "w/o HDC") puts a plain 3x3 conv where the HDC module was."""

    def __init__(self, cin: int, cout: int, hdc: bool = True):
        super().__init__()
        self.down = _down(cin, cout)
        self.hdc = (HybridDilatedBlock(cout, cout, (1, 2, 5), norm="batch", act="swish") if hdc
                    else conv_norm_act(cout, cout, 3, norm="batch", act="swish"))
        self.res = ResidualBlock(cout, norm="batch", act="swish")

    def forward(self, x: Tensor) -> Tensor:
        return self.res(self.hdc(self.down(x)))


class DecoderBlock(nn.Module):
    """Up-sampling unit (bilinear x2, as the official code) + conv on [up(x), skip from the symmetric block]."""

    def __init__(self, cin: int, cskip: int, cout: int):
        super().__init__()
        self.conv = conv_norm_act(cin + cskip, cout, 3, norm="batch", act="swish")

    def forward(self, x: Tensor, skip: Tensor) -> Tensor:
        up = F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)
        return self.conv(torch.cat([up, skip], dim=1))


class Generator(nn.Module):
    """G of Eq. 2: y^ = G(x, g) on the concatenation [x, g] (6 channels, [-1, 1]) -> tanh image.

    A 3x3 stem (w), three encoder blocks (w, 2w, 4w at 1/2, 1/4, 1/8) and three decoder blocks, each with a
    skip from its symmetric level (the paper's U-Net; the released code kept only one skip), then 1x1 -> 3.
    """

    def __init__(self, width: int = 64, hdc: bool = True):
        super().__init__()
        w = width
        self.stem = conv_norm_act(6, w, 3, norm="batch", act="swish")
        self.encoder = nn.ModuleList([EncoderBlock(w, w, hdc), EncoderBlock(w, 2 * w, hdc),
                                      EncoderBlock(2 * w, 4 * w, hdc)])
        self.decoder = nn.ModuleList([DecoderBlock(4 * w, 2 * w, 2 * w), DecoderBlock(2 * w, w, w),
                                      DecoderBlock(w, w, w)])
        self.out = nn.Sequential(nn.Conv2d(w, 3, 1), nn.Tanh())

    def forward(self, x: Tensor, g: Tensor) -> Tensor:
        skips = [self.stem(torch.cat([x, g], dim=1))]
        for block in self.encoder:
            skips.append(block(skips[-1]))
        h = skips.pop()
        for block in self.decoder:
            h = block(h, skips.pop())
        return self.out(h)


# ## 3. The losses of G (Eqs. 5-8)
@dataclass
class LossWeights:
    """Eq. 8's weights (Sec. 4.1: lambda_pw = 100, lambda_ip = 50, lambda_adv = 1); ``tv`` only in the
    official code (0.5 on a squared TV term)."""
    pw: float = 100.0
    ip: float = 50.0
    adv: float = 1.0
    tv: float = 0.5


def pixel_loss(fake: Tensor, real: Tensor) -> Tensor:
    """Eq. 5: E ||y - G(x, g)||_1 (mean over pixels, as the official ``L1Loss``)."""
    return (real - fake).abs().mean()


def identity_loss(identity: nn.Module, fake: Tensor, real: Tensor) -> Tensor:
    """Eq. 6: E[1 - cos(F(y), F(G(x, g)))] with F frozen; F takes [0, 1] faces, y's embedding needs no grad."""
    with torch.no_grad():
        target = identity((real + 1) / 2)
    return identity_cosine(identity((fake + 1) / 2), target)


def official_level_loss(scores: Tensor, real: bool) -> Tensor:
    """The released ``DiscriminatorLoss`` (official loss.py): BCE on the first (small-RF) level only, since
    the other levels compute BCE(label, label) = 0; the head weights are exp(loss) floats (no gradient)
    applied to the losses, not Eq. 10's softmax over D's outputs."""
    small = F.binary_cross_entropy_with_logits(scores[:, 0], torch.full_like(scores[:, 0], float(real)))
    dead = scores.shape[1] - 1  # each dead head: loss 0, weight exp(0)
    return math.exp(small.item()) / (math.exp(small.item()) + dead) * small


def squared_tv(x: Tensor) -> Tensor:
    """The official TVLoss(x) x 0.5: mean squared vertical plus horizontal neighbour difference."""
    return (x[..., 1:, :] - x[..., :-1, :]).pow(2).mean() + (x[..., :, 1:] - x[..., :, :-1]).pow(2).mean()


def generator_loss(disc: nn.Module, fake: Tensor, real: Tensor, identity: nn.Module | None,
                   weights: LossWeights | None = None, official: bool = False,
                   identity_rows: int = 0) -> tuple[Tensor, dict[str, float]]:
    """Eq. 8: lambda_pw L_pw + lambda_ip L_ip + lambda_adv L_adv, with L_adv = -log D(G(x, g)) (Eq. 7).

    ``identity=None`` drops L_ip; ``identity_rows`` > 0 computes it on the first rows only (CPU budgets).
    ``official``: the released training loop: D's output is computed under ``no_grad`` (so L_adv adds a
    constant and G gets no adversarial gradient), with the released D loss and a 0.5 TV term added.
    """
    weights = weights or LossWeights()
    terms = {"pw": pixel_loss(fake, real)}
    if identity is not None:
        rows = slice(0, identity_rows or None)
        terms["ip"] = identity_loss(identity, fake[rows], real[rows])
    if official:
        with torch.no_grad():
            terms["adv"] = official_level_loss(disc.level_scores(fake), real=True)
        terms["tv"] = squared_tv(fake)
    else:
        terms["adv"] = BCE.g_loss(disc(fake))
    total = sum(getattr(weights, k) * v for k, v in terms.items())
    return total, {k: v.item() for k, v in terms.items()}


# ## 4. The multi-receptive-field discriminator (Eqs. 9-11)
def discriminator(vae: StructureVAE, kind: str = "multi_rf", lam: float = 1.0,
                  head_width: int | None = None, on: str = "probabilities") -> MultiReceptiveFieldDiscriminator:
    """D: the VAE encoder's blocks, then a patch head per level (conv 1x1 -> BN -> swish -> conv 1x1), the
    level outputs d_i softmax-weighted with lambda = 1 (Eqs. 9-10).

    The blocks start as a copy of the trained V's encoder and are trained with D: the paper says D "shares
    the weight" with V's encoder, but sharing outright would let D's updates move the V that Algorithm 1
    keeps fixed (the official D takes a fresh, untrained encoder). ``on="probabilities"`` follows Eq. 10:
    d_i is the mean patch probability in [0, 1] and the softmax is over those (every level keeps a share);
    ``on="logits"`` is the earlier variant kept for Table 4, the softmax over mean patch logits, which hands
    the top level nearly all the weight.
    ``kind="regular"`` (Table 4): the same trunk with one head on its last level only.
    """
    blocks = copy.deepcopy(vae.blocks).requires_grad_(True)  # V itself stays frozen
    chans = [b[-1].conv.out_channels for b in blocks]
    width = head_width or chans[-1]
    if kind == "multi_rf":
        return MultiReceptiveFieldDiscriminator(list(blocks), chans, lam=lam, head_width=width, on=on)
    if kind == "regular":
        return MultiReceptiveFieldDiscriminator([nn.Sequential(*blocks)], chans[-1:], lam=lam, head_width=width,
                                                on=on)
    raise ValueError(f"unknown discriminator {kind!r}; valid: 'multi_rf', 'regular'")


def discriminator_loss(disc: MultiReceptiveFieldDiscriminator, real: Tensor, fake: Tensor,
                       official: bool = False) -> Tensor:
    """Eq. 11: -log D(y) - log(1 - D(G(x, g))) on detached fakes. ``official``: the released loss,
    (loss(real) + loss(fake)) / 2 through :func:`official_level_loss`."""
    fake = fake.detach()
    if official:
        return 0.5 * (official_level_loss(disc.level_scores(real), True)
                      + official_level_loss(disc.level_scores(fake), False))
    return BCE.d_loss(disc(real), disc(fake))


# ## 5. The test phase (Sec. 3.4): V, then G
class FSGGAN(nn.Module):
    """The trained pair (V, G); D is discarded at test time. ``restore`` is the project's Restorer."""

    def __init__(self, vae: StructureVAE, generator: Generator, image_size: int):
        super().__init__()
        self.vae, self.generator, self.image_size = vae, generator, image_size

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """x in [-1, 1] -> (y^, g): the de-occluded face and the predicted structure (Eqs. 1-2)."""
        g = self.vae(x)[0]
        return self.generator(x, g), g

    @torch.no_grad()
    def restore(self, images: Tensor) -> Tensor:
        """(N,3,H,W) in [0,1] -> same shape in [0,1]; run at the training size, resized back if needed."""
        self.eval()
        device = next(self.parameters()).device
        h, w = images.shape[-2:]
        x = images.to(device, torch.float32)
        if (h, w) != (self.image_size, self.image_size):
            x = F.interpolate(x, size=self.image_size, mode="bilinear", align_corners=False, antialias=True)
        y = (self(x * 2 - 1)[0] + 1) / 2
        if (h, w) != (self.image_size, self.image_size):
            y = F.interpolate(y, size=(h, w), mode="bilinear", align_corners=False)
        return y.clamp(0, 1).to(images.device, images.dtype)
