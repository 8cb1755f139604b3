# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # Exercises 30 · OA-GAN
#
# Three tasks on OA-GAN's generator output and losses (`occface.papers.oa_gan.model`), on random tensors.
# OA-GAN's occlusion-aware module predicts a mask M with **M = 1 where the face is kept** (not occluded);
# the face completion module draws a full face x_synth.

# %%
import torch

from occface.papers.oa_gan.model import GeneratorOutput, blend, pixel_loss, smooth_loss
from occface.notebook import check

torch.manual_seed(0)
x = torch.rand(2, 3, 16, 16)        # the occluded input
synth = torch.rand(2, 3, 16, 16)    # x_synth, the completion module's face
gt = torch.rand(2, 3, 16, 16)       # the clean ground truth
keep = torch.ones(2, 1, 16, 16)
keep[:, :, 4:9, 2:14] = 0           # the predicted occluder: rows 4-8

# %% [markdown]
# ## Task 30.1 · The blend (Eq. 2)
#
# $$x_{final} = M \odot x + (1 - M) \odot x_{synth}$$
#
# Compute `final`. Note M has one channel and x three: broadcasting does the rest.

# %%
# BEGIN SOLUTION
final = keep * x + (1 - keep) * synth
# END SOLUTION

# %% tags=["check"]
check("Eq. 2 blend", final, blend(x, synth, keep))

# %% [markdown]
# ## Task 30.2 · The weighted pixel loss (Eq. 6)
#
# $$L_{pixel} = \gamma \lVert (1 - M) \odot (x_{final} - x_{gt}) \rVert_1 + \delta \lVert M \odot (x_{final} - x_{gt}) \rVert_1$$
#
# with γ = 6 on the hole and δ = 1 elsewhere (the official code's values; the paper does not give them), each
# norm averaged over all N·C·H·W elements. Compute `l_pixel` from your `final`. Why weigh the hole six times
# more?

# %%
# BEGIN SOLUTION
err = (final - gt).abs()
l_pixel = 6 * ((1 - keep) * err).mean() + 1 * (keep * err).mean()
# END SOLUTION

# %% tags=["check"]
out = GeneratorOutput(keep=keep, synth=synth, final=blend(x, synth, keep))
check("Eq. 6 pixel loss", l_pixel, pixel_loss(out, gt, hole=6.0, valid=1.0))

# %% [markdown]
# ## Task 30.3 · The smoothness loss (Eq. 7)
#
# $$L_{smooth} = \sum_{i,j} \big(|x_{i,j+1} - x_{i,j}| + |x_{i+1,j} - x_{i,j}|\big) + \sum_{i,j} \big(|M_{i,j+1} - M_{i,j}| + |M_{i+1,j} - M_{i,j}|\big)$$
#
# on x = x_final, i.e. anisotropic total variation of the output and of the mask. The library takes the mean
# over neighbour pairs (horizontal and vertical separately) and multiplies by the number of elements per image
# (C·H·W) so the size of the sum stays the equation's. Compute `l_smooth` the same way.

# %%
# BEGIN SOLUTION
def tv(t):
    return (t[..., :, 1:] - t[..., :, :-1]).abs().mean() + (t[..., 1:, :] - t[..., :-1, :]).abs().mean()


l_smooth = tv(final) * final[0].numel() + tv(keep) * keep[0].numel()
# END SOLUTION

# %% tags=["check"]
check("Eq. 7 smoothness loss", l_smooth, smooth_loss(out), rtol=1e-5)
