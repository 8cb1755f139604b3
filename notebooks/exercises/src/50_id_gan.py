# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # Exercises 50 · ID-GAN
#
# Three tasks on ID-GAN's losses (`occface.papers.id_gan.model`, `occface.nn.losses`), on small tensors.

# %%
import torch

from occface.nn.losses import spatial_discount
from occface.papers.id_gan.model import centres_from_features, identity_diversity_loss
from occface.notebook import check

torch.manual_seed(0)

# %% [markdown]
# ## Task 50.1 · The spatially discounted weight (Eq. 2)
#
# ID-GAN's reconstruction loss weighs each hole pixel by γ^d, after DeepFill: pixels of the hole that touch
# the known face (8-neighbourhood) weigh 1, those one step deeper γ, then γ², ... Here d is the
# **chessboard distance** to the nearest known pixel minus 1; known pixels weigh 1. Compute the weight map
# `weights` (shape 10 x 12) for the hole below with γ = 0.9. Why discount the centre of a large hole?

# %%
mask = torch.zeros(10, 12)
mask[2:8, 3:10] = 1  # the hole: rows 2-7, columns 3-9
gamma = 0.9

# %%
# BEGIN SOLUTION
rows, cols = torch.meshgrid(torch.arange(10), torch.arange(12), indexing="ij")
known = (mask == 0).nonzero()
chess = torch.maximum((rows[..., None] - known[:, 0]).abs(), (cols[..., None] - known[:, 1]).abs())
depth = chess.min(-1).values  # chessboard distance to the nearest known pixel (0 on known pixels)
weights = torch.where(mask > 0, gamma ** (depth - 1).clamp(min=0).float(), torch.ones(10, 12))
# END SOLUTION

# %% tags=["check"]
check("spatial discount weights", weights, spatial_discount(mask, gamma), atol=1e-6)

# %% [markdown]
# ## Task 50.2 · Identity centres (Eq. 5)
#
# $$f_{id} = \frac{1}{N_{id}} \sum_{i:\,y_i = id} R_h(Y_i)$$
#
# the mean of the recognizer's high-level features over the clean training faces of each identity. Compute
# `centres` (3 identities x 4 features) for the features and labels below.

# %%
feats = torch.randn(7, 4)
identity = torch.tensor([0, 0, 1, 2, 2, 2, 1])

# %%
# BEGIN SOLUTION
centres = torch.stack([feats[identity == k].mean(0) for k in range(3)])
# END SOLUTION

# %% tags=["check"]
check("identity centres", centres, centres_from_features(feats, identity))

# %% [markdown]
# ## Task 50.3 · The identity-diversity loss (Eq. 6)
#
# $$L_R = \sum_{j\in\{l,h\}} \alpha_j \lvert R_j(X) - R_j(Y)\rvert + \beta\,\big[\lvert R_h(X) - f_{id}\rvert - \lvert R_h(Y) - f_{id}\rvert,\ 0\big]_+$$
#
# X the inpainted face, Y the clean one, R_l / R_h the recognizer's low / high-level features, |·| the squared
# l2 distance summed over a feature's elements, averaged over the batch; α_l = 0.5, α_h = 0.05, β = 0.5.
# Compute `l_r` below. The second term vanishes for one of the two images: which, and why is that the
# "diversity" the paper wants?

# %%
low_x, low_y = torch.randn(2, 6), torch.randn(2, 6)
high_y = torch.randn(2, 4)
centre = torch.randn(2, 4)
high_x = torch.stack([centre[0] + 0.1, centre[1] + 3.0])  # image 0 lies near its centre, image 1 far

# %%
# BEGIN SOLUTION
def sq(a, b):
    return ((a - b) ** 2).sum(1)


instance = 0.5 * sq(low_x, low_y) + 0.05 * sq(high_x, high_y)
diversity = torch.relu(sq(high_x, centre) - sq(high_y, centre))
l_r = (instance + 0.5 * diversity).mean()
# END SOLUTION

# %% tags=["check"]
check("Eq. 6 identity-diversity loss", l_r, identity_diversity_loss(low_x, low_y, high_x, high_y, centre))
