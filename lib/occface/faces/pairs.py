"""Occluded / clean training pairs: one mixed-occluder synthesis shared by every paper.

- :func:`occlude_mixed` draws one occluder kind per face (and one scale S per kind and call), as RLA's
  training set (Sec. IV-A.1: the nine types of Fig. 4) and FROM's Alg. 1 (a random kind and S per face,
  a share left clean) do; it returns the composite, the mask and, for FROM, pattern labels and boxes.
- :class:`TrainingPairs` holds occluded / clean faces and serves batches that depend only on
  (seed, step), so a resumed run replays nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import torch

from .occlusion import KINDS, occlude

__all__ = ["MixedOcclusion", "occlude_mixed", "TrainingPairs", "step_generator"]


@dataclass
class MixedOcclusion:
    """``images`` occluded faces, ``mask`` (N,1,H,W) 1 over the occluder, ``kinds`` the kind per face
    ("" when left clean), ``box`` (N,4) x0,y0,x1,y1 normalised to [0,1] (zeros when clean), ``pattern``
    FROM's proximate-pattern label per face when K was given (0 = clean)."""
    images: torch.Tensor
    mask: torch.Tensor
    kinds: list[str]
    box: torch.Tensor
    pattern: torch.Tensor | None


def occlude_mixed(images: torch.Tensor, seed: int, kinds: Sequence[str] = KINDS,
                  scales: Sequence[float] = (1.0,), clean: float = 0.0, K: int | None = None,
                  templates: str = "train", placement: str = "random", region: str | None = None,
                  landmarks: torch.Tensor | None = None, rotation: float = 0.0) -> MixedOcclusion:
    """A random kind from ``kinds`` per face and a random S from ``scales``; ``clean`` of the faces untouched.

    ``occlude`` takes one kind and one S per call, so S is drawn once per kind and call (9 calls a batch
    instead of ~40; over many batches every (kind, S) is still equally likely). ``placement="semantic"``
    with ``landmarks`` puts glasses and masks on the face (RLA, OA-GAN); ``"random"`` is FROM's Alg. 1.
    ``rotation``: up to +-degrees of random rotation (OA-GAN's 15).
    """
    n, _, h, w = images.shape
    rng = np.random.default_rng(seed)
    kind_of = rng.integers(len(kinds), size=n)
    scale_of = rng.integers(len(scales), size=len(kinds))[kind_of]
    keep = rng.random(n) < clean
    out, mask = images.clone(), torch.zeros(n, 1, h, w)
    pattern = torch.zeros(n, dtype=torch.long) if K is not None else None
    box = torch.zeros(n, 4)
    groups = sorted({(int(k), int(s)) for k, s, c in zip(kind_of, scale_of, keep) if not c})
    for g, (k, s) in enumerate(groups):
        sub = torch.from_numpy(np.flatnonzero((kind_of == k) & (scale_of == s) & ~keep))
        occ = occlude(images[sub], kinds[k], scale=scales[s], placement=placement, seed=seed * 131 + g, K=K,
                      templates=templates, region=region, rotation=rotation,
                      landmarks=None if landmarks is None else landmarks[sub])
        out[sub], mask[sub] = occ.images, occ.mask
        box[sub] = occ.box / torch.tensor([w, h, w, h], dtype=torch.float32)
        if K is not None:
            pattern[sub] = occ.pattern
    names = ["" if c else kinds[k] for k, c in zip(kind_of, keep)]
    return MixedOcclusion(out, mask, names, box, pattern)


def step_generator(seed: int, step: int) -> torch.Generator:
    """The random stream of one training step: a function of (seed, step) only, so a resumed run draws
    exactly the batches an uninterrupted one would."""
    return torch.Generator().manual_seed(seed * 1_000_003 + step)


@dataclass
class TrainingPairs:
    """Faces (N,C,S,S): ``occluded`` with one synthetic occluder each, ``clean`` the originals, ``mask``
    1 over the occluder, ``identity`` the training-person index, ``kinds`` the occluder kind per face."""
    occluded: torch.Tensor
    clean: torch.Tensor
    identity: torch.Tensor
    mask: torch.Tensor
    kinds: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.clean)

    def batch(self, step: int, size: int, seed: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(occluded, clean, identity) of a batch that depends only on (seed, step)."""
        idx = torch.randint(len(self), (size,), generator=step_generator(seed, step))
        return self.occluded[idx], self.clean[idx], self.identity[idx]

    def masked_batch(self, step: int, size: int, seed: int
                     ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """(occluded, clean, mask, identity): the same draw as :meth:`batch` plus the true masks."""
        idx = torch.randint(len(self), (size,), generator=step_generator(seed, step))
        return self.occluded[idx], self.clean[idx], self.mask[idx], self.identity[idx]
