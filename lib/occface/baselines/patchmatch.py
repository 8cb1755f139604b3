"""PM: exemplar-based PatchMatch inpainting (Barnes et al., SIGGRAPH 2009), ID-GAN Table II's "PM".

Through the maintained ``patchmatch-cython`` package (coarse-to-fine pyramid of randomised search and
propagation, Cython solver): it installs cleanly on the 2-core machine, so we do not re-implement it. Its
optional Poisson seam blending is off: Barnes et al. paste the matched patches as they are.
"""

from __future__ import annotations

import numpy as np
import torch


class PatchMatch:
    """Inpainter: fills the hole (mask 1) of each face from patches of its own known pixels, seeded."""

    def __init__(self, patch_size: int = 5, seed: int = 0):
        self.patch_size, self.seed = patch_size, seed

    def __call__(self, images: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        from patchmatch_cython import inpaint_pyramid

        pixels = (images.detach().clamp(0, 1) * 255).round().to(torch.uint8).permute(0, 2, 3, 1).cpu().numpy()
        holes = mask.detach()[:, 0].cpu().numpy() > 0.5
        out = np.stack([inpaint_pyramid(np.ascontiguousarray(p), h, patch_size=self.patch_size,
                                       seed=self.seed, poisson_blend=False)
                        if h.any() else p for p, h in zip(pixels, holes)])
        filled = torch.from_numpy(out).permute(0, 3, 1, 2).float().div(255).to(images.device)
        hole = mask.to(images.dtype)
        return hole * filled + (1 - hole) * images  # known pixels stay exactly the input
