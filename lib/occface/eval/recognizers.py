"""Face recognizers: an independent, never-trained evaluator (dlib's ResNet) and trainable torch recognizers.

- ``DlibEvaluator``: dlib's 128-D face-recognition ResNet (face-recognition-models; 99.38% on LFW as
  published by dlib). It plays ArcFace / VGGFace2 of the papers: a strong recognizer nobody trains against.
  It receives our template-aligned faces and warps a whole batch at once to dlib's own 150x150 chip geometry.
- ``MarginSoftmax``: the unified margin softmax of FROM Eq. 1, cos(m1*theta + m2) - m3, giving SphereFace
  (m1), ArcFace (m2) and CosFace (m3).
- ``train_recognizer``: LResNet-IR (FROM's baseline, 112x96) or LightCNN-9 (FSG-GAN / OA-GAN's identity
  supervisor) trained on the training identities only, through ``occface.train.Trainer``; optionally on the
  training faces passed through a function first (OA-GAN Sec. IV-E: a recognizer trained on de-occluded faces).
"""

from __future__ import annotations

import hashlib
import io
import time
from dataclasses import asdict, dataclass
from functools import lru_cache
from typing import Callable, ClassVar

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..faces.align import similarity_matrix
from ..nn.backbones import LightCNN9, LResNetIR
from ..nn.margins import CENTRE_LOSS, LOSSES, CentreLoss, MarginSoftmax
from ..paths import cache_dir
from ..results import atomic_write_bytes
from ..profiles import Profile, ProfileConfig

# ----------------------------------------------------------------------------------------- dlib evaluator

CHIP_SIZE, CHIP_PADDING = 150, 0.25
# Where our five template points (image-left eye centre, image-right eye centre, nose tip, mouth corners;
# occface.align.five_from_68) land, on average, in dlib's 150x150 chip (``dlib.get_face_chip`` with its
# default padding 0.25 from the 5-point shape predictor). Measured by ``measure_chip_points()`` on 80 LFW
# faces (one per 60th person); per-point s.d. 1.4-2 px at the eyes, 5-7 px at nose and mouth.
CHIP_POINTS = np.array([[47.073, 46.350], [100.110, 46.286], [72.803, 75.157],
                        [48.862, 102.906], [98.718, 103.108]])


def _theta(chip_to_image: np.ndarray, in_hw: tuple[int, int], out_hw: tuple[int, int]) -> torch.Tensor:
    """affine_grid's theta (normalized output -> normalized input coords, align_corners=False) from a pixel-
    space map (pixel centres at integers, as dlib and our landmarks use)."""
    def norm(h: int, w: int) -> np.ndarray:  # pixel -> [-1, 1]: x_n = (2x + 1) / W - 1
        return np.array([[2.0 / w, 0, 1.0 / w - 1], [0, 2.0 / h, 1.0 / h - 1], [0, 0, 1]])
    theta = norm(*in_hw) @ chip_to_image @ np.linalg.inv(norm(*out_hw))
    return torch.from_numpy(theta[..., :2, :]).float()


def to_chips(images: torch.Tensor, landmarks: torch.Tensor | np.ndarray | None = None) -> torch.Tensor:
    """Warp (N,3,H,W) faces to dlib's 150x150 chip geometry in one ``grid_sample``.

    Without landmarks every face is assumed aligned to ``occface.data.template((H, W))`` and one fixed
    similarity (template -> ``CHIP_POINTS``) is used; with (N,5,2) landmarks each face gets its own.
    Pixels the chip needs beyond our crop (mostly below the chin: dlib's chip is looser than the 112x96
    template) are filled by border replication.
    """
    from ..faces.align import template

    n, _, h, w = images.shape
    if landmarks is None:
        src = template((h, w))[None]
    else:
        src = np.asarray(landmarks, np.float64).reshape(n, 5, 2)
    img_to_chip = similarity_matrix(src, np.broadcast_to(CHIP_POINTS, src.shape))
    theta = _theta(np.linalg.inv(img_to_chip), (h, w), (CHIP_SIZE, CHIP_SIZE)).to(images.device)
    theta = theta.expand(n, 2, 3) if theta.shape[0] == 1 else theta
    grid = F.affine_grid(theta, (n, 3, CHIP_SIZE, CHIP_SIZE), align_corners=False)
    return F.grid_sample(images.float(), grid, mode="bilinear", padding_mode="border", align_corners=False)


class DlibEvaluator:
    """dlib's ResNet face descriptor (128-D, Euclidean threshold 0.6; 99.38% LFW accuracy published by dlib).

    Never trained here: the independent judge of every de-occluder (it stands in for the papers' ArcFace /
    VGGFace2 evaluators). Computed by the exact torch port (``occface.pretrained.dlib_resnet``: descriptors
    within 5e-7 of dlib's own, identical decisions; 3-4x faster on 2 cores), batched: one ``grid_sample``
    to dlib's 150x150 chips, rounded to 8 bits as dlib receives them, one forward per ``batch``.
    """

    def __init__(self, batch: int = 256):
        from ..pretrained.dlib_resnet import load_dlib_resnet

        self.net = load_dlib_resnet(channels_last=True)
        self.batch = batch

    def chips(self, images: torch.Tensor, landmarks=None) -> np.ndarray:
        """(N,150,150,3) uint8 chips as dlib wants them."""
        with torch.no_grad():
            chips = to_chips(torch.as_tensor(images), landmarks)
        return chips.clamp(0, 1).mul(255).round().to(torch.uint8).permute(0, 2, 3, 1).cpu().numpy()

    def embed(self, images: torch.Tensor, landmarks=None) -> np.ndarray:
        """(N,128) float32 descriptors of (N,3,H,W) faces in [0, 1] aligned to our template."""
        out = np.zeros((len(images), 128), np.float32)
        for start in range(0, len(images), self.batch):
            end = min(start + self.batch, len(images))
            lm = None if landmarks is None else np.asarray(landmarks)[start:end]
            out[start:end] = self.net.embed_uint8(self.chips(images[start:end], lm), batch=64)
        return out

    __call__ = embed

    @staticmethod
    def score(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Similarity of descriptor pairs: negative Euclidean distance (dlib's metric; higher = same)."""
        return -np.linalg.norm(np.asarray(a) - np.asarray(b), axis=1)


def cached_embeddings(key: str, images: torch.Tensor, embed: Callable[[torch.Tensor], np.ndarray]) -> np.ndarray:
    """Embeddings of a fixed image set, cached under ``<cache>/embeddings/<key>-<hash of pixels>.npy``."""
    digest = hashlib.sha256(images.contiguous().numpy().tobytes()).hexdigest()[:16]
    path = cache_dir("embeddings") / f"{key}-{digest}.npy"
    if path.exists():
        return np.load(path)
    feats = np.asarray(embed(images), np.float32)
    buffer = io.BytesIO()
    np.save(buffer, feats)
    atomic_write_bytes(path, buffer.getvalue())  # a read-only cache is named with OCCFACE_CACHE
    return feats


@lru_cache(maxsize=1)
def dlib_evaluator() -> DlibEvaluator:
    """One shared evaluator per process (loading the cached weights takes well under a second)."""
    return DlibEvaluator()


# ----------------------------------------------------------------------------------------- trainable recognizers


@dataclass(frozen=True)
class TrainingInfo:
    """How a recognizer was trained (shown in 02_evaluation's recognizer table)."""
    config: "RecognizerConfig"
    history: dict
    seconds: float
    classes: int
    train_images: int
    images_digest: str = ""  # pixel hash of the training faces when a function changed them, else ""

    def describe(self) -> str:
        """One line: backbone, loss, schedule and data, e.g. for a table row's note."""
        c = self.config
        arch = {"lresnet": "LResNet-IR", "lightcnn": "LightCNN-9"}[c.arch]
        head = {"softmax": "cosine softmax", "centerloss": "cosine softmax + centre loss"}.get(c.loss, c.loss)
        faces = "transformed LFW training faces" if self.images_digest else "LFW training faces"
        return (f"{arch} ({c.input_size[0]}x{c.input_size[1]}, {c.embedding}-D), {head} {LOSSES[c.loss]}"
                f"{f' + {CENTRE_LOSS}' if c.loss == 'centerloss' else ''}; {c.steps} steps x {c.batch} on "
                f"{self.train_images} {faces} of {self.classes} people")


class Recognizer(nn.Module):
    """A backbone plus its input convention: resize to ``input_size``, normalize to [-1, 1]; ``info`` says
    how it was trained (None for an untrained one)."""

    def __init__(self, backbone: nn.Module, input_size: tuple[int, int], info: TrainingInfo | None = None):
        super().__init__()
        self.backbone, self.input_size, self.info = backbone, tuple(input_size), info

    def prepare(self, images: torch.Tensor) -> torch.Tensor:
        if tuple(images.shape[-2:]) != self.input_size:
            # faces are all on one template, so a plain resize keeps them aligned (template scales with H)
            images = resize_aligned(images, self.input_size)
        return images * 2 - 1

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.backbone(self.prepare(images))

    @torch.no_grad()
    def embed(self, images: torch.Tensor, batch: int = 512) -> np.ndarray:
        """(N,E) float32 features of (N,3,H,W) faces in [0, 1]; eval mode, batched."""
        was = self.training
        self.eval()
        device = next(self.parameters()).device
        out = [self(images[i:i + batch].to(device)).float().cpu() for i in range(0, len(images), batch)]
        self.train(was)
        return torch.cat(out).numpy()


def resize_aligned(images: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Resample template-aligned faces of one size onto the template of another (a single affine warp:
    the template scales with H and is centred in W, so a square crop and a 112x96 crop differ in width)."""
    from ..faces.align import template

    n, _, h, w = images.shape
    m = similarity_matrix(template(size), template((h, w)))  # output pixel -> input pixel
    theta = _theta(m, (h, w), tuple(size))[None].expand(n, 2, 3).to(images.device)
    grid = F.affine_grid(theta, (n, images.shape[1], *size), align_corners=False)
    return F.grid_sample(images, grid, mode="bilinear", padding_mode="border", align_corners=False)


@dataclass(frozen=True)
class RecognizerConfig(ProfileConfig):
    arch: str               # "lresnet" | "lightcnn"
    loss: str               # key of LOSSES
    input_size: tuple[int, int]
    width: int
    blocks: tuple[int, ...]
    embedding: int
    steps: int
    batch: int
    lr: float
    max_train_images: int
    min_per_identity: int = 2
    seed: int = 0
    revision: int = 2       # bump when the architecture changes: old checkpoints then never load

    SHARED = {"input_size": "recog_size", "width": "width", "steps": "steps", "batch": "batch",
              "max_train_images": "max_train_images"}
    # LResNet-E-IR units per stage: the paper's LResNet50E-IR at full, shallower on the CPU profiles
    PER_PROFILE = {"quick": dict(blocks=(1, 1, 1, 1), embedding=128),
                   "default": dict(blocks=(1, 2, 2, 1), embedding=128),
                   "full": dict(blocks=(3, 4, 14, 3), embedding=512)}
    PER_ARCH: ClassVar[dict[str, dict]] = {"lresnet": dict(lr=0.1), "lightcnn": dict(lr=2e-3, blocks=())}

    @classmethod
    def for_arch(cls, arch: str, profile: str | Profile, seed: int = 0, loss: str = "cosface") -> "RecognizerConfig":
        """``for_profile`` with the architecture's own values (``PER_ARCH``) as overrides."""
        if arch not in cls.PER_ARCH:
            raise ValueError(f"arch must be one of {sorted(cls.PER_ARCH)}, got {arch!r}")
        if loss not in LOSSES:
            raise ValueError(f"loss must be one of {sorted(LOSSES)}, got {loss!r}")
        return cls.for_profile(profile, arch=arch, loss=loss, seed=seed, **cls.PER_ARCH[arch])

    def build(self) -> Recognizer:
        if self.arch == "lresnet":
            net = LResNetIR(self.input_size, self.width, self.blocks, self.embedding)
        else:
            net = LightCNN9(self.input_size, max(4, self.width * 48 // 64), self.embedding)
        return Recognizer(net, self.input_size)


def train_recognizer(arch: str, profile: str | Profile, seed: int = 0, loss: str = "cosface",
                     verbose: bool = True,
                     train_images: Callable[[torch.Tensor], torch.Tensor] | None = None) -> Recognizer:
    """Train (or reuse from the checkpoint cache) a recognizer on LFW's training identities only.

    People with a single image are dropped (``min_per_identity=2``): a class seen once teaches the margin
    nothing transferable. LResNet: SGD momentum 0.9, weight decay 5e-4, one-cycle LR (peak 0.1); LightCNN: AdamW
    (peak 2e-3); horizontal flips.
    The margin head (FROM Eq. 1) is trained with the backbone and discarded; ``embed`` gives features.
    ``loss="centerloss"``: the cosine softmax plus Wen et al.'s centre loss (``nn.margins.CENTRE_LOSS``).
    ``train_images``: a function applied once to the (N,3,H,W) training faces before training (e.g. a
    de-occluder); the hash of its output joins the checkpoint key, so another function gets another model.
    """
    from ..faces.data import load_faces
    from ..runtime import seed_everything
    from ..train import Trainer, checkpoint_path

    cfg = RecognizerConfig.for_arch(arch, profile, seed, loss)
    seed_everything(seed)
    faces = load_faces("lfw", size=cfg.input_size, split="train", max_images=cfg.max_train_images, seed=seed,
                       min_per_identity=cfg.min_per_identity)
    classes = len(faces.names)
    images, labels, digest = faces.images, faces.identity, ""
    if train_images is not None:
        images = torch.as_tensor(train_images(images)).detach().float().cpu()
        if images.shape != faces.images.shape:
            raise ValueError(f"train_images must keep the faces' shape {tuple(faces.images.shape)}, returned "
                             f"{tuple(images.shape)}; resize inside the function")
        digest = hashlib.sha256(images.contiguous().numpy().tobytes()).hexdigest()[:16]
    model = cfg.build()
    head = MarginSoftmax(cfg.embedding, classes, **LOSSES[cfg.loss])
    modules = {"model": model, "head": head}
    if cfg.loss == "centerloss":
        modules["centres"] = CentreLoss(classes, cfg.embedding, CENTRE_LOSS["alpha"])
    params = list(model.parameters()) + list(head.parameters())
    if arch == "lresnet":
        opt = torch.optim.SGD(params, lr=cfg.lr, momentum=0.9, weight_decay=5e-4, nesterov=True)
    else:  # LightCNN has no BatchNorm: plain SGD at 0.1 kills the MFM units within a few steps; Adam trains it
        opt = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=5e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=cfg.lr, total_steps=cfg.steps, pct_start=0.15)
    extra = [{"train_images": digest}] if digest else []  # absent otherwise: existing checkpoints keep their keys
    trainer = Trainer(modules, {"opt": opt},
                      checkpoint_path(f"recognizer-{arch}-{loss}", asdict(cfg), classes, *extra), steps=cfg.steps,
                      desc=f"{arch}/{loss}", schedulers={"sched": sched})
    device = trainer.device

    def step(i: int) -> dict[str, float]:
        gen = torch.Generator().manual_seed(seed * 1_000_003 + i)  # a batch per (seed, step): resumes replay nothing
        idx = torch.randint(0, len(images), (cfg.batch,), generator=gen)
        x, y = images[idx].to(device), labels[idx].to(device)
        flip = torch.rand(len(x), generator=gen) < 0.5
        x = torch.where(flip.view(-1, 1, 1, 1).to(device), x.flip(-1), x)
        features = trainer.modules["model"](x)
        logits = trainer.modules["head"](features, y)
        loss_value = F.cross_entropy(logits, y)
        if "centres" in trainer.modules:  # on s * unit features, the vectors the cosine head scores
            scored = trainer.modules["head"].s * F.normalize(features)
            loss_value = loss_value + CENTRE_LOSS["weight"] * trainer.modules["centres"](scored, y)
            trainer.modules["centres"].update(scored, y)
        opt_ = trainer.optimizers["opt"]
        opt_.zero_grad(set_to_none=True)
        trainer.backward(loss_value)
        opt_.step()
        return {"loss": loss_value.item(), "acc": (logits.argmax(1) == y).float().mean().item()}

    started = time.perf_counter()
    history = trainer.fit(step)
    trained = trainer.unwrapped("model").cpu()
    info = TrainingInfo(cfg, history, time.perf_counter() - started, classes, len(images), digest)
    return Recognizer(trained.backbone, trained.input_size, info).eval()


__all__ = ["CHIP_POINTS", "DlibEvaluator", "dlib_evaluator", "to_chips", "cached_embeddings", "Recognizer",
           "RecognizerConfig", "TrainingInfo", "train_recognizer", "resize_aligned"]
