"""Face recognizers: an independent, never-trained evaluator (dlib's ResNet) and trainable torch recognizers.

- ``DlibEvaluator``: dlib's 128-D face-recognition ResNet (face-recognition-models; 99.38% on LFW as
  published by dlib). It plays ArcFace / VGGFace2 of the papers: a strong recognizer nobody trains against.
  It receives our template-aligned faces and warps a whole batch at once to dlib's own 150x150 chip geometry.
- ``MarginSoftmax``: the unified margin softmax of FROM Eq. 1, cos(m1*theta + m2) - m3, giving SphereFace
  (m1), ArcFace (m2) and CosFace (m3).
- ``train_recognizer``: LResNet-IR (FROM's baseline, 112x96) or LightCNN-9 (FSG-GAN / OA-GAN's identity
  supervisor) trained on the training identities only, through ``occface.train.Trainer``.
"""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import asdict, dataclass
from functools import lru_cache
from typing import Callable, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .backbones import LightCNN9, LResNetIR, lresnet_blocks
from .paths import cache_dir
from .profiles import Profile, get_profile

# ----------------------------------------------------------------------------------------- dlib evaluator

CHIP_SIZE, CHIP_PADDING = 150, 0.25
# Where our five template points (image-left eye centre, image-right eye centre, nose tip, mouth corners;
# occface.align.five_from_68) land, on average, in dlib's 150x150 chip (``dlib.get_face_chip`` with its
# default padding 0.25 from the 5-point shape predictor). Measured by ``measure_chip_points()`` on 80 LFW
# faces (one per 60th person); per-point s.d. 1.4-2 px at the eyes, 5-7 px at nose and mouth.
CHIP_POINTS = np.array([[47.073, 46.350], [100.110, 46.286], [72.803, 75.157],
                        [48.862, 102.906], [98.718, 103.108]])


def dlib_model_path(name: str = "dlib_face_recognition_resnet_model_v1.dat") -> str:
    """A model file of face-recognition-models, located without importing it (its __init__ needs pkg_resources)."""
    import importlib.util
    from pathlib import Path

    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("face-recognition-models is not installed: `pip install face-recognition-models`")
    path = Path(list(spec.submodule_search_locations)[0]) / "models" / name
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing; reinstall face-recognition-models")
    return str(path)


def measure_chip_points(paths: Sequence[str]) -> np.ndarray:
    """Re-measure ``CHIP_POINTS``: for each image, dlib's HOG detector + 5-point predictor give the chip
    (``get_face_chip``, 150 px, padding 0.25); the 68-point predictor gives our five points, which are mapped
    into the chip. The chip-to-image map is read exactly by chipping two coordinate ramps (bilinear
    interpolation reproduces a linear ramp exactly). Returns the mean (5,2) chip position."""
    import dlib
    from PIL import Image

    from .align import five_from_68

    det = dlib.get_frontal_face_detector()
    sp5 = dlib.shape_predictor(dlib_model_path("shape_predictor_5_face_landmarks.dat"))
    sp68 = dlib.shape_predictor(dlib_model_path("shape_predictor_68_face_landmarks.dat"))
    u, v = np.meshgrid(np.arange(CHIP_SIZE, dtype=np.float64), np.arange(CHIP_SIZE, dtype=np.float64))
    out = []
    for path in paths:
        img = np.asarray(Image.open(path).convert("RGB"))
        h, w = img.shape[:2]
        found = det(img, 0)
        if not len(found):
            continue
        rect = min(found, key=lambda r: (r.center().x - w / 2) ** 2 + (r.center().y - h / 2) ** 2)
        s5, s68 = sp5(img, rect), sp68(img, rect)
        pts = five_from_68(np.array([[p.x, p.y] for p in s68.parts()]))
        rx = np.tile(np.arange(w, dtype=np.float64), (h, 1))
        ry = np.tile(np.arange(h, dtype=np.float64)[:, None], (1, w))
        cx = dlib.get_face_chip(rx, s5, CHIP_SIZE, CHIP_PADDING)
        cy = dlib.get_face_chip(ry, s5, CHIP_SIZE, CHIP_PADDING)
        design = np.c_[cx.ravel(), cy.ravel(), np.ones(cx.size)]
        image_to_chip, *_ = np.linalg.lstsq(design, np.c_[u.ravel(), v.ravel()], rcond=None)
        out.append(np.c_[pts, np.ones(5)] @ image_to_chip)
    return np.mean(out, axis=0)


def _similarity(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Least-squares similarity (Umeyama) src -> dst as a 3x3 matrix, vectorized over a leading batch axis."""
    src, dst = np.asarray(src, np.float64), np.asarray(dst, np.float64)
    single = src.ndim == 2
    if single:
        src, dst = src[None], dst[None]
    mu_s, mu_d = src.mean(1, keepdims=True), dst.mean(1, keepdims=True)
    s, d = src - mu_s, dst - mu_d
    # complex-number form of the 2-D similarity: d = a * s with a = sum(conj(s) d) / sum(|s|^2)
    zs, zd = s[..., 0] + 1j * s[..., 1], d[..., 0] + 1j * d[..., 1]
    a = (np.conj(zs) * zd).sum(1) / (np.abs(zs) ** 2).sum(1)
    m = np.zeros((len(a), 3, 3))
    m[:, 0, 0], m[:, 0, 1], m[:, 1, 0], m[:, 1, 1] = a.real, -a.imag, a.imag, a.real
    t = mu_d[:, 0] - np.einsum("nij,nj->ni", m[:, :2, :2], mu_s[:, 0])
    m[:, :2, 2], m[:, 2, 2] = t, 1.0
    return m[0] if single else m


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
    from .align import template

    n, _, h, w = images.shape
    if landmarks is None:
        src = template((h, w))[None]
    else:
        src = np.asarray(landmarks, np.float64).reshape(n, 5, 2)
    img_to_chip = _similarity(src, np.broadcast_to(CHIP_POINTS, src.shape))
    theta = _theta(np.linalg.inv(img_to_chip), (h, w), (CHIP_SIZE, CHIP_SIZE)).to(images.device)
    theta = theta.expand(n, 2, 3) if theta.shape[0] == 1 else theta
    grid = F.affine_grid(theta, (n, 3, CHIP_SIZE, CHIP_SIZE), align_corners=False)
    return F.grid_sample(images.float(), grid, mode="bilinear", padding_mode="border", align_corners=False)


class DlibEvaluator:
    """dlib's ResNet face descriptor (128-D, Euclidean threshold 0.6; 99.38% LFW accuracy published by dlib).

    Never trained here: the independent judge of every de-occluder (it stands in for the papers' ArcFace /
    VGGFace2 evaluators). ``embed`` is batched: one grid_sample to chips, one dlib call per ``batch``.
    """

    def __init__(self, batch: int = 256):
        import dlib

        self.model = dlib.face_recognition_model_v1(dlib_model_path())
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
            chips = self.chips(images[start:end], lm)
            desc = self.model.compute_face_descriptor([np.ascontiguousarray(c) for c in chips], 0)
            out[start:end] = np.asarray([np.asarray(d) for d in desc], np.float32)
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
    tmp = path.with_suffix(".tmp.npy")
    np.save(tmp, feats)
    tmp.replace(path)
    return feats


@lru_cache(maxsize=1)
def dlib_evaluator() -> DlibEvaluator:
    """One shared evaluator per process (loading the model takes ~0.5 s)."""
    return DlibEvaluator()


# ----------------------------------------------------------------------------------------- margin softmax


class MarginSoftmax(nn.Module):
    """FROM Eq. 1: logits s*(cos(m1*theta_y + m2) - m3) for the true class, s*cos(theta_j) for the others.

    (m1, m2, m3) = (m, 0, 0) SphereFace, (1, m, 0) ArcFace, (1, 0, m) CosFace. Beyond m1*theta + m2 = pi the
    target logit continues monotonically as SphereFace's psi: (-1)^k cos(phi) - 2k, k = floor(phi / pi)
    (FROM's released ``SphereMarginProduct`` uses the bare cos(m*theta), which is not monotone; we follow the
    SphereFace paper). No lambda annealing: SphereFace's m1 is used as given (FROM's code uses m = 1.5).
    """

    def __init__(self, embedding: int, classes: int, s: float = 64.0, m1: float = 1.0, m2: float = 0.0,
                 m3: float = 0.0):
        super().__init__()
        self.s, self.m1, self.m2, self.m3 = s, m1, m2, m3
        self.weight = nn.Parameter(torch.empty(classes, embedding))
        nn.init.xavier_uniform_(self.weight)

    def forward(self, features: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        cos = F.linear(F.normalize(features), F.normalize(self.weight)).clamp(-1.0, 1.0)
        target_cos = cos.gather(1, labels.view(-1, 1))
        if self.m1 != 1.0 or self.m2 != 0.0:
            # clamp keeps acos' gradient finite at |cos| = 1
            phi = self.m1 * torch.acos(target_cos.clamp(-1 + 1e-7, 1 - 1e-7)) + self.m2
            k = torch.floor(phi / math.pi).detach()
            target = (1 - 2 * torch.remainder(k, 2)) * torch.cos(phi) - 2 * k
        else:
            target = target_cos
        target = target - self.m3
        logits = cos.scatter(1, labels.view(-1, 1), target)
        return self.s * logits


# FROM trains its baseline and FROM with CosFace s=30, m=0.35 (lib/models/metrics.py CosMarginProduct).
COSFACE = dict(s=30.0, m3=0.35)
ARCFACE = dict(s=64.0, m2=0.5)
SPHEREFACE = dict(s=64.0, m1=1.5)  # FROM's released SphereMarginProduct default m=1.5 (paper: 4, with annealing)
LOSSES = {"cosface": COSFACE, "arcface": ARCFACE, "sphereface": SPHEREFACE, "softmax": dict(s=30.0)}

# ----------------------------------------------------------------------------------------- trainable recognizers


class Recognizer(nn.Module):
    """A backbone plus its input convention: resize to ``input_size``, normalize to [-1, 1]."""

    def __init__(self, backbone: nn.Module, input_size: tuple[int, int]):
        super().__init__()
        self.backbone, self.input_size = backbone, tuple(input_size)

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
    from .align import template

    n, _, h, w = images.shape
    m = _similarity(template(size), template((h, w)))  # output pixel -> input pixel
    theta = _theta(m, (h, w), tuple(size))[None].expand(n, 2, 3).to(images.device)
    grid = F.affine_grid(theta, (n, images.shape[1], *size), align_corners=False)
    return F.grid_sample(images, grid, mode="bilinear", padding_mode="border", align_corners=False)


@dataclass(frozen=True)
class RecognizerConfig:
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
    min_per_identity: int
    seed: int
    revision: int = 2       # bump when the architecture changes: old checkpoints then never load

    @classmethod
    def for_profile(cls, arch: str, profile: str | Profile, seed: int = 0, loss: str = "cosface") -> "RecognizerConfig":
        p = get_profile(profile)
        if arch not in ("lresnet", "lightcnn"):
            raise ValueError(f"arch must be 'lresnet' or 'lightcnn', got {arch!r}")
        if loss not in LOSSES:
            raise ValueError(f"loss must be one of {sorted(LOSSES)}, got {loss!r}")
        return cls(arch=arch, loss=loss, input_size=tuple(p.recog_size), width=p.width,
                   blocks=lresnet_blocks(p.name) if arch == "lresnet" else (),
                   embedding=512 if p.name == "full" else 128 if arch == "lresnet" else 128,
                   steps=p.steps, batch=p.batch, lr=0.1 if arch == "lresnet" else 2e-3, max_train_images=p.max_train_images,
                   min_per_identity=2, seed=seed)

    def build(self) -> Recognizer:
        if self.arch == "lresnet":
            net = LResNetIR(self.input_size, self.width, self.blocks, self.embedding)
        else:
            net = LightCNN9(self.input_size, max(4, self.width * 48 // 64), self.embedding)
        return Recognizer(net, self.input_size)


def train_recognizer(arch: str, profile: str | Profile, seed: int = 0, loss: str = "cosface",
                     verbose: bool = True) -> Recognizer:
    """Train (or reuse from the checkpoint cache) a recognizer on LFW's training identities only.

    People with a single image are dropped (``min_per_identity=2``): a class seen once teaches the margin
    nothing transferable. LResNet: SGD momentum 0.9, weight decay 5e-4, one-cycle LR (peak 0.1); LightCNN: AdamW
    (peak 2e-3); horizontal flips.
    The margin head (FROM Eq. 1) is trained with the backbone and discarded; ``embed`` gives features.
    """
    from .data import load_faces
    from .runtime import seed_everything
    from .train import Trainer, checkpoint_path

    cfg = RecognizerConfig.for_profile(arch, profile, seed, loss)
    gen = seed_everything(seed)
    faces = load_faces("lfw", size=cfg.input_size, split="train", max_images=cfg.max_train_images, seed=seed,
                       min_per_identity=cfg.min_per_identity)
    classes = len(faces.names)
    model = cfg.build()
    head = MarginSoftmax(cfg.embedding, classes, **LOSSES[cfg.loss])
    params = list(model.parameters()) + list(head.parameters())
    if arch == "lresnet":
        opt = torch.optim.SGD(params, lr=cfg.lr, momentum=0.9, weight_decay=5e-4, nesterov=True)
    else:  # LightCNN has no BatchNorm: plain SGD at 0.1 kills the MFM units within a few steps; Adam trains it
        opt = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=5e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=cfg.lr, total_steps=cfg.steps, pct_start=0.15)
    trainer = Trainer({"model": model, "head": head}, {"opt": opt},
                      checkpoint_path(f"recognizer-{arch}-{loss}", asdict(cfg), classes), steps=cfg.steps,
                      desc=f"{arch}/{loss}", schedulers={"sched": sched})
    images, labels = faces.images, faces.identity
    device = trainer.device

    def step(i: int) -> dict[str, float]:
        idx = torch.randint(0, len(images), (cfg.batch,), generator=gen)
        x, y = images[idx].to(device), labels[idx].to(device)
        flip = torch.rand(len(x), generator=gen) < 0.5
        x = torch.where(flip.view(-1, 1, 1, 1).to(device), x.flip(-1), x)
        logits = trainer.modules["head"](trainer.modules["model"](x), y)
        loss_value = F.cross_entropy(logits, y)
        opt_ = trainer.optimizers["opt"]
        opt_.zero_grad(set_to_none=True)
        trainer.backward(loss_value)
        opt_.step()
        return {"loss": loss_value.item(), "acc": (logits.argmax(1) == y).float().mean().item()}

    started = time.perf_counter()
    history = trainer.fit(step)
    model = trainer.unwrapped("model").cpu().eval()
    model.history, model.config = history, cfg
    model.train_seconds = time.perf_counter() - started
    model.classes, model.train_images = classes, len(images)
    return model


__all__ = ["CHIP_POINTS", "DlibEvaluator", "dlib_evaluator", "to_chips", "measure_chip_points", "cached_embeddings",
           "MarginSoftmax", "COSFACE", "ARCFACE", "SPHEREFACE", "LOSSES", "Recognizer", "RecognizerConfig",
           "train_recognizer", "resize_aligned", "dlib_model_path"]
