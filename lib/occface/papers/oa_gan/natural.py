"""OA-GAN's training data (Sec. III-C, IV-A) on LFW's training people: paired faces with synthetic occluders,
unpaired natural occlusions, and the ten attributes of the discriminator's head.

- **Paired** (x, x_gt): clean training faces, occluded afresh in every batch by one of the nine kinds (one
  per face) from the *training* half of the templates, on the landmarks, rotated up to +-15 degrees (the
  official ``utils/util.py``); the paper's 640 occluder types and 1e8 pairs become our templates drawn anew.
- **Natural** (X, Y): the paper's CelebA "wearing glasses" split and its own glasses/respirator set become
  LFW photos that Kumar et al.'s attribute classifiers (``$OCCFACE_DATA/lfw/attributes``, binarised) flag as
  Sunglasses, Eyeglasses or Wearing Hat (X), and photos flagged as none of these nor Obstructed Forehead (Y).
  Only the training people are used (``load_faces(split="train")``, matched by image path).
- **Attributes**: CelebA's ten of Sec. III-B under LFW's nearest names (``LFW_NAMES``), 0/1 per photo.

Without the attributes folder, X falls back to synthetically occluded faces shown *without* their clean pair
(and Y to other clean faces), and the attribute head is dropped; ``OAGANData.note`` says which was used.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from ...faces.attributes import attributes_folder, lfw_attributes  # noqa: F401 (moved; re-exported)
from ...faces.occlusion import KINDS
from ...faces.pairs import occlude_mixed
from .model import ATTRIBUTES

LFW_NAMES = {"5_o_Clock_Shadow": "5 o' Clock Shadow", "Goatee": "Goatee", "Heavy_Makeup": "Heavy Makeup",
             "Male": "Male", "Mustache": "Mustache", "No_Beard": "No Beard", "Pale_Skin": "Pale Skin",
             "Sideburns": "Sideburns", "Wearing_Lipstick": "Wearing Lipstick", "Young": "Youth"}
OCCLUDING = ("Sunglasses", "Eyeglasses", "Wearing Hat")
NOT_CLEAN = OCCLUDING + ("Obstructed Forehead",)
ROTATION = 15.0  # degrees, the official occluder synthesis


def occlude_rotated(images: Tensor, landmarks: Tensor, seed: int, templates: str = "train",
                    rotation: float = ROTATION, kinds: tuple[str, ...] = KINDS) -> tuple[Tensor, Tensor, list[str]]:
    """One random kind per face, placed on its landmarks with up to +-``rotation`` degrees (OA-GAN's
    synthesis). Returns (occluded images, mask 1 = occluder, kind per face)."""
    d = occlude_mixed(images, seed, kinds=kinds, templates=templates, placement="semantic", landmarks=landmarks,
                      rotation=rotation)
    return d.images, d.mask, d.kinds


@dataclass
class PairedBatch:
    occluded: Tensor
    clean: Tensor
    mask: Tensor        # the true occluder mask, 1 = hole (supervision only with LossWeights.known_mask > 0)
    attrs: Tensor | None
    known: Tensor | None


@dataclass
class OAGANData:
    """Training faces with landmarks, their attributes (N,A; A = 0 without labels), and the indices of the
    natural occluded set X, the clean set Y and the faces that get synthetic occluders."""
    images: Tensor
    landmarks: Tensor
    attrs: Tensor
    known: Tensor
    natural: Tensor
    clean: Tensor
    paired: Tensor
    source: str
    note: str
    identity: Tensor | None = None  # person index per face (``Faces.identity``)

    @property
    def attributes(self) -> int:
        return self.attrs.shape[1]

    def paired_batch(self, gen: torch.Generator, size: int, clean_share: float = 0.0) -> PairedBatch:
        """Clean faces of Y and their synthetic occlusion (training templates, +-15 degrees). The last
        ``round(clean_share * size)`` faces keep no occluder (an empty known mask, input = ground truth), so
        that a mask fitted to known masks also learns Fig. 9's "no hole on a clean face"."""
        idx = self.paired[torch.randint(len(self.paired), (size,), generator=gen)]
        seed = int(torch.randint(2 ** 31, (1,), generator=gen))
        occ, mask, _ = occlude_rotated(self.images[idx], self.landmarks[idx], seed)
        clean_rows = round(clean_share * size)
        if clean_rows:  # the last rows: Eqs. 4-5 run on the first ``perceptual_batch`` rows, occluded ones
            occ[size - clean_rows:] = self.images[idx[size - clean_rows:]]
            mask[size - clean_rows:] = 0
        attrs = (self.attrs[idx], self.known[idx]) if self.attributes else (None, None)
        return PairedBatch(occ, self.images[idx], mask, *attrs)

    def natural_batch(self, gen: torch.Generator, size: int) -> tuple[Tensor, Tensor]:
        """(occluded faces of X, unrelated clean faces of Y for the critic's real side); no pairs."""
        x = self.natural[torch.randint(len(self.natural), (size,), generator=gen)]
        y = self.clean[torch.randint(len(self.clean), (size,), generator=gen)]
        if self.source == "synthetic":
            seed = int(torch.randint(2 ** 31, (1,), generator=gen))
            return occlude_rotated(self.images[x], self.landmarks[x], seed)[0], self.images[y]
        return self.images[x], self.images[y]


def load_data(size: int | tuple[int, int], max_images: int = 0, seed: int = 0, attributes: bool = True,
              root: str | Path | None = None, split: str = "train") -> OAGANData:
    """LFW training people at ``size`` (``split="test"``: the test people, for figures of natural occlusions);
    natural sets from the attribute scores when ``attributes`` and the folder exists, otherwise the
    synthetic fallback (no attribute head)."""
    from ...faces.data import load_faces

    faces = load_faces("lfw", size=size, split=split, max_images=max_images, seed=seed, root=root)
    folder = attributes_folder(root) if attributes else None
    everyone = torch.arange(len(faces))
    if folder is None:
        half = torch.randperm(len(faces), generator=torch.Generator().manual_seed(seed))
        x, y = half[: len(faces) // 2].sort().values, half[len(faces) // 2:].sort().values
        why = "no lfw/attributes folder" if attributes else "attributes switched off"
        return OAGANData(faces.images, faces.landmarks, torch.zeros(len(faces), 0), torch.zeros(len(faces)),
                         x, y, everyone, "synthetic",
                         f"natural batches: synthetic occluders shown without their clean pair ({why}); "
                         "no attribute head", faces.identity)
    values, known, names = lfw_attributes(faces.paths, folder)
    col = {n: values[:, names.index(n)] for n in names}
    occluded = known & np.any([col[n] for n in OCCLUDING], axis=0)
    clean = known & ~np.any([col[n] for n in NOT_CLEAN], axis=0)
    attrs = torch.from_numpy(np.stack([col[LFW_NAMES[a]] for a in ATTRIBUTES], 1).astype(np.float32))
    x, y = torch.from_numpy(np.flatnonzero(occluded)), torch.from_numpy(np.flatnonzero(clean))
    who = {"train": "training"}.get(split, split)
    note = (f"natural set X: {len(x)} {who} photos flagged Sunglasses / Eyeglasses / Wearing Hat by Kumar et "
            f"al.'s classifiers; clean set Y: {len(y)} flagged none of these nor Obstructed Forehead; paired "
            f"faces are Y with synthetic occluders; attributes: LFW's names for CelebA's ten (Young = Youth)")
    return OAGANData(faces.images, faces.landmarks, attrs, torch.from_numpy(known.astype(np.float32)),
                     x, y, y, "lfw-attributes", note, faces.identity)
