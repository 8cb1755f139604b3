"""Baselines of RLA's Table I (Zhao et al., Sec. IV-B): PCA, a plain autoencoder (AE), SRC and SSDA.

All work on grey faces flattened to vectors in [0,1] and expose ``restore(images) -> images`` with the
same RGB-in, grey-as-RGB-out convention as :meth:`occface.models.rla.RLA.restore`.

- **PCA** projects an occluded face onto the principal subspace of clean training faces and reconstructs
  it (400 components in the paper).
- **AE** is "a standard autoencoder with four 2048-dimensional hidden layers", trained occluded -> clean.
- **SRC** (Wright et al. [1]) codes the occluded face sparsely over a dictionary of training faces and
  returns the dictionary reconstruction D a.
- **SSDA** (Xie et al. [10]) stacks sparse denoising autoencoders: greedy layer-wise pre-training with a
  KL sparsity penalty, then fine-tuning of the whole stack, occluded -> clean.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .model import to_grey


def flatten_grey(images: torch.Tensor) -> torch.Tensor:
    """(N,C,H,W) -> (N, H*W) grey vectors."""
    return to_grey(images.float()).flatten(1)


def as_rgb(flat: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """(N, H*W) grey vectors -> (N,3,H,W) shaped like ``like``, clamped to [0,1]."""
    n, _, h, w = like.shape
    return flat.clamp(0, 1).view(n, 1, h, w).repeat(1, 3, 1, 1)


# ## PCA
class PCARestorer:
    """PCA reconstruction: x_hat = mu + U U^T (x - mu), U the top-k eigenfaces of clean training faces."""

    def __init__(self, components: int):
        self.components = components

    def fit(self, clean: torch.Tensor, seed: int = 0) -> "PCARestorer":
        from sklearn.decomposition import PCA
        x = flatten_grey(clean).numpy().astype(np.float64)
        k = min(self.components, x.shape[0] - 1, x.shape[1])
        self.pca = PCA(n_components=k, svd_solver="randomized", random_state=seed).fit(x)
        return self

    def restore(self, images: torch.Tensor) -> torch.Tensor:
        x = flatten_grey(images).numpy().astype(np.float64)
        rec = self.pca.inverse_transform(self.pca.transform(x))
        return as_rgb(torch.from_numpy(rec).float(), images)


# ## SRC
class SRCRestorer:
    """Sparse representation (Wright et al. [1]): min ||a||_0 s.t. x ~ D a, solved greedily by OMP over
    unit-norm training faces D; the restored face is D a.

    Wright et al. extend D with an identity block to absorb the occlusion; for large contiguous
    occluders that block needs hundreds of atoms per face, which OMP with a few coefficients cannot
    afford, so (as the RLA paper's description "sparse coding ... over training faces") we code over D
    alone.
    """

    def __init__(self, atoms: int, nonzero: int):
        self.atoms, self.nonzero = atoms, nonzero

    def fit(self, clean: torch.Tensor, seed: int = 0) -> "SRCRestorer":
        x = flatten_grey(clean).numpy().astype(np.float64)
        rng = np.random.default_rng(seed)
        pick = rng.choice(len(x), size=min(self.atoms, len(x)), replace=False)
        d = x[np.sort(pick)].T                                  # (pixels, atoms)
        self.norms = np.linalg.norm(d, axis=0) + 1e-8
        self.dictionary = d / self.norms
        self.gram = self.dictionary.T @ self.dictionary
        return self

    def codes(self, images: torch.Tensor) -> np.ndarray:
        from sklearn.linear_model import orthogonal_mp_gram
        y = flatten_grey(images).numpy().astype(np.float64)    # (N, pixels)
        xy = self.dictionary.T @ y.T                           # (atoms, N)
        k = min(self.nonzero, self.dictionary.shape[1])
        a = orthogonal_mp_gram(self.gram, xy, n_nonzero_coefs=k)
        return a.reshape(self.dictionary.shape[1], -1)

    def restore(self, images: torch.Tensor) -> torch.Tensor:
        rec = (self.dictionary @ self.codes(images)).T
        return as_rgb(torch.from_numpy(rec).float(), images)


# ## AE
class Autoencoder(nn.Module):
    """A fully connected autoencoder, pixels -> hidden x ``layers`` -> pixels (sigmoid output)."""

    def __init__(self, pixels: int, hidden: int, layers: int = 4):
        super().__init__()
        dims = [pixels] + [hidden] * layers
        blocks: list[nn.Module] = []
        for a, b in zip(dims[:-1], dims[1:]):
            blocks += [nn.Linear(a, b), nn.ReLU()]
        self.body = nn.Sequential(*blocks, nn.Linear(hidden, pixels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.body(x))

    @torch.no_grad()
    def restore(self, images: torch.Tensor) -> torch.Tensor:
        self.eval()
        device = next(self.parameters()).device
        return as_rgb(self(flatten_grey(images).to(device)).cpu(), images)


# ## SSDA
@dataclass
class SSDAConfig:
    """Xie et al. [10]: sparsity target rho, KL weight beta, weight decay lambda (their hyper-parameters)."""
    rho: float = 0.05
    beta: float = 0.01
    weight_decay: float = 1e-4


def kl_sparsity(hidden: torch.Tensor, rho: float) -> torch.Tensor:
    """KL(rho || rho_hat_j) summed over hidden units j, rho_hat_j the unit's mean activation on the batch.
    In fp32 even under bf16 autocast: bf16 rounds 1 - 1e-6 to 1, so a saturated unit made the KL infinite."""
    rho_hat = hidden.float().mean(0).clamp(1e-6, 1 - 1e-6)
    return (rho * torch.log(rho / rho_hat) + (1 - rho) * torch.log((1 - rho) / (1 - rho_hat))).sum()


class SSDA(nn.Module):
    """Stacked sparse denoising autoencoder: sigmoid encoders E_1..E_L and mirrored decoders.

    Pre-training of layer l (:meth:`layer_loss`) denoises layer l-1's codes of occluded faces towards the
    codes of the clean faces (Xie et al., Sec. 3.2); :meth:`loss` fine-tunes the whole stack end to end.
    """

    def __init__(self, pixels: int, hidden: int, layers: int = 2, config: SSDAConfig | None = None):
        super().__init__()
        self.config = config or SSDAConfig()
        dims = [pixels] + [hidden] * layers
        self.encoders = nn.ModuleList(nn.Linear(a, b) for a, b in zip(dims[:-1], dims[1:]))
        self.decoders = nn.ModuleList(nn.Linear(b, a) for a, b in zip(dims[:-1], dims[1:]))

    def encode(self, x: torch.Tensor, depth: int | None = None) -> list[torch.Tensor]:
        codes = []
        for enc in self.encoders[:depth]:
            x = torch.sigmoid(enc(x))
            codes.append(x)
        return codes

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.encode(x)[-1]
        for dec in reversed(self.decoders):
            h = torch.sigmoid(dec(h))
        return h

    def _decay(self, modules: list[nn.Module]) -> torch.Tensor:
        return sum(m.weight.pow(2).sum() for m in modules) * (self.config.weight_decay / 2)

    def layer_loss(self, layer: int, occluded: torch.Tensor, clean: torch.Tensor) -> torch.Tensor:
        """Greedy pre-training of layer ``layer`` (0-based); lower layers are fixed (no gradient)."""
        with torch.no_grad():
            x_occ = self.encode(occluded, layer)[-1] if layer else occluded
            x_clean = self.encode(clean, layer)[-1] if layer else clean
        h = torch.sigmoid(self.encoders[layer](x_occ))
        y = torch.sigmoid(self.decoders[layer](h))
        return (0.5 * (y - x_clean).pow(2).sum(1).mean() + self.config.beta * kl_sparsity(h, self.config.rho)
                + self._decay([self.encoders[layer], self.decoders[layer]]))

    def loss(self, occluded: torch.Tensor, clean: torch.Tensor) -> torch.Tensor:
        """Fine-tuning of the whole stack: reconstruction + weight decay (Xie et al., Eq. 5)."""
        return (0.5 * (self(occluded) - clean).pow(2).sum(1).mean()
                + self._decay([*self.encoders, *self.decoders]))

    @torch.no_grad()
    def restore(self, images: torch.Tensor) -> torch.Tensor:
        self.eval()
        device = next(self.parameters()).device
        return as_rgb(self(flatten_grey(images).to(device)).cpu(), images)


def mse_per_image(restored: torch.Tensor, clean: torch.Tensor) -> torch.Tensor:
    """Mean squared error per image (grey), for sanity checks and tests."""
    return F.mse_loss(flatten_grey(restored), flatten_grey(clean), reduction="none").mean(1)
