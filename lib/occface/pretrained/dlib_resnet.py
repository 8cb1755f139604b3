"""dlib's face-recognition ResNet (``dlib_face_recognition_resnet_model_v1.dat``, 128-D) ported exactly to torch.

``read_dlib_dat`` reads dlib's serialization format in pure Python/numpy; ``DlibResNet`` rebuilds the network
of dlib's examples/dnn_face_recognition_ex.cpp (``anet_type``); ``load_dlib_resnet`` converts once and caches
the state dict under ``<cache>/pretrained`` (never in git). dlib itself stays the reference: ``compare_with_dlib``.

dlib conventions kept on purpose: a strided conv or pool has padding 0 (``con_``/``max_pool_`` default to
``kernel//2`` only at stride 1), so 8x8 -> 3x3 (conv) meets 8x8 -> 4x4 (avg-pooled skip); ``add_prev`` then
zero-pads the smaller tensor at the bottom/right (and in channels: the skip has no projection).
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..faces.align import model_path
from ..paths import cache_dir
from .cache import load_or_convert
from ..runtime import get_device

DAT_NAME = "dlib_face_recognition_resnet_model_v1.dat"
THRESHOLD = 0.6  # dlib's same/different Euclidean threshold for these descriptors
# (channels, blocks, first block downsamples) for alevel4 ... alevel0 of dlib's anet_type
STAGES = ((32, 3, False), (64, 4, True), (128, 3, True), (256, 3, True), (256, 1, True))
_TAG = re.compile(rb"[a-z][a-z0-9_]{2,40}")

# ------------------------------------------------------------------------------------------------ reader


class _Stream:
    """Cursor over the bytes of a dlib-serialized file (serialize.h)."""

    def __init__(self, data: bytes):
        self.data, self.pos = data, 0

    def int(self) -> int:
        """pack_int: control byte (bit 7 sign, low 4 bits byte count), then little-endian bytes."""
        ctrl = self.data[self.pos]
        size = ctrl & 0x0F
        if size == 0 or size > 8 or ctrl & 0x70:
            raise ValueError(f"bad integer control byte {ctrl:#x} at offset {self.pos}")
        value = int.from_bytes(self.data[self.pos + 1:self.pos + 1 + size], "little")
        self.pos += 1 + size
        return -value if ctrl & 0x80 else value

    def float(self) -> float:
        """float_details: int64 mantissa then int16 exponent (value = mantissa * 2**exponent)."""
        mantissa, exponent = self.int(), self.int()
        special = {32000: np.inf, 32001: -np.inf, 32002: np.nan}
        return float(special[exponent]) if exponent in special else float(np.ldexp(float(mantissa), exponent))

    def floats(self, n: int) -> list[float]:
        return [self.float() for _ in range(n)]

    def bool(self) -> bool:
        ch = self.data[self.pos:self.pos + 1]
        if ch not in (b"0", b"1"):
            raise ValueError(f"bad bool {ch!r} at offset {self.pos}")
        self.pos += 1
        return ch == b"1"

    def peek_tag(self) -> str | None:
        """The layer version string starting here (length-prefixed identifier), or None."""
        if self.pos + 1 >= len(self.data) or self.data[self.pos] != 0x01:  # string lengths here fit one byte
            return None
        size = self.data[self.pos + 1]
        text = self.data[self.pos + 2:self.pos + 2 + size]
        return text.decode() if len(text) == size and _TAG.fullmatch(text) else None

    def tag(self) -> str:
        tag = self.peek_tag()
        if tag is None:
            raise ValueError(f"expected a layer version string at offset {self.pos}")
        self.pos += 2 + len(tag)
        return tag

    def tensor(self) -> np.ndarray:
        """resizable_tensor version 2: n, k, nr, nc, then raw little-endian float32 (cuda/tensor.h)."""
        if (version := self.int()) != 2:
            raise ValueError(f"tensor version {version} at offset {self.pos} is not supported (only 2)")
        shape = tuple(self.int() for _ in range(4))
        count = int(np.prod(shape))
        out = np.frombuffer(self.data, "<f4", count, self.pos).reshape(shape).astype(np.float32)
        self.pos += 4 * count
        return out

    def alias(self) -> tuple[int, ...]:
        """alias_tensor version 1: just a shape (n, k, nr, nc) into the layer's flat ``params``."""
        if (version := self.int()) != 1:
            raise ValueError(f"alias_tensor version {version} at offset {self.pos}")
        return tuple(self.int() for _ in range(4))

    def skip_tail(self) -> None:
        """add_layer's fields after a layer (bools, cached tensors, sample_expansion_factor) up to the next tag."""
        while self.pos < len(self.data) and self.peek_tag() is None:
            if self.data[self.pos:self.pos + 1] in (b"0", b"1"):
                self.bool()
            else:
                start = self.pos
                if self.int() == 2:  # a tensor's version; the only bare int is sample_expansion_factor (1)
                    self.pos = start
                    self.tensor()


def _split(flat: np.ndarray, *shapes: tuple[int, ...]) -> list[np.ndarray]:
    """Consecutive views of a layer's flat params (dlib's alias_tensor offsets: in order, no gaps)."""
    out, start, flat = [], 0, flat.ravel()
    for shape in shapes:
        size = int(np.prod(shape))
        out.append(flat[start:start + size].reshape(shape))
        start += size
    if start != flat.size:
        raise ValueError(f"params hold {flat.size} values, the aliases use {start}")
    return out


def _read_layer(s: _Stream, tag: str) -> dict:
    """The details of one layer (layers.h / input.h / loss.h ``deserialize``) for the versions in the file."""
    if tag == "loss_metric_2":
        return {"margin": s.float(), "dist_thresh": s.float()}
    if tag == "input_rgb_image_sized":
        return {"mean": s.floats(3), "size": (s.int(), s.int())}
    if tag == "con_4":
        flat, (nf, nr, nc, sy, sx, py, px) = s.tensor(), [s.int() for _ in range(7)]
        weight, bias = _split(flat, s.alias(), s.alias())
        s.floats(4)  # learning-rate / weight-decay multipliers: training only
        return {"weight": weight.reshape(nf, -1, nr, nc), "bias": bias.ravel(), "stride": (sy, sx),
                "padding": (py, px)}
    if tag == "affine_":
        flat = s.tensor()
        gamma, beta = _split(flat, s.alias(), s.alias())
        return {"gamma": gamma.ravel(), "beta": beta.ravel(), "mode": s.int()}
    if tag in ("max_pool_2", "avg_pool_2"):
        nr, nc, sy, sx, py, px = (s.int() for _ in range(6))
        return {"kernel": (nr, nc), "stride": (sy, sx), "padding": (py, px)}
    if tag == "fc_2":
        n_out, n_in, flat = s.int(), s.int(), s.tensor()
        weight, bias = _split(flat, s.alias(), s.alias())
        mode = s.int()
        s.floats(4)
        return {"weight": weight.reshape(n_in, n_out).T.copy(), "bias": bias.ravel(), "bias_mode": mode}
    if tag in ("relu_", "add_prev_"):
        return {}
    raise ValueError(f"unsupported dlib layer version {tag!r} at offset {s.pos}")


def read_dlib_dat(path: str | Path) -> list[tuple[str, dict]]:
    """(tag, params) of every layer of a dlib DNN file: the loss first, then input -> output.

    Nesting follows dlib's ``serialize``: the loss layer, the version ints of all nested add_layer /
    tag / skip wrappers, then each layer's details followed by its add_layer tail."""
    s = _Stream(Path(path).read_bytes())
    s.int()  # add_loss_layer version
    layers = [(tag := s.tag(), _read_layer(s, tag))]
    while s.peek_tag() is None:  # wrapper versions, outermost first
        s.int()
    while s.pos < len(s.data):
        tag = s.tag()
        layers.append((tag, _read_layer(s, tag)))
        s.skip_tail()
    return layers


# ------------------------------------------------------------------------------------------------ network


class Affine(nn.Module):
    """dlib's ``affine`` (a frozen batch norm): gamma * x + beta per channel."""

    def __init__(self, channels: int):
        super().__init__()
        self.gamma, self.beta = nn.Parameter(torch.ones(channels)), nn.Parameter(torch.zeros(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.gamma[:, None, None] + self.beta[:, None, None]


def _add_prev(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """dlib's add_prev: the sum over the larger shape, each input zero-padded at the end of C, H and W."""
    if a.shape == b.shape:
        return a + b
    c, h, w = (max(x, y) for x, y in zip(a.shape[1:], b.shape[1:]))
    pad = lambda t: F.pad(t, (0, w - t.shape[3], 0, h - t.shape[2], 0, c - t.shape[1]))  # noqa: E731
    return pad(a) + pad(b)


class Block(nn.Module):
    """relu(add_prev(affine(con(relu(affine(con(x))))), skip)); a down block has stride 2 (padding 0, as
    dlib) in its first conv and a 2x2/2 average pool, without projection, on the skip."""

    def __init__(self, cin: int, cout: int, down: bool):
        super().__init__()
        self.down = down
        self.conv1 = nn.Conv2d(cin, cout, 3, 2 if down else 1, 0 if down else 1)
        self.aff1 = Affine(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1)
        self.aff2 = Affine(cout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.aff2(self.conv2(F.relu(self.aff1(self.conv1(x)))))
        return F.relu(_add_prev(y, F.avg_pool2d(x, 2, 2) if self.down else x))


class DlibResNet(nn.Module):
    """dlib's ``anet_type``: forward maps (N,3,150,150) float RGB in [0, 255] (not normalised: the per-channel
    means of the file are subtracted and the result divided by 256 here, as ``input_rgb_image_sized``) to
    the raw (N,128) descriptors dlib returns (not L2-normalised). Differentiable w.r.t. the chips; the
    weights are frozen by ``load_dlib_resnet``."""

    def __init__(self, channels_last: bool = False):
        super().__init__()
        self.channels_last = channels_last
        self.register_buffer("mean", torch.tensor([122.782, 117.001, 104.298]))
        self.stem = nn.Sequential(nn.Conv2d(3, 32, 7, 2, 0), Affine(32), nn.ReLU(), nn.MaxPool2d(3, 2))
        blocks, cin = [], 32
        for cout, n, down in STAGES:
            blocks += [Block(cin if i == 0 else cout, cout, down and i == 0) for i in range(n)]
            cin = cout
        self.blocks = nn.Sequential(*blocks)
        self.fc = nn.Linear(256, 128, bias=False)

    def forward(self, chips: torch.Tensor) -> torch.Tensor:
        if chips.shape[1:] != (3, 150, 150):  # other sizes run but are not what dlib computes
            raise ValueError(f"expected (N,3,150,150) RGB chips, got {tuple(chips.shape)}")
        x = (chips - self.mean[:, None, None]) / 256.0
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        return self.fc(self.blocks(self.stem(x)).mean((2, 3)))

    @torch.no_grad()
    def embed_uint8(self, chips: np.ndarray | torch.Tensor, batch: int = 64) -> np.ndarray:
        """(N,128) float32 descriptors of (N,150,150,3) uint8 RGB chips (``DlibEvaluator.chips``), in batches."""
        chips = torch.as_tensor(chips)
        device = self.mean.device
        out = [self(chips[i:i + batch].to(device).permute(0, 3, 1, 2).float()).cpu()
               for i in range(0, len(chips), batch)]
        return torch.cat(out).numpy() if out else np.zeros((0, 128), np.float32)


# ------------------------------------------------------------------------------------------------ conversion


def _expected_tags() -> list[str]:
    """The layer versions of anet_type in file order (loss, input, then input -> output)."""
    tags = ["loss_metric_2", "input_rgb_image_sized", "con_4", "affine_", "relu_", "max_pool_2"]
    for _, n, down in STAGES:
        for i in range(n):
            tags += ["con_4", "affine_", "relu_", "con_4", "affine_"] + ["avg_pool_2"] * (down and i == 0)
            tags += ["add_prev_", "relu_"]
    return tags + ["avg_pool_2", "fc_2"]


def convert_dlib_dat(path: str | Path | None = None) -> dict[str, torch.Tensor]:
    """``DlibResNet``'s state dict from a dlib .dat, checked layer by layer (order, shapes, strides, padding)."""
    path = path or model_path(DAT_NAME)
    layers, want = read_dlib_dat(path), _expected_tags()
    tags = [tag for tag, _ in layers]
    if tags != want:
        bad = next((i for i, (a, b) in enumerate(zip(tags, want)) if a != b), min(len(tags), len(want)))
        raise ValueError(f"{path}: layer {bad} is {tags[bad:bad + 1]}, not the anet_type of dlib's example")
    net = DlibResNet()
    params = {tag: [p for t, p in layers if t == tag] for tag in ("con_4", "affine_", "fc_2")}
    state = {"mean": torch.tensor(layers[1][1]["mean"], dtype=torch.float32)}
    convs = [(n, m) for n, m in net.named_modules() if isinstance(m, nn.Conv2d)]
    for (name, conv), p in zip(convs, params["con_4"], strict=True):
        if (conv.stride, conv.padding) != (p["stride"], p["padding"]):
            raise ValueError(f"{name}: file has stride {p['stride']} padding {p['padding']}")
        state[f"{name}.weight"], state[f"{name}.bias"] = torch.from_numpy(p["weight"]), torch.from_numpy(p["bias"])
    affines = [n for n, m in net.named_modules() if isinstance(m, Affine)]
    for name, p in zip(affines, params["affine_"], strict=True):
        state[f"{name}.gamma"], state[f"{name}.beta"] = torch.from_numpy(p["gamma"]), torch.from_numpy(p["beta"])
    fc = params["fc_2"][0]
    if fc["bias"].size or layers[-2][1]["kernel"] != (0, 0):  # fc_no_bias after avg_pool_everything
        raise ValueError(f"{path}: expected a global average pool and an fc layer without bias")
    state["fc.weight"] = torch.from_numpy(fc["weight"])
    net.load_state_dict(state)  # strict: every tensor present with the right shape
    return {k: v.clone() for k, v in net.state_dict().items()}


def _cache_file(dat: str | Path | None = None) -> Path:
    """The converted state dict, keyed by the .dat contents (a new model file converts anew)."""
    digest = hashlib.sha256(Path(dat or model_path(DAT_NAME)).read_bytes()).hexdigest()[:12]
    return cache_dir("pretrained") / f"dlib_resnet_v1-{digest}.pt"


def load_dlib_resnet(device: str | torch.device | None = None, channels_last: bool = False) -> DlibResNet:
    """dlib's ResNet in torch, in eval mode with frozen weights (converted from the .dat once, then cached)."""
    dat = model_path(DAT_NAME)
    net = DlibResNet(channels_last)
    load_or_convert(net, _cache_file(dat), lambda: convert_dlib_dat(dat), "dlib ResNet")
    net = net.to(torch.device(device) if device else get_device()).eval().requires_grad_(False)
    return net.to(memory_format=torch.channels_last) if channels_last else net


def compare_with_dlib(chips: np.ndarray, model: DlibResNet | None = None) -> dict:
    """Torch vs dlib descriptors of (N,150,150,3) uint8 chips: the largest per-dimension difference and the
    agreement of same/different decisions (distance < 0.6) over all N(N-1)/2 pairs of the chips."""
    import dlib

    chips = np.ascontiguousarray(chips)
    ours = (model or load_dlib_resnet("cpu")).embed_uint8(chips)
    desc = dlib.face_recognition_model_v1(model_path(DAT_NAME)).compute_face_descriptor(list(chips), 0)
    ref = np.asarray([np.asarray(d) for d in desc], np.float32)
    i, j = np.triu_indices(len(chips), 1)
    d_ours = np.linalg.norm(ours[i] - ours[j], axis=1)
    d_ref = np.linalg.norm(ref[i] - ref[j], axis=1)
    agree = (d_ours < THRESHOLD) == (d_ref < THRESHOLD)
    return dict(max_abs_diff=float(np.abs(ours - ref).max()), decisions_agree=float(agree.mean() if len(i) else 1),
                n=len(chips), n_pairs=len(i), n_disagree=int((~agree).sum()),
                max_dist_diff=float(np.abs(d_ours - d_ref).max() if len(i) else 0))
