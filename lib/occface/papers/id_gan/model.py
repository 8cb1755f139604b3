"""# ID-GAN: occluded face recognition by identity-diversity inpainting

Ge, Li, Zhao, Zeng, *Occluded Face Recognition in the Wild by Identity-Diversity Inpainting*, TCSVT 2020
(``papers/5-id-gan-identity-diversity-inpainting.md``). No official code exists, so this is the first public
ID-GAN; every choice the paper leaves open is stated beside the code. The file follows Sec. III:

1. the generator G = {I, S}: the inpainting network I (Eq. 1a) with the spatially discounted reconstruction
   loss (Eq. 2), and the frozen structure (parsing) network S with the structure loss (Eq. 3);
2. the discriminators D = {D_g, D_l} and their adversarial loss (Eq. 4);
3. the recognizer R: identity-centred features (Eq. 5) and the identity-diversity loss (Eq. 6), plus the
   ablations of Sec. IV-D (triplet and centre losses in its place);
4. the total loss (Eq. 7).

Scale of the losses: the weights lambda = (300, 300, 0.05, 0.0002) are exactly GFC's (``gradstack.m``), whose
Matlab losses are per-image *sums* over pixels averaged over the batch (``GFC_L2_loss``, ``GFC_Softmax_loss``).
Eqs. 2-3 print 1/|I|, but with per-pixel means 300 L_D would outweigh L_I ~10^4-fold, so every term here is
a per-image sum averaged over the batch, on [-1,1] images as GFC's.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ...faces.occlusion import ID_GAN_BLOCK
from ...nn.adversarial import GANLoss
from ...nn.blocks import conv_norm_act
from ...nn.discriminators import GlobalLocalCritic
from ...nn.losses import spatial_discount
from ...profiles import ProfileConfig

IDENTITY_LOSSES = ("none", "diversity", "triplet", "centre")  # Our-w/oID, Our-wID, Our-tri, Our-cent
# The paper's lambda_R = 0.0002 was set for VGGFace's identity features (fc7: 4096-D after ReLU, unnormalised),
# whose norms are of order 100 (an order of magnitude; VGGFace cannot be had here to measure them). Our R is
# FaceNet, whose embedding is L2-normalised (norm 1).
VGGFACE_FEATURE_NORM = 100.0
OUR_EMBEDDING_NORM = 1.0


# ## Configuration
@dataclass
class IDGANConfig(ProfileConfig):
    """Network sizes and the loss weights of Sec. IV-A (``full`` = the paper's 128x128)."""
    image_size: int = 128
    width: int = 32             # channels of I's first layer (the paper gives none; DeepFill's cnum)
    critic_width: int = 64      # DeepFill's critics
    gamma: float = 0.99         # Eq. 2 (the paper); DeepFill's own config uses 0.9
    alpha_l: float = 0.5        # Eq. 6
    alpha_h: float = 0.05
    beta: float = 0.5
    lambda_dl: float = 300.0    # Eq. 7, Sec. IV-A
    lambda_dg: float = 300.0
    lambda_s: float = 0.05
    lambda_r: float = 0.0002    # the paper's; train.PER_PROFILE declares ours (R's gradient share, beyond the paper)
    identity: str = "diversity"  # which identity loss: IDENTITY_LOSSES
    triplet_margin: float = 0.2  # Our-tri: the paper gives none; FaceNet's margin, on unit embeddings
    # R_h = embedding_scale x our embedding, at VGGFace's feature norm, so lambda_R = 2e-4 weighs the R_h terms as
    # in the paper; 1.0 (``paper_scale``) = lambda_R on unit embeddings, where they pull ~1e-7 of L_I's gradient
    embedding_scale: float = VGGFACE_FEATURE_NORM / OUR_EMBEDDING_NORM
    SHARED = {"image_size": "image_size"}
    PER_PROFILE = {"quick": {}, "default": {}, "full": {}}  # sizes per profile: IDGANTrainConfig's table

    def __post_init__(self):
        if self.identity not in IDENTITY_LOSSES:
            raise ValueError(f"identity must be one of {IDENTITY_LOSSES}, got {self.identity!r}")

    @property
    def hole(self) -> int:
        """Side m of the training block: 48 at 128x128 (Sec. IV-A), scaled with the image."""
        return round(ID_GAN_BLOCK * self.image_size)


# ## 1. Generator: the inpainting network I (Eq. 1a)
def prefill_white(images: Tensor, mask: Tensor) -> Tensor:
    """"The masked region of the image is pre-filled with white pixels before inputting into the generator"."""
    return torch.where(mask > 0.5, torch.ones_like(images), images)


def compose(occluded: Tensor, generated: Tensor, mask: Tensor) -> Tensor:
    """The inpainted face X: I's pixels inside the hole, the input's outside (known pixels exactly kept)."""
    return torch.where(mask > 0.5, generated, occluded)


class InpaintingNetwork(nn.Module):
    """I(X~, M; W_I): "an encoder-decoder architecture with dilated convolution" (Sec. III-B). The paper gives no
    layers; we use DeepFill v1's coarse network (its ref. [22]): two stride-2 stages, dilated 3x3 convolutions,
    nearest-neighbour upsampling, ELU, no normalisation. Input [X~, M] (4 channels), output in [0,1]."""

    def __init__(self, image_size: int = 128, width: int = 32):
        super().__init__()
        w = width
        # DeepFill's rates 2, 4, 8, 16 on 1/4-resolution features; a rate >= the feature side sees only padding
        rates = [r for r in (2, 4, 8, 16) if r < image_size // 4]
        layer = lambda cin, cout, k=3, stride=1, dilation=1: conv_norm_act(
            cin, cout, k, stride, dilation, norm="none", act="elu")
        self.encoder = nn.Sequential(layer(4, w, 5), layer(w, 2 * w, 3, 2), layer(2 * w, 2 * w),
                                     layer(2 * w, 4 * w, 3, 2), layer(4 * w, 4 * w), layer(4 * w, 4 * w))
        self.dilated = nn.Sequential(*[layer(4 * w, 4 * w, 3, 1, r) for r in rates])
        self.decoder = nn.Sequential(layer(4 * w, 4 * w), layer(4 * w, 4 * w), nn.Upsample(scale_factor=2),
                                     layer(4 * w, 2 * w), layer(2 * w, 2 * w), nn.Upsample(scale_factor=2),
                                     layer(2 * w, w), layer(w, max(w // 2, 1)))
        self.out = nn.Conv2d(max(w // 2, 1), 3, 3, padding=1)

    def forward(self, occluded: Tensor, mask: Tensor) -> Tensor:
        x = torch.cat([prefill_white(occluded, mask) * 2 - 1, mask], 1)
        y = self.out(self.decoder(self.dilated(self.encoder(x))))
        return (torch.tanh(y) + 1) / 2  # DeepFill clips to [-1,1]; tanh keeps a gradient everywhere


# ## 1b. Reconstruction loss (Eq. 2)
def reconstruction_loss(generated: Tensor, clean: Tensor, mask: Tensor, gamma: float = 0.99) -> Tensor:
    """Eq. 2: L_I = ||(I(X~, M) - Y) . W||^2 with W = gamma^d inside the hole (d = distance to the nearest known
    pixel; 1 on the hole's border) and 1 outside, on I's raw output over the whole image (as printed, not the
    composite). W sits inside the norm, so the squared error is weighted by W^2, as printed (DeepFill weights an
    L1 by W). Per-image sum on [-1,1] images, batch mean (module docstring)."""
    weight = spatial_discount(mask, gamma).to(generated.dtype)
    return (weight * (generated - clean) * 2).pow(2).flatten(1).sum(1).mean()


# ## 1c. Structure loss (Eq. 3)
def structure_loss(parser: nn.Module, inpainted: Tensor, clean: Tensor) -> Tensor:
    """Eq. 3: pixel-wise softmax loss of S's parsing of X against l_i = argmax_j S(Y)_ij ("q" in the numerator of
    Eq. 3 is a typo for p: the loss is on X's probabilities). S is frozen; per-image sum, batch mean."""
    with torch.no_grad():
        target = parser(clean).argmax(1)
    ce = F.cross_entropy(parser(inpainted), target, reduction="none")
    return ce.flatten(1).sum(1).mean()


# ## 2. Discriminators (Eq. 4)
def hole_boxes(mask: Tensor) -> Tensor:
    """(N,4) bounding boxes (x0, y0, x1, y1; x1/y1 exclusive, pixels) of each mask's hole: D_l's crop."""
    rows, cols = mask.amax(dim=(1, 3)) > 0.5, mask.amax(dim=(1, 2)) > 0.5
    def extent(on: Tensor) -> tuple[Tensor, Tensor]:
        idx = torch.arange(on.shape[1], device=on.device).expand_as(on)
        first = torch.where(on, idx, on.shape[1]).amin(1)
        last = torch.where(on, idx + 1, 0).amax(1)
        return first.clamp_max(last), last
    (y0, y1), (x0, x1) = extent(rows), extent(cols)
    return torch.stack([x0, y0, x1, y1], 1).float()


def critics(cfg: IDGANConfig) -> GlobalLocalCritic:
    """D_g on the whole image and D_l on the hole, resized to m x m. The paper's are "ten convolutional layers
    and a fully-connected layer" as WGAN-GP's; we use DeepFill's 4 conv5x5/2 + linear critics (nn.discriminators)."""
    return GlobalLocalCritic(cfg.image_size, cfg.hole, width=cfg.critic_width)


# Eq. 4 is a log-loss and we follow it (GANLoss("bce"); the generator minimises -log D(X), non-saturating),
# not WGAN-GP whose critic architecture the paper cites; GFC, whose lambda = 300 ID-GAN copies, is a log-loss too.
GAN = GANLoss("bce")


def discriminator_loss(critic: GlobalLocalCritic, real: Tensor, fake: Tensor, boxes: Tensor) -> Tensor:
    """Eq. 4 for D: -[log D_t(Y) + log(1 - D_t(X))], t in {g, l}, summed over the two critics."""
    real_g, real_l = critic(real, boxes)
    fake_g, fake_l = critic(fake.detach(), boxes)
    return GAN.d_loss(real_g, fake_g) + GAN.d_loss(real_l, fake_l)


def adversarial_losses(critic: GlobalLocalCritic, fake: Tensor, boxes: Tensor) -> tuple[Tensor, Tensor]:
    """Eq. 4 for I: (L_Dg, L_Dl) = (-log D_g(X), -log D_l(X)), batch means (one score per image, as GFC)."""
    fake_g, fake_l = critic(fake, boxes)
    return GAN.g_loss(fake_g), GAN.g_loss(fake_l)


# ## 3. Recognizer R (Eqs. 5-6)
class Recognizer(nn.Module):
    """The frozen third player R. High-level features R(.; W_R^h) = the identity network's embedding (the paper:
    VGGFace; here FaceNet, CASIA-WebFace); low-level R(.; W_R^l) = the first map of ``features`` (the paper does
    not name its layers: FaceNet's stem output, 256 x 17 x 17)."""

    def __init__(self, embed: nn.Module, features: nn.Module | None = None, embedding_scale: float = 1.0):
        super().__init__()
        self.embed, self.features = embed.eval(), (features.eval() if features is not None else None)
        self.embedding_scale = embedding_scale
        for p in self.parameters():
            p.requires_grad_(False)

    def train(self, mode: bool = True) -> Recognizer:
        return self  # frozen networks stay in eval mode

    def high(self, images: Tensor) -> Tensor:
        return self.embedding_scale * self.embed(images)

    def low(self, images: Tensor) -> Tensor:
        return self.features(images)[0]

    def low_high(self, images: Tensor) -> tuple[Tensor, Tensor]:
        """(low, high) of the same faces; one pass of the trunk when both come from one FaceNet (``low`` and
        ``high`` each run all of it), two calls otherwise (stand-ins in tests)."""
        joint = getattr(self.embed, "features_and_embedding", None)
        if joint is not None and getattr(self.features, "facenet", None) is self.embed:
            feats, emb = joint(images)
            return feats[0], self.embedding_scale * emb
        return self.low(images), self.high(images)


def centres_from_features(feats: Tensor, identity: Tensor, classes: int | None = None) -> Tensor:
    """Eq. 5: f_id = mean of R_h(Y_i) over the clean training faces of identity id, from the features (N, D)
    -> (C, D); a class without images gets a zero centre. Plain means, not re-normalised (Eq. 5 is a mean)."""
    classes = int(identity.max()) + 1 if classes is None else classes
    sums = torch.zeros(classes, feats.shape[1], dtype=feats.dtype).index_add_(0, identity, feats)
    counts = torch.bincount(identity, minlength=classes).clamp_min(1).to(feats.dtype)
    return sums / counts[:, None]


def sq_dist(a: Tensor, b: Tensor) -> Tensor:
    """|a - b| of Eq. 6 per image: the squared l2 distance summed over the feature's elements (the paper's bars
    do not say which norm; squared, as Caffe's EuclideanLoss and our L_I)."""
    return (a - b).pow(2).flatten(1).sum(1)


def identity_diversity_loss(low_x: Tensor, low_y: Tensor, high_x: Tensor, high_y: Tensor, centre: Tensor,
                            alpha_l: float = 0.5, alpha_h: float = 0.05, beta: float = 0.5) -> Tensor:
    """Eq. 6: L_R = sum_{j in l,h} alpha_j |R_j(X) - R_j(Y)| + beta [|R_h(X) - f_id| - |R_h(Y) - f_id|, 0]_+ .

    The instance-wise term pulls X's features to Y's; the identity-diversity term is zero once X is at least as
    near its identity centre as the ground truth Y is (a loose constraint that leaves room for diversity)."""
    instance = alpha_l * sq_dist(low_x, low_y) + alpha_h * sq_dist(high_x, high_y)
    diversity = F.relu(sq_dist(high_x, centre) - sq_dist(high_y, centre))
    return (instance + beta * diversity).mean()


def triplet_loss(anchor: Tensor, positive: Tensor, negative: Tensor, margin: float = 0.2) -> Tensor:
    """Our-tri (Sec. IV-D): L_R replaced by a triplet loss on R_h of three inpainted faces, FaceNet's form
    [|a - p|^2 - |a - n|^2 + margin]_+ (``margin`` in the features' squared units)."""
    return F.relu(sq_dist(anchor, positive) - sq_dist(anchor, negative) + margin).mean()


def centre_loss(high_x: Tensor, centre: Tensor) -> Tensor:
    """Our-cent (Sec. IV-D): L_R replaced by the l2 loss |R_h(X) - f_id|^2 to the identity centre."""
    return sq_dist(high_x, centre).mean()


# ## 4. The three players and the total loss (Eq. 7)
class IDGAN(nn.Module):
    """The trained parts of ID-GAN: I and {D_g, D_l}. S and R are frozen and passed to the losses."""

    def __init__(self, cfg: IDGANConfig):
        super().__init__()
        self.cfg = cfg
        self.inpainter = InpaintingNetwork(cfg.image_size, cfg.width)
        self.critic = critics(cfg)

    def forward(self, occluded: Tensor, mask: Tensor) -> tuple[Tensor, Tensor]:
        """(I's raw output, the inpainted face X = its composite with the known pixels)."""
        generated = self.inpainter(occluded, mask)
        return generated, compose(occluded, generated, mask)

    @torch.no_grad()
    def inpaint(self, images: Tensor, mask: Tensor, batch: int = 256) -> Tensor:
        """The ``Inpainter`` contract: (N,3,H,W) in [0,1] and a hole mask -> inpainted faces, known pixels kept;
        faces of another size are resized to I's and the hole's pixels resized back."""
        was, device = self.training, next(self.parameters()).device
        self.eval()
        size, outs = self.cfg.image_size, []
        for x, m in zip(images.split(batch), mask.split(batch)):
            x_in, m_in = x.float().to(device), m.float().to(device)
            if x.shape[-1] != size:
                x_in = F.interpolate(x_in, size=size, mode="bilinear", align_corners=False)
                m_in = (F.interpolate(m_in, size=size, mode="bilinear", align_corners=False) > 0).float()
            gen = self.inpainter(x_in, m_in)
            if x.shape[-1] != size:
                gen = F.interpolate(gen, size=x.shape[-2:], mode="bilinear", align_corners=False)
            outs.append(compose(x.float(), gen.clamp(0, 1).cpu(), m.float()))
        self.train(was)
        return torch.cat(outs)


@dataclass
class Triplets:
    """One batch of identity triplets (X~, Y, f_id) (Sec. III-D) with the hole masks; for Our-tri also occluded
    positives (same identity) and negatives (another identity), each an (occluded, mask) pair."""
    occluded: Tensor
    clean: Tensor
    mask: Tensor
    centre: Tensor
    positive: tuple[Tensor, Tensor] | None = None
    negative: tuple[Tensor, Tensor] | None = None


def recognition_loss(model: IDGAN, recognizer: Recognizer, batch: Triplets, inpainted: Tensor,
                     identity_batch: int = 0) -> Tensor:
    """L_R of the configured variant on the first ``identity_batch`` faces (0 = all: the paper; fewer at small
    profiles, where R, a 160x160 Inception-ResNet, costs most of a CPU step). Our-w/oID has no L_R at all: it
    is "trained without identity concerning loss" (Sec. IV-D); Our-tri / Our-cent replace Eq. 6 as a whole."""
    cfg, k = model.cfg, identity_batch or len(inpainted)
    x, y, centre = inpainted[:k], batch.clean[:k], batch.centre[:k]
    if cfg.identity == "diversity":
        low_x, high_x = recognizer.low_high(x)
        with torch.no_grad():
            low_y, high_y = recognizer.low_high(y)
        return identity_diversity_loss(low_x, low_y, high_x, high_y, centre, cfg.alpha_l, cfg.alpha_h, cfg.beta)
    high_x = recognizer.high(x)
    if cfg.identity == "centre":
        return centre_loss(high_x, centre)
    if cfg.identity == "triplet":
        (pos, pos_mask), (neg, neg_mask) = batch.positive, batch.negative
        high_p = recognizer.high(model(pos[:k], pos_mask[:k])[1])
        high_n = recognizer.high(model(neg[:k], neg_mask[:k])[1])
        # the margin is set on unit embeddings; squared distances grow with the square of R_h's scale
        return triplet_loss(high_x, high_p, high_n, cfg.triplet_margin * recognizer.embedding_scale ** 2)
    raise ValueError(f"identity loss {cfg.identity!r} has no L_R")  # "none" never reaches here (generator_terms)


def generator_terms(model: IDGAN, parser: nn.Module, recognizer: Recognizer | None, batch: Triplets,
                    identity_batch: int = 0, generated: Tensor | None = None) -> tuple[dict[str, Tensor], Tensor]:
    """The terms of Eq. 7 for one batch, and the inpainted faces X. D_g, D_l, S and R all see X, the composite
    (what the inpainter returns; I's raw output enters only L_I). ``generated``: I's raw output on this batch
    when the caller holds it (to take each term's gradient on the image, ``train.gradient_norms``)."""
    cfg = model.cfg
    if generated is None:
        generated = model.inpainter(batch.occluded, batch.mask)
    inpainted = compose(batch.occluded, generated, batch.mask)
    l_dg, l_dl = adversarial_losses(model.critic, inpainted, hole_boxes(batch.mask))
    terms = {"I": reconstruction_loss(generated, batch.clean, batch.mask, cfg.gamma), "Dl": l_dl, "Dg": l_dg,
             "S": structure_loss(parser, inpainted, batch.clean)}
    if cfg.identity != "none":
        terms["R"] = recognition_loss(model, recognizer, batch, inpainted, identity_batch)
    return terms, inpainted


def total_loss(terms: dict[str, Tensor], cfg: IDGANConfig) -> Tensor:
    """Eq. 7: L = L_I + lambda_Dl L_Dl + lambda_Dg L_Dg + lambda_S L_S + lambda_R L_R (absent terms count 0)."""
    weights = {"I": 1.0, "Dl": cfg.lambda_dl, "Dg": cfg.lambda_dg, "S": cfg.lambda_s, "R": cfg.lambda_r}
    return sum(weights[name] * value for name, value in terms.items())
