# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # Exercises 20 · FSG-GAN
#
# Three tasks on FSG-GAN's building blocks: the hybrid dilated convolution (HDC) of its generator, the
# multi-receptive-field discriminator's weighting (Eq. 10) and the VAE's KL term (Eq. 4). No training.

# %%
import torch
from torch import nn

from occface.nn.blocks import HybridDilatedBlock
from occface.nn.discriminators import softmax_weighted
from occface.papers.fsg_gan.model import kl_divergence
from occface.notebook import check

torch.manual_seed(0)


def measured_field(module: nn.Module, size: int = 41) -> int:
    """Receptive field of a one-channel module, measured: the width of the input region whose pixels change
    the centre output pixel (the rows of nonzero gradient)."""
    x = torch.randn(1, 1, size, size, requires_grad=True)
    module(x)[0, 0, size // 2, size // 2].backward()
    rows = x.grad[0, 0].abs().sum(1).nonzero().ravel()
    return int(rows.max() - rows.min() + 1)


# %% [markdown]
# ## Task 20.1 · The receptive field of HDC
#
# A 3x3 convolution with dilation r sees pixels r apart: its receptive field is 1 + 2r pixels wide.
# Stacking convolutions adds their reaches: convolutions with dilations r_1, ..., r_n in sequence see
# 1 + 2(r_1 + ... + r_n) pixels. Our HDC block (`occface.nn.blocks.HybridDilatedBlock`, rates 1, 2, 5) runs
# three 3x3 branches **side by side** plus a 1x1 branch and fuses them with a 1x1 convolution.
# Give the receptive field of (a) the HDC block, `hdc_field`, and (b) the same three convolutions stacked
# one after another (Wang et al.'s original HDC), `stacked_field`.

# %%
hdc = HybridDilatedBlock(1, 1, rates=(1, 2, 5), norm="none", act="swish")
stacked = nn.Sequential(*[nn.Conv2d(1, 1, 3, padding=r, dilation=r) for r in (1, 2, 5)])

# %%
# BEGIN SOLUTION
hdc_field = 1 + 2 * max(1, 2, 5)
stacked_field = 1 + 2 * (1 + 2 + 5)
# END SOLUTION

# %% tags=["check"]
check("receptive field of the parallel HDC block", hdc_field, measured_field(hdc), atol=0)
check("receptive field of the stacked dilated convolutions", stacked_field, measured_field(stacked), atol=0)

# %% [markdown]
# ## Task 20.2 · The multi-receptive-field discriminator's score (Eq. 10)
#
# Each of the discriminator's L levels gives a score d_i (deeper level = larger receptive field). They are
# combined by a softmax weighting with temperature λ:
#
# $$D(x) = \sum_{i=1}^{L} \frac{e^{\lambda d_i}}{\sum_j e^{\lambda d_j}}\, d_i$$
#
# Compute `weighted` for the scores below (one row per image) at λ = 1, and `weighted_0` at λ = 0. What does
# λ → ∞ give?

# %%
d = torch.tensor([[0.2, -1.0, 0.5, 1.5], [2.0, 0.0, -0.5, 0.1]])

# %%
# BEGIN SOLUTION
weighted = (torch.softmax(1.0 * d, dim=1) * d).sum(1)
weighted_0 = d.mean(1)
# END SOLUTION

# %% tags=["check"]
check("Eq. 10 at lambda = 1", weighted, softmax_weighted(d, 1.0))
check("Eq. 10 at lambda = 0 (the mean of the levels)", weighted_0, softmax_weighted(d, 0.0))

# %% [markdown]
# ## Task 20.3 · The VAE's KL term (Eq. 4)
#
# The structure VAE encodes a face into a Gaussian q(z|x) = N(μ, diag σ²) and is pulled towards N(0, I) by
#
# $$\mathrm{KL}\big(q(z|x)\,\Vert\,\mathcal N(0, I)\big) = \tfrac12 \sum_k \big(\mu_k^2 + \sigma_k^2 - \log\sigma_k^2 - 1\big)$$
#
# The encoder outputs `mu` and `logvar` = log σ². Compute `kl`: the sum over z's dimensions, averaged over
# the batch. Which (μ, σ) makes it zero?

# %%
mu, logvar = torch.randn(5, 8), torch.randn(5, 8)

# %%
# BEGIN SOLUTION
kl = 0.5 * (mu ** 2 + logvar.exp() - logvar - 1).sum(1).mean()
# END SOLUTION

# %% tags=["check"]
check("KL divergence", kl, kl_divergence(mu, logvar))
