"""Every de-occlusion method by name, behind two contracts (docs/CONTRACTS.md):

- ``Restorer(images) -> images``: RGB (N,3,H,W) in [0,1] in, same shape and range out (RLA, OA-GAN, ...);
- ``Inpainter(images, mask) -> images``: ``mask`` (N,1,H,W) is 1 over the hole, exactly ``Occlusion.mask``
  (PM, GFC, CA, PConv, CSA, CL, ID-GAN).

``restorer(name, profile)`` trains (through ``occface.train.Trainer``, checkpointed) or loads the named
method and returns a ``Restorer``; an inpainter needs a mask, given by :func:`with_mask` (OA-GAN's Table III
feeds OA-GAN's predicted, binarised mask to the mask-requiring methods). One paper's table can thus use
another paper's or a baseline's trained model by name.

Every method returned here checks its input at the contract (:class:`Checked`), one check for all: images RGB
(N,3,H,W) floating point in [0,1] at the profile's size (any size for a method without a trained one: PM,
the identity), a mask (N,1,H,W) with values in [0,1] (1 = hole, binary or soft) and the images' H,W.
float64 / float16 inputs are computed and returned in float32; a single image (3,H,W) (with a (1,H,W) mask)
is run as a batch of one and returned as (3,H,W).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Protocol

import torch

from .profiles import Profile, get_profile

Restorer = Callable[[torch.Tensor], torch.Tensor]


class Inpainter(Protocol):
    def __call__(self, images: torch.Tensor, mask: torch.Tensor) -> torch.Tensor: ...


@dataclass(frozen=True)
class Paper:
    """A paper of the companion, declared by its folder's ``__init__`` (``occface.papers.PAPERS`` lists them)."""
    topic: str     # results/<profile>/<topic>/ and the notebook's results topic
    title: str     # the paper's short name in tables, claims and the README
    notebook: str  # notebooks/<notebook>.ipynb (source: notebooks/src/<notebook>.py)


@dataclass(frozen=True)
class Method:
    """A registered method: ``build(profile)`` returns the trained restorer / inpainter; ``keeps_known``
    promises pixels outside the hole unchanged (inpainters only); ``paper`` names where it comes from;
    ``any_size``: it has no trained size (PM, the identity), so images of any H,W are accepted."""
    name: str
    kind: str            # "restorer" | "inpainter"
    build: Callable[[Profile], Restorer | Inpainter]
    paper: str
    keeps_known: bool = False
    any_size: bool = False


@dataclass
class Trained:
    """A trained model with the loss history its ``occface.train.Trainer`` kept (loss name -> one value per step
    it was logged; a term a schedule switches on later has fewer values: those of the last steps). Calling it
    calls the model, so a method's ``build`` can return ``Trained(inpaint, history)`` and still be an inpainter
    (or restorer) whose training curves travel with it (``compare.training_curves``)."""
    model: Any
    history: dict[str, list[float]] = field(default_factory=dict)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.model(*args, **kwargs)


ROUNDING = 1e-4  # float rounding of a resize may step this far outside [0,1]: accepted and clamped


def _shape(x: Any) -> str:
    return str(tuple(x.shape)) if hasattr(x, "shape") else type(x).__name__


def _in_unit_range(batch: torch.Tensor, nonfinite: str, out_of_range: Callable[[float, float], str]) -> None:
    """A ValueError unless ``batch`` is finite (``nonfinite``: its message) and within [0,1] up to ``ROUNDING``
    (``out_of_range(low, high)``: its message, from the batch's least and greatest value); an empty batch passes."""
    if batch.numel() and not torch.isfinite(batch).all():
        raise ValueError(nonfinite)
    low, high = torch.aminmax(batch) if batch.numel() else (torch.tensor(0.0), torch.tensor(1.0))
    if low < -ROUNDING or high > 1 + ROUNDING:
        raise ValueError(out_of_range(float(low), float(high)))


def check_images(images: Any, who: str, size: int | None = None) -> torch.Tensor:
    """``images`` as a float32 (N,3,H,W) batch, or a ValueError stating the expected layout and range: RGB
    (N,3,H,W) (or one (3,H,W) image, returned as a batch of one), floating point, finite, in [0,1], and
    ``size`` x ``size`` where given (the profile's image size)."""
    if not isinstance(images, torch.Tensor) or images.dim() not in (3, 4):
        raise ValueError(f"{who}: images must be an RGB (N,3,H,W) float tensor in [0,1] (or one (3,H,W) image), "
                         f"got {_shape(images)}")
    batch = images if images.dim() == 4 else images[None]
    if batch.shape[1] != 3:
        hint = (" (channels last? use images.permute(0, 3, 1, 2))" if batch.shape[-1] == 3 else
                " (grayscale? repeat it to three channels with images.expand(-1, 3, -1, -1))" if batch.shape[1] == 1
                else "")
        raise ValueError(f"{who}: images must be RGB (N,3,H,W), got {_shape(images)}{hint}")
    if not batch.is_floating_point():
        raise ValueError(f"{who}: images must be floating point in [0,1], got {batch.dtype}; divide uint8 by 255")
    _in_unit_range(batch, f"{who}: images contain NaN or infinite pixels; clean or drop them first",
                   lambda low, high: f"{who}: images must lie in [0,1], got [{low:.3f}, {high:.3f}]; undo a [-1,1] "
                                     "normalisation with (x + 1) / 2 and a 0..255 scale with x / 255")
    if size is not None and tuple(batch.shape[-2:]) != (size, size):
        raise ValueError(f"{who}: images must be {size}x{size} (the profile's image size, the size the method was "
                         f"trained at), got {tuple(batch.shape[-2:])}; resize them (torch.nn.functional.interpolate"
                         "(x, size=..., mode='bilinear', antialias=True)) or load the method at another profile")
    return batch.float().clamp(0, 1)


def check_mask(mask: Any, images: torch.Tensor, who: str, single: bool = False) -> torch.Tensor:
    """``mask`` as a float32 (N,1,H,W) hole mask for the (N,3,H,W) ``images`` (``single``: one image, whose
    mask is (1,H,W)), or a ValueError stating the expected layout: one channel, the images' N, H and W,
    values in [0,1] (1 = hole)."""
    n, _, h, w = images.shape
    want = f"(1,{h},{w})" if single else f"(N,1,H,W) = ({n},1,{h},{w})"
    if not isinstance(mask, torch.Tensor):
        raise ValueError(f"{who}: the mask must be a tensor {want} with 1 over the hole, got {_shape(mask)}")
    batch = mask[None] if single and mask.dim() == 3 else mask
    if batch.dim() != 4 or tuple(batch.shape) != (n, 1, h, w):
        hint = " (add the channel axis with mask[:, None])" if mask.dim() == 3 and not single else ""
        raise ValueError(f"{who}: the mask must be {want} with 1 over the hole (as Occlusion.mask), got "
                         f"{_shape(mask)}{hint}")
    batch = batch.float()
    _in_unit_range(batch, f"{who}: the mask contains NaN or infinite values",
                   lambda low, high: f"{who}: mask values must lie in [0,1] (1 = hole), got [{low:g}, {high:g}]; "
                                     "divide a 0/255 mask by 255 (or use mask > 0)")
    return batch.clamp(0, 1)


@dataclass(frozen=True)
class Checked:
    """A registered method behind its contract's input check (:func:`check_images`, :func:`check_mask`):
    ``Checked(images)`` for a restorer, ``Checked(images, mask)`` for an inpainter. ``model`` is what the
    method's ``build`` returned; other attributes (``history``, ...) are read from it."""
    model: Any
    name: str
    kind: str
    size: int | None = None

    def __call__(self, images: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        single = isinstance(images, torch.Tensor) and images.dim() == 3
        x = check_images(images, self.name, self.size)
        if self.kind == "inpainter":
            if mask is None:
                raise TypeError(f"{self.name} is an inpainter: call it with (images, mask), the mask (N,1,H,W) "
                                "1 over the hole")
            out = self.model(x, check_mask(mask, x, self.name, single))
        else:
            if mask is not None:
                raise TypeError(f"{self.name} is a restorer (it finds the occlusion itself): call it with images only")
            out = self.model(x)
        return out[0] if single else out

    def __getattr__(self, attr: str) -> Any:
        if attr in ("model", "__setstate__") or attr.startswith("__"):
            raise AttributeError(attr)
        return getattr(self.model, attr)


def unwrap(fn: Any) -> Any:
    """The callable a method's ``build`` made, looking through :class:`Checked` and :class:`Trained`."""
    while isinstance(fn, (Checked, Trained)):
        fn = fn.model
    return fn


REGISTRY: dict[str, Method] = {}
ALIASES: dict[str, str] = {}  # other papers' names of a registered method (e.g. "ca", "gnipt" -> "deepfill")


def register(name: str, kind: str, paper: str, keeps_known: bool = False, aliases: tuple[str, ...] = (),
             any_size: bool = False):
    """Decorator registering ``build(profile)`` under ``name`` (and under each of ``aliases``: other papers'
    names of the same method); ``any_size``: the method has no trained image size."""
    if kind not in ("restorer", "inpainter"):
        raise ValueError(f"kind must be 'restorer' or 'inpainter', got {kind!r}")

    def wrap(build: Callable[[Profile], Restorer | Inpainter]):
        if name in REGISTRY and REGISTRY[name].build is not build:
            raise ValueError(f"method {name!r} is registered twice ({REGISTRY[name].build.__module__} and "
                             f"{build.__module__}); give one of them another name")
        REGISTRY[name] = Method(name, kind, build, paper, keeps_known, any_size)
        ALIASES.update({alias: name for alias in aliases})
        return build
    return wrap


def available() -> list[str]:
    """The methods registered so far (``occface.methods`` imports every registering module)."""
    return sorted(REGISTRY)


def method(name: str) -> Method:
    """A registered method by its name or one of its aliases."""
    name = ALIASES.get(name, name)
    if name not in REGISTRY:
        raise ValueError(f"unknown method {name!r}; registered methods are: {', '.join(sorted(REGISTRY))} "
                         "(import occface.methods to register every method of the project)")
    return REGISTRY[name]


_BUILT: dict[tuple[str, Profile], Restorer | Inpainter] = {}


def _built(m: Method, profile: str | Profile) -> Restorer | Inpainter:
    """``m.build(profile)`` once per process: the benchmark, the widget and a paper's tables ask for the same
    trained model several times, and loading (IP-RLA: ~25 s on the CPU) should happen once."""
    key = (m.name, get_profile(profile))
    if key not in _BUILT:
        _BUILT[key] = Checked(m.build(key[1]), m.name, m.kind, None if m.any_size else key[1].image_size)
    return _BUILT[key]


def inpainter(name: str, profile: str | Profile) -> Inpainter:
    """The named mask-requiring method, trained or loaded at ``profile`` (built once per process)."""
    m = method(name)
    name = m.name
    if m.kind != "inpainter":
        raise ValueError(f"{name!r} is a restorer (it finds the occlusion itself); use restorer({name!r}, ...)")
    return _built(m, profile)


def restorer(name: str, profile: str | Profile) -> Restorer:
    """The named method as a ``Restorer``. An inpainter is refused here: it needs a mask, so wrap it with
    :func:`with_mask` and a mask predictor (or the true mask, as the benchmark's upper-bound rows do)."""
    m = method(name)
    name = m.name
    if m.kind != "restorer":
        raise ValueError(f"{name!r} needs the occlusion mask; use with_mask(inpainter({name!r}, profile), "
                         "predict_mask) to turn it into a restorer")
    return _built(m, profile)


def with_mask(inpaint: Inpainter, predict_mask: Callable[[torch.Tensor], torch.Tensor],
              threshold: float = 0.5) -> Restorer:
    """A restorer that feeds ``inpaint`` the mask ``predict_mask(images) > threshold`` (1 = hole); its input is
    checked like every restorer's (a single (3,H,W) image is run as a batch of one)."""
    def restore(images: torch.Tensor) -> torch.Tensor:
        single = isinstance(images, torch.Tensor) and images.dim() == 3
        x = check_images(images, "with_mask restorer")
        out = inpaint(x, (predict_mask(x) > threshold).float())
        return out[0] if single else out
    return restore
