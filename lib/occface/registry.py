"""Every de-occlusion method by name, behind two contracts (docs/CONTRACTS.md):

- ``Restorer(images) -> images``: RGB (N,3,H,W) in [0,1] in, same shape and range out (RLA, OA-GAN, ...);
- ``Inpainter(images, mask) -> images``: ``mask`` (N,1,H,W) is 1 over the hole, exactly ``Occlusion.mask``
  (PM, GFC, CA, PConv, CSA, CL, ID-GAN).

``restorer(name, profile)`` trains (through ``occface.train.Trainer``, checkpointed) or loads the named
method and returns a ``Restorer``; an inpainter needs a mask, given by :func:`with_mask` (OA-GAN's Table III
feeds OA-GAN's predicted, binarised mask to the mask-requiring methods). One paper's table can thus use
another paper's or a baseline's trained model by name.
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
    promises pixels outside the hole unchanged (inpainters only); ``paper`` names where it comes from."""
    name: str
    kind: str            # "restorer" | "inpainter"
    build: Callable[[Profile], Restorer | Inpainter]
    paper: str
    keeps_known: bool = False


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


REGISTRY: dict[str, Method] = {}
ALIASES: dict[str, str] = {}  # other papers' names of a registered method (e.g. "ca", "gnipt" -> "deepfill")


def register(name: str, kind: str, paper: str, keeps_known: bool = False, aliases: tuple[str, ...] = ()):
    """Decorator registering ``build(profile)`` under ``name`` (and under each of ``aliases``: other papers'
    names of the same method)."""
    if kind not in ("restorer", "inpainter"):
        raise ValueError(f"kind must be 'restorer' or 'inpainter', got {kind!r}")

    def wrap(build: Callable[[Profile], Restorer | Inpainter]):
        if name in REGISTRY and REGISTRY[name].build is not build:
            raise ValueError(f"method {name!r} is registered twice ({REGISTRY[name].build.__module__} and "
                             f"{build.__module__}); give one of them another name")
        REGISTRY[name] = Method(name, kind, build, paper, keeps_known)
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
        _BUILT[key] = m.build(key[1])
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
    """A restorer that feeds ``inpaint`` the mask ``predict_mask(images) > threshold`` (1 = hole)."""
    def restore(images: torch.Tensor) -> torch.Tensor:
        return inpaint(images, (predict_mask(images) > threshold).float())
    return restore
