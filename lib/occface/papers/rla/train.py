"""RLA's training: the multi-stage schedule of Sec. III-B.3, IP-RLA's fine-tuning (Sec. III-C) and the
Table I baselines (PCA, AE, SRC, SSDA), each stage one checkpointed, resumable :class:`Trainer`."""

from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ...faces.pairs import MixedOcclusion, TrainingPairs, occlude_mixed
from ...nn.adversarial import GANLoss
from ...nn.discriminators import DCGANDiscriminator
from ...nn.gan import set_requires_grad
from ...profiles import ProfileConfig
from ...runtime import seed_everything
from ...train import Trainer, checkpoint_path
from .baselines import SSDA, Autoencoder, PCARestorer, SRCRestorer
from .model import RLA, RLAConfig, identity_loss, mse_loss, reconstruction_loss, to_grey


@dataclass
class RLAExperimentConfig(ProfileConfig):
    """Schedule and evaluation sizes; ``full`` follows the paper where it says, smaller profiles shrink."""
    profile: str
    model: RLAConfig
    batch: int
    lr: float = 1e-3
    stage1_steps: int = 1000     # encoder + reconstruction channel on ||X^rec - X||^2
    stage2_steps: int = 300      # detector alone on Eq. 14, the rest fixed
    stage3_steps: int = 600      # all three networks jointly on Eq. 14
    ip_pretrain_d_steps: int = 100  # discriminator pre-training on original vs recovered faces
    ip_steps: int = 300          # IP-RLA fine-tuning on Eq. 19
    ip_lr: float = 2e-4
    baseline_steps: int = 800    # AE and SSDA (SSDA: 1/4 per greedy layer, 1/2 fine-tuning)
    pca_components: int = 400
    src_atoms: int = 20000
    src_nonzero: int = 30
    recognizer: str = "facenet"  # the frozen CNN of Eq. 17: pretrained FaceNet, or one of our trained recognizers
    identity_rows: int = 4       # faces per batch through the supervisor for L_sup (FaceNet dominates CPU time)
    occlusions_per_face: int = 1
    placement: str = "paper"     # "paper": glasses, masks, eye masks, scarves on the landmarks, hands, books,
    #                              phones, cups over a random face region (Sec. IV-A.1); "semantic": all on landmarks
    detector_mask_weight: float = 0.0  # beyond the paper: BCE of S^det against the true mask (0 = Eq. 14 only)
    max_train_images: int = 0
    table_pairs: int = 3000      # LFW View-2 pairs scored per Table I cell (before first/second doubling)
    table_rows: tuple[str, ...] = ()  # empty = all eleven rows of Table I
    seed: int = 0

    SHARED = {"profile": "name", "max_train_images": "max_train_images"}
    PER_PROFILE = {
        "quick": dict(batch=32, lr=2e-3, stage1_steps=120, stage2_steps=40, stage3_steps=60,
                      ip_pretrain_d_steps=10, ip_steps=30, baseline_steps=120, pca_components=50, src_atoms=400,
                      src_nonzero=10, table_pairs=10, table_rows=("Upper face / Sunglasses", "Lower face / Mask")),
        # 300 View-2 pairs a cell (600 scored): with the torch evaluator, 88 cells fit the CPU budget
        "default": dict(batch=32, lr=1.5e-3, stage1_steps=700, stage2_steps=200, stage3_steps=400,
                        ip_pretrain_d_steps=40, ip_steps=200, baseline_steps=800, pca_components=200,
                        src_atoms=2000, src_nonzero=20, occlusions_per_face=2, table_pairs=300),
        "full": dict(batch=64, lr=1e-3, stage1_steps=30000, stage2_steps=5000, stage3_steps=20000,
                     ip_pretrain_d_steps=2000, ip_steps=10000, baseline_steps=20000, occlusions_per_face=2,
                     table_pairs=3000),
    }


def train_key(cfg: RLAExperimentConfig) -> dict:
    """The fields that shape a trained model (checkpoint names); evaluation sizes are left out so that
    re-scoring never retrains."""
    key = dataclasses.asdict(cfg)
    for name in ("table_pairs", "table_rows"):
        key.pop(name)
    return key


# fields a stage of RLA does not depend on (later stages, IP-RLA, baselines): left out of its checkpoint key,
# so that the detector variants of diagnosis.py reuse stage 1 and IP-RLA's supervisor never retrains RLA
_LATER = ("ip_pretrain_d_steps", "ip_steps", "ip_lr", "recognizer", "identity_rows", "baseline_steps",
          "pca_components", "src_atoms", "src_nonzero")
_NOT_IN_STAGE = {"stage1": ("stage2_steps", "stage3_steps", "detector_mask_weight") + _LATER,
                 "stage2": ("stage3_steps",) + _LATER, "stage3": _LATER}


def stage_key(cfg: RLAExperimentConfig, stage: str) -> dict:
    """:func:`train_key` without the fields RLA's ``stage`` does not depend on."""
    key = train_key(cfg)
    for name in _NOT_IN_STAGE[stage]:
        key.pop(name)
    return key


def training_pairs(cfg: RLAExperimentConfig) -> TrainingPairs:
    """LFW training identities (none of View-2 folds 6-10), each face occluded ``occlusions_per_face``
    times by one of the nine kinds (Sec. IV-A.1) from the training half of the templates, placed as
    ``cfg.placement`` says (:func:`_occlude_training`); grey, as RLA works on grey faces."""
    from ...faces.data import load_faces

    faces = load_faces("lfw", size=cfg.model.image_size, split="train", max_images=cfg.max_train_images,
                       seed=cfg.seed)
    draws = [_occlude_training(faces.images, faces.landmarks, cfg.seed * 97 + v, cfg.placement)
             for v in range(cfg.occlusions_per_face)]
    reps = cfg.occlusions_per_face
    return TrainingPairs(occluded=to_grey(torch.cat([d.images for d in draws])),
                         clean=to_grey(faces.images).repeat(reps, 1, 1, 1), identity=faces.identity.repeat(reps),
                         mask=torch.cat([d.mask for d in draws]), kinds=[k for d in draws for k in d.kinds])


LOCATED = ("sunglasses", "eyeglasses", "mouth_mask", "eye_mask", "scarf")  # need "a correct location"
FREE = ("hand", "book", "phone", "cup")                                    # "added onto random locations"


def _occlude_training(images: torch.Tensor, landmarks: torch.Tensor, seed: int, placement: str) -> MixedOcclusion:
    """One of the nine kinds per face. ``placement="paper"`` follows Sec. IV-A.1: "some occlusion templates
    require a correct location, such as sunglasses, glasses and masks" (ours: those three, eye masks and
    scarves) go on the landmarks; "the other templates are added onto random locations of the faces" (hands,
    books, phones, cups: stretched over one of the nine face regions, drawn per face). ``"semantic"`` puts
    every kind on the landmarks (hands and books over the mouth, phones by a cheek): the detector then sees
    two thirds of all occluders on the lower face and learns that place, not the occluder (see diagnosis.py)."""
    if placement == "semantic":
        return occlude_mixed(images, seed=seed, placement="semantic", landmarks=landmarks)
    if placement != "paper":
        raise ValueError(f"placement={placement!r}; use 'paper' or 'semantic'")
    # each face's kind is uniform over the nine, so a face is "free" with probability 4/9
    free = torch.from_numpy(np.random.default_rng(seed).random(len(images)) < len(FREE) / 9)
    parts = {True: occlude_mixed(images[free], seed=seed + 1, kinds=FREE, placement="region",
                                 landmarks=landmarks[free]),
             False: occlude_mixed(images[~free], seed=seed, kinds=LOCATED, placement="semantic",
                                  landmarks=landmarks[~free])}
    out, mask = images.clone(), torch.zeros(len(images), 1, *images.shape[-2:])
    kinds = [""] * len(images)
    for flag, part in parts.items():
        idx = torch.nonzero(free == flag).squeeze(1)
        out[idx], mask[idx] = part.images, part.mask
        for j, i in enumerate(idx.tolist()):
            kinds[i] = part.kinds[j]
    return MixedOcclusion(out, mask, kinds, torch.zeros(len(images), 4), None)


@dataclass
class TrainedRLA:
    """A trained RLA (or IP-RLA), the checkpoint it came from (a later stage's key) and its loss history."""
    model: RLA
    checkpoint: str
    history: dict


def _adam(params, lr: float) -> torch.optim.Optimizer:
    return torch.optim.Adam(params, lr=lr, betas=(0.9, 0.999))


def hash_stage(name: str) -> int:
    """A small, stable integer per stage so each stage draws its own batch sequence."""
    return sum(ord(c) for c in name)


def _stage_loss(net: RLA, name: str, occ: torch.Tensor, clean: torch.Tensor, steps: int,
                mask: torch.Tensor | None = None, mask_weight: float = 0.0) -> torch.Tensor:
    """Stage 1: reconstruction error; stage 2: Eq. 14 through the detector only; stage 3: Eq. 14.
    ``mask_weight`` > 0 (beyond the paper) adds a pixel BCE of S^det against the true ``mask`` in stages 2-3."""
    if name == "stage1":
        return reconstruction_loss(net(occ, detect=False).reconstruction, clean)
    if name == "stage2":
        with torch.no_grad():  # encoder and reconstruction fixed: only their outputs are needed
            encoded = net.encoder(occ)
            canvases, hiddens = net.reconstructor(encoded, steps)
        logits = net.detector(encoded, hiddens)[-1].view_as(occ)
        rec = torch.sigmoid(canvases[-1]).view_as(occ)
        scores = torch.sigmoid(logits)
        loss = 0.5 * (rec * scores + occ * (1 - scores) - clean).pow(2).flatten(1).sum(1).mean()
    else:
        out = net(occ)
        loss, scores = mse_loss(out, occ, clean), out.scores
    if mask_weight:
        loss = loss + mask_weight * F.binary_cross_entropy(scores.clamp(1e-6, 1 - 1e-6), mask, reduction="none"
                                                           ).flatten(1).sum(1).mean()
    return loss


def train_rla(cfg: RLAExperimentConfig, data: TrainingPairs) -> TrainedRLA:
    """Three stages, one :class:`Trainer` each (finished stages are reused, partial ones resumed):

    1. encoder + reconstruction channel on sum_i ||X_i^rec - X_i||^2 (the detector is ignored);
    2. the detector alone on Eq. 14, encoder and reconstruction channel fixed;
    3. all three networks jointly on Eq. 14.

    The paper's optimiser is plain SGD; we use Adam (fewer steps on a CPU budget) with gradient clipping,
    common for LSTMs.
    """
    seed_everything(cfg.seed)
    model = RLA(cfg.model)
    history: dict[str, dict] = {}
    stages = [("stage1", cfg.stage1_steps, [*model.encoder.parameters(), *model.reconstructor.parameters()]),
              ("stage2", cfg.stage2_steps, list(model.detector.parameters())),
              ("stage3", cfg.stage3_steps, list(model.parameters()))]
    previous = ""
    for name, steps, params in stages:
        opt = _adam(params, cfg.lr if name != "stage3" else cfg.lr / 2)
        path = checkpoint_path(f"rla-{name}", stage_key(cfg, name), previous)
        trainer = Trainer({"rla": model}, {"opt": opt}, path, steps=steps, desc=f"RLA {name}")

        def step(i: int, name: str = name, trainer: Trainer = trainer, params=params) -> dict[str, float]:
            occ, clean, mask, _ = (t.to(trainer.device) for t in
                                   data.masked_batch(i, cfg.batch, cfg.seed + hash_stage(name)))
            loss = _stage_loss(trainer.modules["rla"], name, occ, clean, cfg.model.steps, mask,
                               cfg.detector_mask_weight)
            trainer.optimizers["opt"].zero_grad(set_to_none=True)
            trainer.backward(loss)
            torch.nn.utils.clip_grad_norm_(params, 10.0)
            trainer.optimizers["opt"].step()
            return {"loss": loss.item()}

        history[name] = trainer.fit(step)
        previous = path.name
    return TrainedRLA(model.cpu().eval(), previous, history)


# ## Identity-preserving RLA (Sec. III-C)
class IdentityClassifier(nn.Module):
    """The frozen supervised CNN of Eq. 17: a pre-trained face network (features) plus a softmax layer over the
    training identities, fitted on clean training faces; ``train_accuracy`` is measured once it is fitted."""

    def __init__(self, recognizer: nn.Module, classes: int, embedding: int):
        super().__init__()
        self.recognizer = recognizer
        self.linear = nn.Linear(embedding, classes)
        self.train_accuracy = float("nan")

    def forward(self, grey: torch.Tensor) -> torch.Tensor:
        features = self.recognizer(grey.repeat(1, 3, 1, 1))  # face networks take RGB in [0,1]
        return self.linear(F.normalize(features, dim=1) * 16.0)


def supervisor_network(cfg: RLAExperimentConfig) -> nn.Module:
    """The pre-trained CNN of Sec. III-C, frozen. ``"facenet"``: FaceNet (Inception-ResNet-v1 trained on
    CASIA-WebFace, ``occface.nn.identity``), the paper's "GoogLeNet pre-trained on CASIA-WebFace" as closely as
    can be had offline; otherwise one of our recognizers trained on the same training identities (which fits
    them perfectly and so gives RLA little identity signal: the earlier IP-RLA)."""
    if cfg.recognizer == "facenet":
        from ...nn.identity import identity_network

        net = identity_network()
    else:
        from ...eval.recognizers import train_recognizer

        net = train_recognizer(cfg.recognizer, cfg.profile, seed=cfg.seed)
    net = net.eval()
    set_requires_grad(net, False)
    return net


def identity_classifier(cfg: RLAExperimentConfig, data: TrainingPairs, steps: int = 300) -> IdentityClassifier:
    """The supervisor network with a softmax layer fitted on its features of the clean training faces (grey,
    at RLA's size, as it will see the recovered faces); a convex problem on fixed features, so a few hundred
    full-batch steps suffice. The features are cached (FaceNet on every training face is minutes on a CPU)."""
    from ...eval.recognizers import cached_embeddings

    recognizer = supervisor_network(cfg)
    clean = data.clean[: len(data) // cfg.occlusions_per_face]
    labels = data.identity[: len(clean)]

    def embed(images: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            return torch.cat([recognizer(c.repeat(1, 3, 1, 1)).cpu() for c in images.split(128)]).numpy()

    feats = torch.from_numpy(cached_embeddings(f"rla-supervisor-{cfg.recognizer}-seed{cfg.seed}", clean, embed))
    net = IdentityClassifier(recognizer, int(labels.max()) + 1, feats.shape[1])
    opt = torch.optim.Adam(net.linear.parameters(), lr=1e-2)
    x = F.normalize(feats, dim=1) * 16.0
    for _ in range(steps):
        loss = F.cross_entropy(net.linear(x), labels)
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        net.train_accuracy = (net.linear(x).argmax(1) == labels).float().mean().item()
    set_requires_grad(net, False)
    return net.eval()


def train_ip_rla(cfg: RLAExperimentConfig, rla: TrainedRLA, data: TrainingPairs,
                 classifier: IdentityClassifier) -> TrainedRLA:
    """IP-RLA: from the trained RLA, minimise Eq. 19, L = L_mse + L_sup + L_adv, over RLA's parameters
    while D ascends Eq. 18 (alternating steps); the identity classifier stays fixed. D is pre-trained
    on original vs recovered faces first (``ip_pretrain_d_steps``), as the paper describes. L_sup is computed on
    the first ``identity_rows`` faces of each batch (FaceNet forward and backward dominate the CPU time)."""
    seed_everything(cfg.seed)
    model = copy.deepcopy(rla.model).train()
    # the paper's D is GoogLeNet; at our sizes a 4-block strided CNN (width scaled by profile) suffices
    disc = DCGANDiscriminator(cfg.model.image_size, channels=1, width=max(8, cfg.model.hidden // 16))
    gan = GANLoss("bce")  # Eq. 18; G minimises -log D(G(x)) (non-saturating), as Goodfellow et al. advise
    path = checkpoint_path("rla-ip", train_key(cfg), rla.checkpoint)
    trainer = Trainer({"rla": model, "disc": disc},
                      {"g": _adam(model.parameters(), cfg.ip_lr), "d": _adam(disc.parameters(), cfg.ip_lr * 2)},
                      path, steps=cfg.ip_pretrain_d_steps + cfg.ip_steps, desc="IP-RLA")
    classifier = classifier.to(trainer.device)

    def step(i: int) -> dict[str, float]:
        occ, clean, labels = (t.to(trainer.device) for t in data.batch(i, cfg.batch, cfg.seed + 7))
        net, d = trainer.modules["rla"], trainer.modules["disc"]
        out = net(occ)
        loss_d = gan.d_loss(d(clean), d(out.recovered.detach()))  # Eq. 18: original -> 1, recovered -> 0
        trainer.optimizers["d"].zero_grad(set_to_none=True)
        trainer.backward(loss_d)
        trainer.optimizers["d"].step()
        if i < cfg.ip_pretrain_d_steps:
            return {"d": loss_d.item()}
        rows = slice(0, cfg.identity_rows or None)  # L_sup on a few faces per batch (CPU budgets)
        l_mse, l_sup = mse_loss(out, occ, clean), identity_loss(classifier(out.recovered[rows]), labels[rows])
        l_adv = gan.g_loss(d(out.recovered))
        trainer.optimizers["g"].zero_grad(set_to_none=True)
        trainer.backward(l_mse + l_sup + l_adv)  # Eq. 19
        torch.nn.utils.clip_grad_norm_(net.parameters(), 10.0)
        trainer.optimizers["g"].step()
        return {"d": loss_d.item(), "mse": l_mse.item(), "sup": l_sup.item(), "adv": l_adv.item()}

    history = trainer.fit(step)
    return TrainedRLA(model.cpu().eval(), path.name, history)


# ## Baselines (Table I columns SSDA, SRC, AE, PCA)
def _fit_baseline(name: str, net: nn.Module, cfg: RLAExperimentConfig, data: TrainingPairs) -> None:
    """AE: plain L2 denoising; SSDA: greedy layer-wise pre-training, then fine-tuning (Xie et al., Sec. 3.2)."""
    trainer = Trainer({"net": net}, {"opt": _adam(net.parameters(), cfg.lr)},
                      checkpoint_path(f"rla-{name}", train_key(cfg)), steps=cfg.baseline_steps, desc=name.upper())
    quarter = cfg.baseline_steps // 4

    def step(i: int) -> dict[str, float]:
        occ, clean, _ = data.batch(i, cfg.batch, cfg.seed + 11)
        x_occ, x = occ.flatten(1).to(trainer.device), clean.flatten(1).to(trainer.device)
        net_ = trainer.modules["net"]
        if name == "ae":
            loss = 0.5 * (net_(x_occ) - x).pow(2).sum(1).mean()
        else:
            loss = net_.layer_loss(i // quarter, x_occ, x) if i < 2 * quarter else net_.loss(x_occ, x)
        trainer.optimizers["opt"].zero_grad(set_to_none=True)
        trainer.backward(loss)
        trainer.optimizers["opt"].step()
        return {"loss": loss.item()}

    trainer.fit(step)
    net.cpu().eval()


def train_baselines(cfg: RLAExperimentConfig, data: TrainingPairs) -> dict[str, object]:
    """PCA (eigenfaces of clean faces), SRC (OMP over a dictionary of clean training faces), AE (four
    hidden layers of RLA's width) and SSDA (two sparse denoising layers of RLA's width, Xie et al.)."""
    seed_everything(cfg.seed)
    clean = data.clean[: len(data) // cfg.occlusions_per_face]
    pca = PCARestorer(cfg.pca_components).fit(clean, seed=cfg.seed)
    src = SRCRestorer(cfg.src_atoms, cfg.src_nonzero).fit(clean, seed=cfg.seed)
    pixels = cfg.model.image_size ** 2
    ae, ssda = Autoencoder(pixels, cfg.model.hidden, layers=4), SSDA(pixels, cfg.model.hidden, layers=2)
    for name, net in (("ae", ae), ("ssda", ssda)):
        _fit_baseline(name, net, cfg, data)
    return {"PCA": pca, "SRC": src, "AE": ae, "SSDA": ssda}
