"""Face parsing from 68 landmarks, and the small frozen parser that ID-GAN's structure loss (Eq. 3) and GFC's
semantic parsing loss use.

1. :func:`landmarks68`: dlib's 68-point shape predictor run on the *aligned* faces inside one fixed rectangle
   derived from the five-point template (no detector, so ~4 ms a face), cached under ``<cache>/landmarks68``
   keyed by size and image set.
2. :func:`parsing_labels`: landmark polygons filled (vectorised even-odd rule) into ten classes. GFC's parser
   (Li et al. CVPR 2017, ``Model_parsing.prototxt``) has 11, Helen's labels; its *hair* class has no landmarks,
   so we merge it into background.
3. :class:`FaceParser`: a tiny U-Net trained on those labels through :class:`~occface.train.Trainer`, then
   frozen (:func:`frozen_parser`); :func:`parser_accuracy` and :func:`parsing_figure` check it on held-out faces.
"""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .blocks import conv_norm_act
from ..paths import cache_dir
from ..profiles import Profile, ProfileConfig
from ..faces.align import model_path, template

CLASSES = ("background", "skin", "left_brow", "right_brow", "left_eye", "right_eye", "nose", "upper_lip",
           "lower_lip", "inner_mouth")  # "left" = the image's left, as occface.faces.align
PREDICTOR_SIZE = 128  # dlib's predictor sees faces upsampled to at least this side (its training faces are large)
CACHE_VERSION = "lm68-v1"
PARSER_VERSION = "parser-v3"  # bump when the parser or its training changes (checkpoint key)

# iBUG 68-point indices (0-based); polygons are drawn in this order, later ones over earlier ones
_JAW, _BROW_L, _BROW_R = list(range(17)), list(range(17, 22)), list(range(22, 27))
_NOSE = [27, 31, 32, 33, 34, 35]
_EYE_L, _EYE_R = list(range(36, 42)), list(range(42, 48))
_UPPER_LIP = [48, 49, 50, 51, 52, 53, 54, 64, 63, 62, 61, 60]
_LOWER_LIP = [54, 55, 56, 57, 58, 59, 48, 60, 67, 66, 65, 64]
_INNER_MOUTH = list(range(60, 68))


# ## 1. 68 landmarks of aligned faces
def predictor_box(size: int) -> tuple[int, int, int, int]:
    """(left, top, right, bottom) of the fixed rectangle: a square of side 2.25 x the template's inter-ocular
    distance centred on (eye midpoint x, nose-tip y), the median HOG detection on aligned LFW faces."""
    t = template(size)
    half = 1.125 * np.linalg.norm(t[1] - t[0])
    cx, cy = (t[0, 0] + t[1, 0]) / 2, t[2, 1]
    return tuple(int(round(v)) for v in (cx - half, cy - half, cx + half, cy + half))


def predict_landmarks68(images: torch.Tensor) -> torch.Tensor:
    """(N,3,S,S) aligned faces in [0,1] -> (N,68,2) float32 (x, y) in pixels of the input (uncached)."""
    import dlib

    size = images.shape[-1]
    side = max(size, PREDICTOR_SIZE)
    big = F.interpolate(images.float(), size=side, mode="bilinear", align_corners=False) if side != size else images
    arrays = (big.clamp(0, 1) * 255).round().to(torch.uint8).permute(0, 2, 3, 1).numpy()
    predictor = dlib.shape_predictor(model_path("shape_predictor_68_face_landmarks.dat"))
    rect = dlib.rectangle(*predictor_box(side))
    pts = np.array([[(p.x, p.y) for p in predictor(np.ascontiguousarray(a), rect).parts()] for a in arrays],
                   dtype=np.float32).reshape(len(arrays), 68, 2)
    return torch.from_numpy((pts + 0.5) * size / side - 0.5)  # pixel centres of the upsampled image -> input's


def landmarks68(images: torch.Tensor, paths: list[str]) -> torch.Tensor:
    """:func:`predict_landmarks68`, cached per (size, image set): the key hashes the images' paths and side."""
    size = images.shape[-1]
    key = hashlib.sha256("\n".join([CACHE_VERSION, str(size), *paths]).encode()).hexdigest()[:16]
    path = cache_dir("landmarks68") / f"{size}x{size}_{len(paths)}_{key}.npy"
    if path.exists():
        return torch.from_numpy(np.load(path))
    points = predict_landmarks68(images)
    tmp = path.with_suffix(".tmp.npy")
    np.save(tmp, points.numpy())
    tmp.replace(path)  # atomic: a killed run leaves no half-written cache
    return points


# ## 2. Polygon labels
def fill_polygons(polygons: torch.Tensor, size: int) -> torch.Tensor:
    """(N,P,2) closed polygons (x, y pixel coordinates) -> (N,S,S) bool: pixel centres inside (even-odd rule),
    one crossing test per edge for the whole batch."""
    ys, xs = torch.meshgrid(torch.arange(size, dtype=torch.float32), torch.arange(size, dtype=torch.float32),
                            indexing="ij")
    px, py = xs.reshape(1, -1), ys.reshape(1, -1)
    inside = torch.zeros(len(polygons), size * size, dtype=torch.bool)
    a, b = polygons, polygons.roll(-1, dims=1)
    for k in range(polygons.shape[1]):
        (ax, ay), (bx, by) = a[:, k, :, None].unbind(1), b[:, k, :, None].unbind(1)
        straddles = (ay > py) != (by > py)
        x_cross = ax + (py - ay) * (bx - ax) / torch.where(by == ay, torch.ones_like(by), by - ay)
        inside ^= straddles & (px < x_cross)
    return inside.view(-1, size, size)


def _brow(points: torch.Tensor, thickness: torch.Tensor) -> torch.Tensor:
    """dlib's five brow points trace the brow's upper edge: close them with a copy shifted down."""
    lower = points.flip(1) + torch.stack([torch.zeros_like(thickness), thickness], 1)[:, None]
    return torch.cat([points, lower], 1)


def class_polygons(lm: torch.Tensor) -> list[tuple[int, torch.Tensor]]:
    """(class index, (N,P,2) polygon) per part, in drawing order. Skin = jaw line closed over the brows raised
    by half the brow-to-nose-tip height (forehead up to the hairline, roughly); brows 0.15 IOD thick."""
    iod = (lm[:, 42:48].mean(1) - lm[:, 36:42].mean(1)).norm(dim=1)
    lift = 0.5 * (lm[:, 30, 1] - lm[:, 17:27, 1].mean(1))
    brows_up = lm[:, list(reversed(_BROW_L + _BROW_R))] - torch.stack([torch.zeros_like(lift), lift], 1)[:, None]
    skin = torch.cat([lm[:, _JAW], brows_up], 1)
    index = {name: k for k, name in enumerate(CLASSES)}
    return [(index["skin"], skin), (index["nose"], lm[:, _NOSE]),
            (index["left_brow"], _brow(lm[:, _BROW_L], 0.15 * iod)),
            (index["right_brow"], _brow(lm[:, _BROW_R], 0.15 * iod)),
            (index["left_eye"], lm[:, _EYE_L]), (index["right_eye"], lm[:, _EYE_R]),
            (index["upper_lip"], lm[:, _UPPER_LIP]), (index["lower_lip"], lm[:, _LOWER_LIP]),
            (index["inner_mouth"], lm[:, _INNER_MOUTH])]


def parsing_labels(lm: torch.Tensor, size: int) -> torch.Tensor:
    """(N,68,2) landmarks -> (N,S,S) int64 labels in ``range(len(CLASSES))`` (0 = background)."""
    labels = torch.zeros(len(lm), size, size, dtype=torch.int64)
    for cls, poly in class_polygons(lm.float()):
        labels[fill_polygons(poly, size)] = cls
    return labels


def palette() -> torch.Tensor:
    """(classes, 3) RGB: matplotlib's tab10, one colour per class, background black."""
    import matplotlib

    colours = torch.tensor(matplotlib.colormaps["tab10"].colors, dtype=torch.float32)[: len(CLASSES)]
    colours[0] = 0.0
    return colours


def colorize(labels: torch.Tensor) -> torch.Tensor:
    """(N,S,S) labels -> (N,3,S,S) RGB in [0,1], coloured by :func:`palette`."""
    return palette()[labels].permute(0, 3, 1, 2)


# ## 3. The parser
class FaceParser(nn.Module):
    """A two-level U-Net: (N,3,S,S) faces in [0,1] -> (N,len(CLASSES),S,S) logits. GFC's parser is a deeper
    SegNet-like network on 128x128 Helen faces; ours only has to be consistent on aligned faces."""

    def __init__(self, width: int = 16, classes: int = len(CLASSES)):
        super().__init__()
        w = width
        self.enc1 = nn.Sequential(conv_norm_act(3, w), conv_norm_act(w, w))
        self.enc2 = nn.Sequential(conv_norm_act(w, 2 * w, stride=2), conv_norm_act(2 * w, 2 * w))
        self.mid = nn.Sequential(conv_norm_act(2 * w, 4 * w, stride=2), conv_norm_act(4 * w, 4 * w, dilation=2))
        self.up2 = conv_norm_act(4 * w, 2 * w, 4, stride=2, transpose=True)
        self.dec2 = conv_norm_act(4 * w, 2 * w)
        self.up1 = conv_norm_act(2 * w, w, 4, stride=2, transpose=True)
        self.dec1 = conv_norm_act(2 * w, w)
        self.head = nn.Conv2d(w, classes, 1)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        e1 = self.enc1(images * 2 - 1)
        e2 = self.enc2(e1)
        d2 = self.dec2(torch.cat([self.up2(self.mid(e2)), e2], 1))
        return self.head(self.dec1(torch.cat([self.up1(d2), e1], 1)))


@dataclass
class ParserConfig(ProfileConfig):
    """Training of the parser on LFW training identities' landmark-polygon labels."""
    profile: str
    image_size: int
    width: int
    steps: int
    batch: int
    lr: float
    max_train_images: int
    heldout_images: int = 200  # LFW test-split faces for parser_accuracy
    seed: int = 0

    SHARED = {"profile": "name", "image_size": "image_size"}
    PER_PROFILE = {
        "quick": dict(width=8, steps=200, batch=16, lr=5e-3, max_train_images=1000),
        "default": dict(width=16, steps=600, batch=32, lr=2e-3, max_train_images=4000),
        "full": dict(width=32, steps=6000, batch=32, lr=1e-3, max_train_images=0),
    }


@dataclass
class TrainedParser:
    model: FaceParser
    history: dict
    checkpoint: str


def labelled_faces(cfg: ParserConfig, split: str = "train") -> tuple[torch.Tensor, torch.Tensor]:
    """(faces, labels) of LFW ``split`` at the config's size: "train" for training, "test" held out."""
    from ..faces.data import load_faces

    cap = cfg.max_train_images if split == "train" else cfg.heldout_images
    faces = load_faces("lfw", size=cfg.image_size, split=split, max_images=cap, seed=cfg.seed)
    return faces.images, parsing_labels(landmarks68(faces.images, faces.paths), cfg.image_size)


def class_weights(labels: torch.Tensor) -> torch.Tensor:
    """Square root of median-frequency balancing (SegNet's, Badrinarayanan et al. 2017): eyes and lips cover <1%
    of a face and are never predicted unweighted; the full weights over-predict them (skin recall 0.75)."""
    freq = torch.bincount(labels.flatten(), minlength=len(CLASSES)).float().clamp_min(1) / labels.numel()
    return (freq.median() / freq).sqrt()


def parser_step(parser: FaceParser, opt: torch.optim.Optimizer, images: torch.Tensor, labels: torch.Tensor,
                weights: torch.Tensor | None = None, backward=None) -> float:
    """One pixel-wise (weighted) cross-entropy step; ``backward`` is the Trainer's (``loss.backward`` if None)."""
    loss = F.cross_entropy(parser(images), labels, weight=weights)
    opt.zero_grad(set_to_none=True)
    (backward or torch.Tensor.backward)(loss)
    opt.step()
    return loss.item()


def train_parser(cfg: ParserConfig) -> TrainedParser:
    """Adam on the pixel-wise cross-entropy, batches drawn per (seed, step); checkpointed and resumable."""
    from ..faces.pairs import step_generator
    from ..runtime import seed_everything
    from ..train import Trainer, checkpoint_path

    seed_everything(cfg.seed)
    images, labels = labelled_faces(cfg, "train")
    weights = class_weights(labels)
    model = FaceParser(cfg.width)
    path = checkpoint_path("face-parser", dataclasses.asdict(cfg), PARSER_VERSION)
    trainer = Trainer({"parser": model}, {"opt": torch.optim.Adam(model.parameters(), lr=cfg.lr)}, path,
                      steps=cfg.steps, desc="face parser")

    def step(i: int) -> dict[str, float]:
        idx = torch.randint(len(images), (cfg.batch,), generator=step_generator(cfg.seed, i))
        x, y = images[idx].to(trainer.device), labels[idx].to(trainer.device)
        return {"ce": parser_step(trainer.modules["parser"], trainer.optimizers["opt"], x, y,
                                 weights.to(trainer.device), trainer.backward)}

    history = trainer.fit(step)
    return TrainedParser(model.cpu().eval(), history, path.name)


def frozen_parser(profile: str | Profile, seed: int = 0) -> FaceParser:
    """The trained parser of ``profile``, in eval mode with no trainable parameters."""
    model = train_parser(ParserConfig.for_profile(profile, seed=seed)).model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    return model


@torch.no_grad()
def parse(parser: nn.Module, images: torch.Tensor, batch: int = 256) -> torch.Tensor:
    """(N,3,S,S) -> (N,S,S) argmax labels."""
    return torch.cat([parser(chunk).argmax(1) for chunk in images.split(batch)])


def parser_accuracy(parser: nn.Module, images: torch.Tensor, labels: torch.Tensor) -> dict[str, float]:
    """Pixel accuracy against the polygon labels, overall and per class (recall of each class's pixels)."""
    pred = parse(parser, images)
    out = {"pixel_accuracy": (pred == labels).float().mean().item()}
    for k, name in enumerate(CLASSES):
        sel = labels == k
        out[name] = (pred[sel] == k).float().mean().item() if sel.any() else float("nan")
    return out


def parsing_figure(parser: nn.Module, images: torch.Tensor, labels: torch.Tensor, n: int = 6):
    """Held-out faces, their landmark-polygon labels and the parser's parsing (a matplotlib figure)."""
    from ..plots import image_grid

    from matplotlib.patches import Patch

    images, labels = images[:n], labels[:n]
    fig = image_grid({"face": images, "landmark polygons": colorize(labels),
                      "parser": colorize(parse(parser, images))},
                     title="Face parser on held-out faces: its labels (landmark polygons) and its output")
    key = [Patch(facecolor=c.tolist(), edgecolor="0.5", label=name.replace("_", " "))
           for name, c in zip(CLASSES, palette())]
    fig.legend(handles=key, loc="lower center", ncol=5, fontsize=6, frameon=False, bbox_to_anchor=(0.5, -0.08))
    return fig
