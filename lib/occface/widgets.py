"""ipywidgets for occlusions on real faces and for what every de-occlusion method makes of them.

- :func:`explorer`: one face, an occluder, its mask and FROM's K x K proximate pattern drawn over the face.
- :func:`compare`: the model-in-the-loop widget: one occluder (kind, size, placement, offset, rotation) on one
  held-out face, every registered method's restoration side by side, with its predicted mask where it has
  one, PSNR / SSIM against the clean face and the dlib evaluator's distance to another photo of the person.

The callback logic is plain torch (:func:`render`, :class:`Comparison`, :func:`compare_html`) and unit-tested
without a browser; the widget functions only wire controls to it.
"""

from __future__ import annotations

import base64
import io
import math
import time
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np
import torch
import torch.nn.functional as F

from .faces.occlusion import GEOMETRIC, KINDS, PLACEMENTS, occlude, pattern_labels, proximate_patterns
from .faces.patterns import grid_edges


# ------------------------------------------------------------------------------- input checks
MAX_UPSCALE, MAX_SIDE = 32, 4096  # a drawn overlay is at most MAX_SIDE pixels on a side
MAX_PX = 1024                     # largest card image in the comparison's HTML


def _int_in(value, name: str, low: int, high: int, why: str = "") -> int:
    """``value`` as an int in [low, high], or a ValueError naming the parameter, the range and why."""
    whole = not isinstance(value, bool) and isinstance(value, (int, np.integer))
    if not whole or not low <= value <= high:
        raise ValueError(f"{name} must be an integer from {low} to {high}{why}, got {value!r}"
                         + (" (out of range)" if whole else ""))
    return int(value)


def _finite(value, name: str, what: str) -> float:
    """``value`` as a finite float, or a ValueError naming the parameter: a NaN or infinite angle or offset
    would move the occluder out of the picture and report an empty mask."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number ({what}), got {value!r}")
    return float(value)


def _offset(offset) -> tuple[float, float]:
    if not isinstance(offset, (tuple, list)) or len(offset) != 2:
        raise ValueError(f"offset must be (dx, dy), fractions of the image width and height, got {offset!r}")
    dx, dy = (_finite(v, f"offset[{i}]", "a fraction of the image size, -1 to 1") for i, v in enumerate(offset))
    if abs(dx) > 1 or abs(dy) > 1:
        raise ValueError(f"offset must lie within [-1, 1] (fractions of the image width and height: beyond, the "
                         f"occluder leaves the picture), got {offset!r}")
    return dx, dy


def _check_layout(x, name: str, shape: str, dims: int, sizes: dict[int, int]) -> None:
    """One message for a wrongly laid out tensor: ``shape`` names the layout, ``sizes`` fixes some axes."""
    if isinstance(x, torch.Tensor) and x.dim() == dims and all(x.shape[a] == n for a, n in sizes.items()):
        return
    got = tuple(x.shape) if hasattr(x, "shape") else type(x).__name__
    channels_last = isinstance(got, tuple) and len(got) == dims and got[-1] == 3 and 3 in sizes.values()
    hint = " (channels last? move the channels first with .permute)" if channels_last else ""
    raise ValueError(f"{name} must be {shape}, got {got}{hint}")


# ----------------------------------------------------------------------------------------- explorer
def render(images: torch.Tensor, landmarks: torch.Tensor, index: int, kind: str, placement: str,
           rotation: float = 0.0, scale: float = 1.0, K: int = 4, seed: int = 0) -> dict:
    """One face occluded as asked: ``occluded`` (3,H,W), ``mask`` (H,W), ``pattern`` (K,K) bool (FROM's
    proximate pattern), ``label`` (pattern index), ``area`` and ``box``."""
    _check_layout(images, "images", "(N,3,H,W) faces in [0,1]", 4, {1: 3})
    _check_layout(landmarks, "landmarks", "(N,5,2) points in pixels", 3, {0: len(images), 1: 5, 2: 2})
    index = _int_in(index, "face index", 0, len(images) - 1)
    proximate_patterns(K)  # validates K before anything is drawn
    rotation = _finite(rotation, "rotation", "degrees")
    o = occlude(images[index:index + 1], kind, scale, placement, landmarks=landmarks[index:index + 1],
                seed=seed, K=K, rotation=rotation, templates="all")
    label = int(o.pattern[0])
    return {"occluded": o.images[0], "mask": o.mask[0, 0], "pattern": proximate_patterns(K)[label],
            "label": label, "area": float(o.area[0]), "box": o.box[0].tolist()}


def pattern_overlay(image: torch.Tensor, pattern: torch.Tensor, upscale: int = 1,
                    tint: tuple[float, float, float] = (1.0, 0.15, 0.15)) -> torch.Tensor:
    """FROM's K x K grid drawn over ``image`` (3,H,W): the cells of ``pattern`` (K,K bool) shaded, grid lines
    one display pixel wide on the official integer block edges (``grid_edges``). Returns (3, H*up, W*up);
    ``upscale`` is bounded so that the overlay stays within ``MAX_SIDE`` pixels."""
    _check_layout(image, "image", "(3,H,W) in [0,1]", 3, {0: 3})
    if not isinstance(pattern, torch.Tensor) or pattern.dim() != 2 or pattern.shape[0] != pattern.shape[1]:
        raise ValueError(f"pattern must be a square (K,K) grid, got {tuple(getattr(pattern, 'shape', ()))}")
    k = pattern.shape[0]
    _, h, w = image.shape
    upscale = _int_in(upscale, "upscale", 1, max(1, min(MAX_UPSCALE, MAX_SIDE // max(h, w))),
                      f" (display pixels per image pixel; the overlay stays within {MAX_SIDE} pixels a side)")
    big = image.float().clamp(0, 1).repeat_interleave(upscale, 1).repeat_interleave(upscale, 2)
    ys, xs = grid_edges(h, k) * upscale, grid_edges(w, k) * upscale
    cells = torch.zeros(h * upscale, w * upscale, dtype=torch.bool)
    for r, c in pattern.nonzero().tolist():  # at most K^2 cells
        cells[ys[r]:ys[r + 1], xs[c]:xs[c + 1]] = True
    colour = torch.tensor(tint)[:, None, None]
    out = torch.where(cells, 0.55 * big + 0.45 * colour, big)
    line = torch.tensor([1.0, 1.0, 0.2])[:, None]  # yellow: visible on faces and on black occluders
    for y in ys:
        out[:, min(int(y), h * upscale - 1), :] = line
    for x in xs:
        out[:, :, min(int(x), w * upscale - 1)] = line
    return out


def draw(fig, result: dict, title: str = "") -> None:
    """Draw a :func:`render` result on ``fig`` as three panels: occluded face, mask, and FROM's K x K grid
    over the face with the pattern's cells shaded."""
    import matplotlib.patches as patches

    fig.clf()
    axes = fig.subplots(1, 3)
    axes[0].imshow(result["occluded"].permute(1, 2, 0).numpy())
    x0, y0, x1, y1 = result["box"]
    axes[0].add_patch(patches.Rectangle((x0 - 0.5, y0 - 0.5), x1 - x0, y1 - y0, fill=False, color="lime", lw=1))
    axes[0].set_title(title or f"area {100 * result['area']:.1f}%", fontsize=8)
    axes[1].imshow(result["mask"].numpy(), cmap="gray", vmin=0, vmax=1)
    axes[1].set_title("mask", fontsize=8)
    # grid lines stay thin next to the face's pixels
    upscale = min(MAX_UPSCALE, max(1, 256 // result["occluded"].shape[-1]))
    axes[2].imshow(pattern_overlay(result["occluded"], result["pattern"], upscale).permute(1, 2, 0).numpy())
    axes[2].set_title(f"pattern #{result['label']} ({len(result['pattern'])}x{len(result['pattern'])})", fontsize=8)
    for ax in axes:
        ax.axis("off")


def explorer(images: torch.Tensor, landmarks: torch.Tensor, K: int = 4):
    """Interactive widget: face, kind, placement, rotation and size sliders -> occluded face, mask, pattern."""
    import ipywidgets as w
    import matplotlib.pyplot as plt

    controls = dict(
        index=w.IntSlider(0, 0, len(images) - 1, description="face"),
        kind=w.Dropdown(options=list(KINDS + GEOMETRIC), value="sunglasses", description="kind"),
        placement=w.Dropdown(options=list(PLACEMENTS), value="semantic", description="placement"),
        rotation=w.FloatSlider(0.0, min=0.0, max=30.0, step=1.0, description="rotation"),
        scale=w.FloatSlider(1.0, min=0.25, max=3.0, step=0.25, description="size"),
        seed=w.IntSlider(0, 0, 20, description="seed"),
    )
    out = w.Output()

    def update(_=None) -> None:
        values = {k: c.value for k, c in controls.items()}
        result = render(images, landmarks, K=K, **values)
        with out:
            out.clear_output(wait=True)
            fig = plt.figure(figsize=(6, 2.2))
            draw(fig, result)
            plt.show()

    for c in controls.values():
        c.observe(update, names="value")
    update()
    return w.VBox([w.HBox(list(controls.values())[:3]), w.HBox(list(controls.values())[3:]), out])


# ----------------------------------------------------------------------------------------- comparison
@dataclass
class Gallery:
    """Faces to occlude and, for each, another photo of the same person (the evaluator's reference)."""
    images: torch.Tensor        # (N,3,H,W) in [0,1], template-aligned
    landmarks: torch.Tensor     # (N,5,2) pixels
    references: torch.Tensor    # (N,3,H,W): another photo of the same person
    names: list[str]

    def __len__(self) -> int:
        return len(self.images)


def gallery_from(faces, people: int = 8, seed: int = 0) -> Gallery:
    """A :class:`Gallery` of ``people`` seeded people from an ``occface.faces.data.Faces`` holding at least two
    photos of each of them (the first is occluded, the second is the reference)."""
    if isinstance(faces, Gallery):
        return faces
    people = _int_in(people, "people", 1, 10_000)
    counts = torch.bincount(faces.identity, minlength=len(faces.names))
    twice = (counts >= 2).nonzero().flatten().numpy()
    if len(twice) == 0:
        raise ValueError("faces must hold at least two photos of one person (the similarity is measured to "
                         "another photo of the same person); load them with load_faces(..., min_per_identity=2)")
    chosen = np.sort(np.random.default_rng(seed).choice(twice, min(people, len(twice)), replace=False))
    ident = faces.identity.numpy()
    first, second = zip(*[np.flatnonzero(ident == c)[:2] for c in chosen])
    first, second = list(first), list(second)
    return Gallery(faces.images[first], faces.landmarks[first], faces.images[second],
                   [faces.names[c] for c in chosen])


def heldout_gallery(size: int, people: int = 8, seed: int = 0) -> Gallery:
    """Held-out LFW people (View-2 folds 6-10, never seen in training) at ``size``, two photos each."""
    from .faces.data import load_faces

    return gallery_from(load_faces("lfw", size, "test", min_per_identity=2), people, seed)


@dataclass
class Placed:
    """One occluder on one face: ``occluded`` (3,H,W), ``mask`` (H,W) 1 = occluder, its clipped ``box``
    (x0,y0,x1,y1) and ``area`` (fraction of pixels)."""
    occluded: torch.Tensor
    mask: torch.Tensor
    box: list[float]
    area: float


def move_layer(clean: torch.Tensor, occluded: torch.Tensor, mask: torch.Tensor, centre: tuple[float, float],
               shift: tuple[float, float], degrees: float) -> tuple[torch.Tensor, torch.Tensor]:
    """The occluder layer of ``occluded`` (where ``mask`` is 1) rotated by ``degrees`` (clockwise on screen)
    about ``centre`` and shifted by ``shift`` pixels, pasted back on ``clean``; (3,H,W) and (H,W). Sampled as
    :func:`occlude` samples templates: premultiplied bilinear, alpha thresholded at 0.5."""
    _, h, w = clean.shape
    a = math.radians(degrees)
    rot_t = torch.tensor([[math.cos(a), math.sin(a)], [-math.sin(a), math.cos(a)]], dtype=torch.float64)
    s = torch.diag(torch.tensor([w / 2, h / 2], dtype=torch.float64))
    c = torch.tensor(centre, dtype=torch.float64)
    t = torch.tensor(shift, dtype=torch.float64)
    # output pixel p (continuous) reads source q = R^T (p - c - t) + c; affine_grid works in [-1, 1]: p = S(p_n + 1)
    linear = torch.linalg.inv(s) @ rot_t @ s
    offset = torch.linalg.inv(s) @ (rot_t @ (s @ torch.ones(2, dtype=torch.float64) - c - t) + c) - 1
    theta = torch.cat([linear, offset[:, None]], 1)[None].float()
    layer = torch.cat([occluded * mask, mask[None]])[None].float()
    grid = F.affine_grid(theta, (1, 4, h, w), align_corners=False)
    moved = F.grid_sample(layer, grid, mode="bilinear", padding_mode="zeros", align_corners=False)[0]
    alpha = moved[3]
    fill = (moved[:3] / alpha.clamp_min(0.5)).clamp(0, 1)
    new_mask = (alpha > 0.5).float()
    return torch.where(new_mask.bool(), fill, clean), new_mask


def mask_box(mask: torch.Tensor) -> list[float]:
    """x0,y0,x1,y1 (continuous, exclusive ends) of the mask's pixels; all zeros when empty."""
    ys, xs = torch.nonzero(mask > 0.5, as_tuple=True)
    if len(ys) == 0:
        return [0.0, 0.0, 0.0, 0.0]
    return [float(xs.min()), float(ys.min()), float(xs.max() + 1), float(ys.max() + 1)]


def place_occluder(face: torch.Tensor, landmarks: torch.Tensor, kind: str, scale: float = 1.0,
                   placement: str = "semantic", offset: tuple[float, float] = (0.0, 0.0), rotation: float = 0.0,
                   seed: int = 0, templates: str = "test") -> Placed:
    """One occluder on one face (3,H,W): ``occlude`` places it (kind, size, placement; the seed picks the
    template and, for ``random``, the spot) unrotated, then the widget's ``offset`` (fractions of the image
    width, height) and exact ``rotation`` (degrees) move it. ``templates="test"`` is the unseen half, as
    the benchmark uses. An occluder cut by the image border stays cut when moved back in. A NaN or infinite
    ``rotation`` or ``offset``, or an offset beyond [-1, 1], is refused (it would hide the occluder)."""
    _check_layout(face, "face", "one (3,H,W) face in [0,1]", 3, {0: 3})
    _check_layout(landmarks, "landmarks", "the face's (5,2) points in pixels", 2, {0: 5, 1: 2})
    offset, rotation = _offset(offset), _finite(rotation, "rotation", "degrees, clockwise")
    o = occlude(face[None], kind, scale, placement, landmarks=landmarks[None], seed=seed, templates=templates)
    occluded, mask = o.images[0], o.mask[0, 0]
    _, h, w = face.shape
    if offset != (0, 0) or rotation != 0:
        x0, y0, x1, y1 = o.box[0].tolist()
        occluded, mask = move_layer(face, occluded, mask, ((x0 + x1) / 2, (y0 + y1) / 2),
                                    (offset[0] * w, offset[1] * h), rotation)
    return Placed(occluded, mask, mask_box(mask), float(mask.mean()))


@dataclass(frozen=True)
class LoadedMethod:
    """A registered method ready to run: ``run(images)`` (restorer) or ``run(images, mask)`` (inpainter, given
    the true mask), and ``predict_mask(images)`` -> (N,1,H,W) 1 = occluded, where the method finds one."""
    name: str
    kind: str
    run: Callable
    predict_mask: Callable[[torch.Tensor], torch.Tensor] | None = None
    mask_source: str = ""   # what the predicted mask is ("OA-GAN's 1 - M", "RLA's detection scores S^det")

    @torch.no_grad()
    def restore(self, occluded: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        out = self.run(occluded, mask) if self.kind == "inpainter" else self.run(occluded)
        return out.clamp(0, 1)


def mask_predictor(fn: Callable) -> tuple[Callable[[torch.Tensor], torch.Tensor] | None, str]:
    """``occface.studies.compare.mask_predictor``: the mask a registered restorer computes on its way."""
    from .studies.compare import mask_predictor as find

    return find(fn)


_LOADED: dict[tuple[str, str], LoadedMethod] = {}  # one load per process: widgets re-created reuse models


def load_method(name: str, profile: str) -> LoadedMethod:
    """The registered method ``name`` trained or loaded at ``profile`` (once per process)."""
    from .studies.compare import load_methods
    from .profiles import get_profile

    key = (name, get_profile(profile).name)
    if key not in _LOADED:
        (kind, fn), = load_methods([name], profile)[0].values()
        predict, source = mask_predictor(fn) if kind == "restorer" else (None, "")
        _LOADED[key] = LoadedMethod(name, kind, fn, predict, source)
    return _LOADED[key]


@dataclass
class Comparison:
    """The callback logic of :func:`compare`: one call occludes one gallery face and runs every method.

    The reference photos are embedded once, here; each call embeds the clean, occluded and restored faces
    in one batch. ``evaluator``: anything with ``embed(images) -> (N,D)`` and ``score(a, b)`` (higher =
    same); default the dlib ResNet port, the project's independent evaluator."""
    methods: Sequence[LoadedMethod]
    gallery: Gallery
    K: int = 4
    evaluator: object = None
    reference: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.evaluator is None:
            from .eval.recognizers import dlib_evaluator
            self.evaluator = dlib_evaluator()
        proximate_patterns(self.K)  # validates K
        self.reference = np.asarray(self.evaluator.embed(self.gallery.references))

    def __call__(self, index: int = 0, kind: str = "sunglasses", scale: float = 1.0, placement: str = "semantic",
                 dx: float = 0.0, dy: float = 0.0, rotation: float = 0.0, seed: int = 0) -> dict:
        """A dict: ``clean``, ``reference``, ``occluded`` (3,H,W), ``mask`` (H,W), ``pattern`` (K,K), ``label``,
        ``area``, per method ``outputs`` / ``masks`` (None where it has none) / ``psnr`` / ``ssim``,
        ``distance`` (evaluator distance to the reference; keys "clean", "occluded" and each method) and
        ``seconds`` (wall time of this call)."""
        from .eval.metrics import psnr, ssim

        started = time.perf_counter()
        g = self.gallery
        index = _int_in(index, "face index", 0, len(g) - 1)
        clean = g.images[index]
        placed = place_occluder(clean, g.landmarks[index], kind, scale, placement, (dx, dy), rotation, seed)
        x, m = placed.occluded[None], placed.mask[None, None]
        outputs = {meth.name: meth.restore(x, m)[0] for meth in self.methods}
        masks = {}
        with torch.no_grad():
            for meth in self.methods:
                masks[meth.name] = None if meth.predict_mask is None else meth.predict_mask(x)[0, 0].clamp(0, 1)
        shown = {"clean": clean, "occluded": placed.occluded, **outputs}
        feats = np.asarray(self.evaluator.embed(torch.stack(list(shown.values()))))
        ref = np.repeat(self.reference[index:index + 1], len(feats), 0)
        distance = dict(zip(shown, (-self.evaluator.score(feats, ref)).tolist()))
        restored = {"occluded": placed.occluded, **outputs}
        label = int(pattern_labels(torch.tensor([placed.box]), tuple(clean.shape[-2:]), self.K)[0])
        return {"name": g.names[index], "clean": clean, "reference": g.references[index],
                "occluded": placed.occluded, "mask": placed.mask, "area": placed.area, "box": placed.box,
                "pattern": proximate_patterns(self.K)[label], "label": label, "outputs": outputs,
                "masks": masks, "kinds": {meth.name: meth.kind for meth in self.methods},
                "psnr": {k: psnr(v, clean) for k, v in restored.items()},
                "ssim": {k: ssim(v, clean) for k, v in restored.items()},
                "distance": distance, "seconds": time.perf_counter() - started}


def png_data_uri(image: torch.Tensor) -> str:
    """(3,H,W) or (H,W) in [0,1] -> an inline PNG (``data:image/png;base64,...``)."""
    from PIL import Image

    array = image.detach().float().clamp(0, 1).mul(255).round().to(torch.uint8)
    array = array.permute(1, 2, 0).numpy() if array.dim() == 3 else array.numpy()
    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(array)).save(buf, format="PNG", compress_level=1)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def compare_html(result: dict, px: int = 96) -> str:
    """A :class:`Comparison` result as HTML cards that wrap to the page width: the reference photo, the clean
    face, the occluded one with its true mask, FROM's K x K pattern over it, then one card per method with
    its restoration, its predicted mask where it has one, PSNR, SSIM and the dlib distance."""
    px = _int_in(px, "px", 8, MAX_PX, " (the side of each card's image in pixels)")

    def img(t: torch.Tensor, cls: str, name: str) -> str:
        return (f'<img class="{cls}" data-method="{name}" src="{png_data_uri(t)}" width="{px}" height="{px}" '
                'style="image-rendering:pixelated;display:block">')

    def metrics(key: str) -> str:
        lines = [(label, result[table].get(key), fmt) for label, table, fmt in
                 (("PSNR", "psnr", ".2f"), ("SSIM", "ssim", ".3f"), ("dlib dist", "distance", ".3f"))]
        return "<br>".join(f"{label} {'inf' if not math.isfinite(v) else format(v, fmt)}"
                           for label, v, fmt in lines if v is not None)

    def card(title: str, *parts: str) -> str:
        return (f"<div style='margin:2px 3px;text-align:center;font-size:11px;line-height:1.25'><b>{title}</b>"
                + "".join(parts) + "</div>")

    up = min(MAX_UPSCALE, max(1, 128 // result["occluded"].shape[-1]))  # grid lines thin next to the face's pixels
    k = len(result["pattern"])
    cards = [card("reference photo", img(result["reference"], "occface-ref", "reference"), "another photo"),
             card("clean", img(result["clean"], "occface-in", "clean"), metrics("clean")),
             card("occluded", img(result["occluded"], "occface-in", "occluded"), metrics("occluded")),
             card("true mask", img(result["mask"], "occface-mask", "true"),
                  f"area {100 * result['area']:.1f} %"),
             card(f"FROM pattern #{result['label']}",
                  img(pattern_overlay(result["occluded"], result["pattern"], up), "occface-pattern", "pattern"),
                  f"{k}x{k} grid")]
    for name, out in result["outputs"].items():
        inpainter = result["kinds"][name] == "inpainter"
        mask = result["masks"][name]
        cards.append(card(name + (" *" if inpainter else ""), img(out, "occface-out", name), metrics(name)))
        if mask is not None:
            cards.append(card(f"{name} mask", img(mask, "occface-mask", name), "predicted"))
    return ("<div class='occface-compare'><div style='display:flex;flex-wrap:wrap;align-items:flex-start'>"
            + "".join(cards) + "</div><div style='font-size:11px'>"
            f"{result['name']}; * inpainter, given the true mask; dlib dist = Euclidean distance of the dlib "
            "descriptors to another photo of the same person (lower = more alike; the clean face's is the "
            f"reference point); updated in {result['seconds']:.2f} s</div></div>")


def compare(methods: Sequence[str] | None = None, profile: str = "quick", faces=None, K: int = 4):
    """Model-in-the-loop widget: face, occluder kind, size, placement, offset and rotation controls; every
    method's restoration side by side (inpainters get the true mask), predicted masks where a method has
    one, PSNR / SSIM against the clean face and the dlib evaluator's distance to another photo of the person.

    ``methods``: registry names (``occface.methods.available()``; None = all but "occluded", which
    is the input column). Models are trained or loaded at ``profile`` once per process. ``faces``: a
    :class:`Gallery` or a ``Faces`` with two photos of some people; default 8 held-out LFW people at the
    profile's image size. ``K``: FROM's grid for the pattern column. The returned VBox carries
    ``.controls`` (name -> widget), ``.comparison`` (the :class:`Comparison`) and ``.last`` (latest result).
    """
    import ipywidgets as w

    from . import methods as registry
    from .profiles import get_profile

    p = get_profile(profile)
    names = list(methods) if methods is not None else [n for n in registry.available() if n != "occluded"]
    gallery = heldout_gallery(p.image_size) if faces is None else gallery_from(faces)
    comparison = Comparison([load_method(n, p.name) for n in names], gallery, K)
    style = {"description_width": "70px"}
    controls = dict(
        index=w.IntSlider(0, 0, len(gallery) - 1, description="face", style=style),
        kind=w.Dropdown(options=list(KINDS + GEOMETRIC), value="sunglasses", description="kind", style=style),
        scale=w.FloatSlider(1.0, min=0.25, max=3.0, step=0.05, description="size", style=style),
        placement=w.Dropdown(options=list(PLACEMENTS), value="semantic", description="placement", style=style),
        dx=w.FloatSlider(0.0, min=-0.5, max=0.5, step=0.02, description="offset x", style=style),
        dy=w.FloatSlider(0.0, min=-0.5, max=0.5, step=0.02, description="offset y", style=style),
        rotation=w.FloatSlider(0.0, min=-45.0, max=45.0, step=1.0, description="rotation", style=style),
        seed=w.IntSlider(0, 0, 20, description="template", style=style),
    )
    panel = w.HTML()
    box = w.VBox([w.HBox(list(controls.values())[:4]), w.HBox(list(controls.values())[4:]), panel])

    def update(_=None) -> None:
        result = comparison(**{k: c.value for k, c in controls.items()})
        panel.value = compare_html(result)
        box.last = result

    for c in controls.values():
        c.observe(update, names="value")
    update()
    box.controls, box.comparison = controls, comparison
    return box
