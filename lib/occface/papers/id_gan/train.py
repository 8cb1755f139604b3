"""ID-GAN's training (Sec. IV-A): random m x m white blocks on augmented faces, Adam for I and {D_g, D_l}, one
checkpointed, resumable :class:`~occface.train.Trainer` per variant; every batch derives from
``step_generator(seed, step)``.

The paper trains on CelebA (162,770 images, 10,177 people) and tests on LFW; we have LFW only, so we train on
the LFW identities outside View-2 folds 6-10 (``load_faces(split="train")``) and test on the others.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from ...faces.data import Faces
from ...faces.occlusion import occlude
from ...faces.pairs import step_generator
from ...nn.gan import GANSteps
from ...profiles import Profile, ProfileConfig
from ...runtime import seed_everything
from ...train import Trainer, checkpoint_path
from .model import (IDGAN, IDGANConfig, Recognizer, Triplets, centres_from_features, discriminator_loss,
                    generator_terms, hole_boxes, total_loss)


@dataclass
class IDGANTrainConfig(ProfileConfig):
    """Schedule of one ID-GAN variant; ``full`` follows Sec. IV-A where it says, smaller profiles shrink."""
    profile: str
    model: IDGANConfig
    steps: int
    batch: int
    identity_batch: int = 0      # faces per batch that R sees (0 = all, the paper); see recognition_loss
    lr_g: float = 1e-4           # Sec. IV-A: 1e-4 for both, beta1 0.9 (G) and 0.5 (D)
    lr_d: float = 1e-4
    beta1_g: float = 0.9
    beta1_d: float = 0.5
    shift: float = 0.05          # "shift": the paper gives no amount; GFC's +-5% jitter
    rotation: float = 15.0       # +-15 degrees (Sec. IV-A)
    max_train_images: int = 0
    recognizer: str = "facenet"  # names R in the checkpoint key (occface.nn.identity's network)
    seed: int = 0

    SHARED = {"profile": "name"}
    # lambda_R (beyond the paper, which sets 2e-4 for VGGFace): declared so that R's gradient on I's output image
    # is 5-10 % of L_I's (IDENTITY_SHARE_TARGET) with I at its seeded initialisation, measured on validation
    # people (identity_share, then lambda_r_for_share at the 7.5 % midpoint). At the paper's 2e-4 (R_h x 100) R
    # pulled with 2.3 % (quick, R on 1 face of 8) and 0.80 % (default, 4 faces of 16) of L_I's image gradient.
    PER_PROFILE = {
        # CPU profiles: a larger learning rate than the paper's for their few steps, and R (a 160x160
        # Inception-ResNet, ~0.35 s a face forward and backward on one thread) on one face a step at quick,
        # four at default (an identity term measured on one face a step is mostly noise)
        "quick": dict(model=dict(width=8, critic_width=8, lambda_r=6.6e-4), steps=80, batch=8, identity_batch=1,
                      lr_g=1e-3, lr_d=1e-3, max_train_images=240),
        "default": dict(model=dict(width=16, critic_width=16, lambda_r=1.9e-3), steps=800, batch=16,
                        identity_batch=4, lr_g=5e-4, lr_d=5e-4, max_train_images=2000),
        # the paper's lr and betas; it gives neither batch size nor iterations (ours: ~12 epochs of CelebA-sized
        # data). lambda_R: default's, not yet measured at 128 px (the identity-weight table at full measures
        # it); 3,800 of the 4,194 training-split faces, so whole training people are left for validation
        "full": dict(model=dict(width=32, critic_width=64, lambda_r=1.9e-3), steps=60000, batch=32,
                     max_train_images=3800),
    }

    @classmethod
    def for_profile(cls, profile: str | Profile, identity: str = "diversity", paper_scale: bool = False,
                    **overrides) -> IDGANTrainConfig:
        """The shared ``ProfileConfig.for_profile`` with ID-GAN's variant keywords put into the model's config.
        ``paper_scale``: R_h is our unit-norm embedding as it is (see ``IDGANConfig.embedding_scale``); lambda_R
        is the profile's declared one (``PER_PROFILE``). Our-w/oID has no R: its scale is 1 and its lambda_R the
        paper's, so its checkpoint key never moves with R's settings."""
        model = {"identity": identity} | ({"embedding_scale": 1.0} if paper_scale or identity == "none" else {})
        if identity == "none":  # no R: its weight stays the paper's
            model["lambda_r"] = IDGANConfig.lambda_r
        return super().for_profile(profile, **overrides | {"model": model | overrides.get("model", {})})


@dataclass
class TrainedIDGAN:
    """A trained ID-GAN variant, its loss history and the checkpoint it lives in."""
    model: IDGAN
    history: dict
    checkpoint: str


# ## Data (Sec. IV-A)
def training_faces(cfg: IDGANTrainConfig) -> Faces:
    """LFW training identities with >= 2 images (each centre of Eq. 5 then averages several faces, and Our-tri
    has a positive for every anchor)."""
    from ...faces.data import load_faces

    return load_faces("lfw", size=cfg.model.image_size, split="train", max_images=cfg.max_train_images,
                      seed=cfg.seed, min_per_identity=2)


def augment(images: torch.Tensor, gen: torch.Generator, shift: float, rotation: float) -> torch.Tensor:
    """"Flipping, shift and rotation (+-15 degrees)": a random flip, a uniform shift of up to ``shift`` of the
    side and a uniform rotation, one affine warp per face (border pixels repeat where the warp leaves the face)."""
    n = len(images)
    flip, u = torch.rand(n, generator=gen) < 0.5, torch.rand(n, 3, generator=gen) * 2 - 1
    angle = u[:, 0] * math.radians(rotation)
    theta = torch.zeros(n, 2, 3)
    theta[:, 0, 0], theta[:, 0, 1], theta[:, 1, 0], theta[:, 1, 1] = angle.cos(), -angle.sin(), angle.sin(), angle.cos()
    theta[:, :, 2] = u[:, 1:] * 2 * shift  # normalised coordinates span 2
    grid = F.affine_grid(theta, list(images.shape), align_corners=False)
    out = F.grid_sample(images, grid, mode="bilinear", padding_mode="border", align_corners=False)
    return torch.where(flip[:, None, None, None], out.flip(-1), out)


def _occluded(clean: torch.Tensor, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """"A m x m mask to randomly cover" each face: a white block wholly inside it (m = 48 at 128x128)."""
    occ = occlude(clean, "block_white", placement="random", seed=int(torch.randint(2**31, (1,), generator=gen)))
    return occ.images, occ.mask


def _partners(identity: torch.Tensor, idx: torch.Tensor, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """For anchors ``idx``: another image of the same identity (positive) and an image of another (negative)."""
    order = torch.argsort(identity, stable=True)
    counts = torch.bincount(identity)
    starts = torch.cumsum(counts, 0) - counts
    rank = torch.empty_like(order)
    rank[order] = torch.arange(len(order)) - starts[identity[order]]
    ids, count = identity[idx], counts[identity[idx]]
    step = 1 + (torch.rand(len(idx), generator=gen) * (count - 1)).long()  # never the anchor itself
    positive = order[starts[ids] + (rank[idx] + step) % count]
    negative = torch.randint(len(identity), (len(idx),), generator=gen)
    for _ in range(100):  # redraw the few that hit the anchor's identity
        same = identity[negative] == ids
        if not same.any():
            break
        negative[same] = torch.randint(len(identity), (int(same.sum()),), generator=gen)
    return positive, negative


def training_batch(faces: Faces, centres: torch.Tensor | None, cfg: IDGANTrainConfig, step: int) -> Triplets:
    """The identity triplets of one step: a function of (seed, step) only, so a resumed run replays nothing."""
    gen = step_generator(cfg.seed, step)
    idx = torch.randint(len(faces), (cfg.batch,), generator=gen)
    clean = augment(faces.images[idx], gen, cfg.shift, cfg.rotation)
    occluded, mask = _occluded(clean, gen)
    centre = centres[faces.identity[idx]] if centres is not None else torch.zeros(cfg.batch, 1)
    batch = Triplets(occluded, clean, mask, centre)
    if cfg.model.identity == "triplet":  # all three images of a triplet are occluded, then inpainted (Sec. IV-D)
        positive, negative = _partners(faces.identity, idx, gen)
        batch.positive = _occluded(augment(faces.images[positive], gen, cfg.shift, cfg.rotation), gen)
        batch.negative = _occluded(augment(faces.images[negative], gen, cfg.shift, cfg.rotation), gen)
    return batch


def identity_centres_of(recognizer: Recognizer, faces: Faces, cache_key: str | None) -> torch.Tensor:
    """Eq. 5 over the clean training faces; the embeddings are cached on disk when ``cache_key`` names R."""
    from ...eval.recognizers import cached_embeddings

    def embed(images: torch.Tensor):
        with torch.no_grad():
            return torch.cat([recognizer.embed(c) for c in images.split(64)]).numpy()

    feats = torch.from_numpy(cached_embeddings(cache_key, faces.images, embed)) if cache_key else \
        torch.from_numpy(embed(faces.images))
    return centres_from_features(recognizer.embedding_scale * feats, faces.identity, len(faces.names))


# ## Training
def train_key(cfg: IDGANTrainConfig) -> dict:
    return dataclasses.asdict(cfg)


def _recognizer(cfg: IDGANTrainConfig, identity, features) -> tuple[Recognizer | None, str | None]:
    """R from the arguments (tests pass stand-ins) or, lazily, occface.nn.identity's FaceNet."""
    if cfg.model.identity == "none":
        return None, None
    key = None
    if identity is None:
        from ...nn import identity as face_identity

        identity, features, key = face_identity.identity_network(), face_identity.feature_network(), cfg.recognizer
    return Recognizer(identity, features, cfg.model.embedding_scale), key


def train_id_gan(cfg: IDGANTrainConfig, identity: torch.nn.Module | None = None,
                 features: torch.nn.Module | None = None, parser: torch.nn.Module | None = None,
                 faces: Faces | None = None) -> TrainedIDGAN:
    """Alternate one step of I on Eq. 7 (D_g, D_l frozen) and one of {D_g, D_l} on Eq. 4 (the paper gives no
    ratio; GFC alternates 1:1). S is the frozen parser of ``occface.nn.parsing``; R is frozen. Tests pass
    stand-ins for R (``identity``, ``features``), S (``parser``) and the training ``faces``."""
    from ...nn.parsing import frozen_parser

    seed_everything(cfg.seed)
    model = IDGAN(cfg.model)  # first: loading S or R may draw from the global RNG (e.g. a network's init)
    faces = faces if faces is not None else training_faces(cfg)
    parser = parser if parser is not None else frozen_parser(cfg.profile, cfg.seed)
    recognizer, key = _recognizer(cfg, identity, features)
    centres = identity_centres_of(recognizer, faces, key and f"id-gan-{key}") if recognizer else None
    opt_g = torch.optim.Adam(model.inpainter.parameters(), lr=cfg.lr_g, betas=(cfg.beta1_g, 0.999))
    opt_d = torch.optim.Adam(model.critic.parameters(), lr=cfg.lr_d, betas=(cfg.beta1_d, 0.999))
    # Eq. 6's low and high features now come from one FaceNet pass: the same loss, gradients equal up to float
    # rounding (summed in another order), so the variant that uses both gets a new key
    one_pass = ["R low+high one pass"] if cfg.model.identity == "diversity" else []
    path = checkpoint_path(f"id-gan-{cfg.model.identity}", train_key(cfg), *one_pass)
    trainer = Trainer({"idgan": model}, {"g": opt_g, "d": opt_d}, path, steps=cfg.steps,
                      desc=f"ID-GAN ({cfg.model.identity})")
    dev = trainer.device
    parser = parser.to(dev)
    recognizer = recognizer.to(dev) if recognizer else None
    net = trainer.unwrapped("idgan")
    steps = GANSteps(disc=net.critic, opt_d=trainer.optimizers["d"], opt_g=trainer.optimizers["g"], backward=trainer)

    def step(i: int) -> dict[str, float]:
        b = training_batch(faces, centres, cfg, i)
        b = Triplets(*(t.to(dev) for t in (b.occluded, b.clean, b.mask, b.centre)),
                     *((tuple(t.to(dev) for t in pair) if pair else None) for pair in (b.positive, b.negative)))
        out: dict[str, float] = {}

        def g_loss() -> torch.Tensor:
            terms, out["_x"] = generator_terms(net, parser, recognizer, b, cfg.identity_batch)
            out.update({k: v.item() for k, v in terms.items()})
            return total_loss(terms, cfg.model)

        out["total"] = steps.g_step(g_loss)
        fake = out.pop("_x").detach()
        out["D"] = steps.d_step(lambda: discriminator_loss(net.critic, b.clean, fake, hole_boxes(b.mask)))
        return out

    history = trainer.fit(step)
    return TrainedIDGAN(model.cpu().eval(), history, path.name)


# ## How hard R pulls on I (the weight lambda_R is chosen by)
IDENTITY_SHARE_TARGET = (0.05, 0.10)  # R's gradient on I's output: 5-10 % of L_I's (beyond the paper)
VALIDATION_IMAGES = 200               # faces of validation people the share is measured on
VALIDATION_BATCHES = 4                # batches (steps 0..3 of the validation stream) it is averaged over


def validation_faces(cfg: IDGANTrainConfig, max_images: int = VALIDATION_IMAGES) -> Faces:
    """A validation split of the training people: LFW training-split people (>= 2 images) that
    :func:`training_faces` leaves out, whole people, at most ``max_images`` faces. lambda_R is chosen here,
    never on the test people (View-2 folds 6-10)."""
    from ...faces.data import load_faces

    used = set(training_faces(cfg).names)
    faces = load_faces("lfw", size=cfg.model.image_size, split="train", seed=cfg.seed, min_per_identity=2)
    person = [faces.names[int(i)] for i in faces.identity]
    idx = [i for i, name in enumerate(person) if name not in used][:max_images]
    if len({person[i] for i in idx}) < 2:
        raise ValueError(f"no validation people left: max_train_images={cfg.max_train_images} takes every "
                         "training-split person; lower it so some training people are held out")
    names = sorted({person[i] for i in idx})
    identity = torch.tensor([names.index(person[i]) for i in idx])
    return Faces(faces.images[idx], identity, names, faces.landmarks[idx], [faces.paths[i] for i in idx],
                 dict(faces.info, split="validation (training people ID-GAN does not train on)"))


def gradient_norms(cfg: IDGANTrainConfig, model: IDGAN, batch: Triplets, parser: torch.nn.Module,
                   recognizer: Recognizer | None) -> dict[str, dict[str, float]]:
    """Norm of each weighted term of Eq. 7's gradient on one batch, on I's output image ("image": the pixels
    I paints, where L_I and R meet) and on I's parameters ("parameters": what the optimiser moves) ->
    {"image": {term: norm}, "parameters": {term: norm}}."""
    generated = model.inpainter(batch.occluded, batch.mask)
    terms, _ = generator_terms(model, parser, recognizer, batch, cfg.identity_batch, generated)
    params = list(model.inpainter.parameters())
    out: dict[str, dict[str, float]] = {"image": {}, "parameters": {}}
    for name, value in terms.items():
        weighted = total_loss({name: value}, cfg.model)
        grads = torch.autograd.grad(weighted, [generated] + params, retain_graph=True, allow_unused=True)
        out["image"][name] = float(grads[0].norm()) if grads[0] is not None else 0.0
        out["parameters"][name] = float(torch.sqrt(sum((g ** 2).sum() for g in grads[1:] if g is not None)))
    return out


def identity_share(cfg: IDGANTrainConfig, model: IDGAN | None = None, batches: int = VALIDATION_BATCHES,
                   identity: torch.nn.Module | None = None, features: torch.nn.Module | None = None,
                   parser: torch.nn.Module | None = None, faces: Faces | None = None) -> dict[str, float]:
    """How hard R pulls on I: |grad lambda_R L_R| / |grad L_I| on I's output image and on I's parameters,
    averaged over ``batches`` batches of the validation people (:func:`validation_faces`, their own Eq. 5
    centres). ``model``: by default I at its seeded initialisation, so the share is a property of the losses
    and weights, not of one training run. Tests pass stand-ins for R (``identity``, ``features``), S
    (``parser``) and the ``faces``."""
    from ...nn.parsing import frozen_parser

    if cfg.model.identity == "none":
        raise ValueError("Our-w/oID has no identity term; pass a config with identity 'diversity', 'triplet' or "
                         "'centre'")
    faces = faces if faces is not None else validation_faces(cfg)
    parser = parser if parser is not None else frozen_parser(cfg.profile, cfg.seed)
    recognizer, key = _recognizer(cfg, identity, features)
    centres = identity_centres_of(recognizer, faces, key and f"id-gan-{key}")
    if model is None:
        seed_everything(cfg.seed)
        model = IDGAN(cfg.model)
    model.train()
    ratios: dict[str, list[float]] = {"image": [], "parameters": []}
    for step in range(batches):
        norms = gradient_norms(cfg, model, training_batch(faces, centres, cfg, step), parser, recognizer)
        for where, terms in norms.items():
            ratios[where].append(terms["R"] / terms["I"])
    return {where: float(np.mean(values)) for where, values in ratios.items()}


def lambda_r_for_share(cfg: IDGANTrainConfig, share: float, target: float = float(np.mean(IDENTITY_SHARE_TARGET))
                       ) -> float:
    """The lambda_R that puts R's image share at ``target``, from the ``share`` measured at ``cfg``'s lambda_R:
    R's gradient is linear in lambda_R and L_I's does not depend on it."""
    if share <= 0:
        raise ValueError(f"R's measured share is {share}: R does not pull on I at all, no lambda_R can reach "
                         f"{target:.0%}")
    return cfg.model.lambda_r * target / share
