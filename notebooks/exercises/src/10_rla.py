# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # Exercises 10 · RLA (robust LSTM-autoencoder)
#
# Three tasks on the pieces of `occface.papers.rla.model`, on random tensors: no training, no data.
# RLA reads a grey face patch by patch with LSTMs, writes a reconstruction X^rec and an occlusion score map
# S^det, and blends them with the occluded input X^occ (Eq. 13).

# %%
import torch

from occface.papers.rla.model import LSTMCell, RLAOutput, blend, mse_loss
from occface.notebook import check

torch.manual_seed(0)

# %% [markdown]
# ## Task 10.1 · One step of the LSTM cell (Eq. 1)
#
# $$i_t = \sigma(W_i x_t + U_i h_{t-1} + b_i),\quad f_t = \sigma(\cdot),\quad o_t = \sigma(\cdot),\quad
# g_t = \tanh(W_g x_t + U_g h_{t-1} + b_g)$$
# $$c_t = f_t \odot c_{t-1} + i_t \odot g_t, \qquad h_t = o_t \odot \tanh(c_t)$$
#
# `cell.x` is the linear map of the input (weight W, bias b) and `cell.h` that of the previous hidden state
# (weight U, no bias); their outputs hold the four gates stacked in the order **i, f, g, o**. Compute
# `(h_new, c_new)` by hand from the weights.

# %%
cell = LSTMCell(inputs=3, hidden=4)
x, h, c = torch.randn(2, 3), torch.randn(2, 4), torch.randn(2, 4)

# %%
# BEGIN SOLUTION
pre = x @ cell.x.weight.T + cell.x.bias + h @ cell.h.weight.T
i, f, g, o = pre.chunk(4, dim=1)
c_new = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
h_new = torch.sigmoid(o) * torch.tanh(c_new)
# END SOLUTION

# %% tags=["check"]
with torch.no_grad():
    lib_h, lib_c = cell(x, (h, c))
check("LSTM memory c_t", c_new.detach(), lib_c)
check("LSTM hidden state h_t", h_new.detach(), lib_h)

# %% [markdown]
# ## Task 10.2 · The occlusion-aware blend (Eq. 13)
#
# $$\tilde X = X^{rec} \odot S^{det} + X^{occ} \odot (1 - S^{det})$$
#
# S^det in [0, 1] says how sure the detector is that a pixel is occluded. Compute `recovered` for the tensors
# below. Where the detector says 0 everywhere, what comes out?

# %%
occluded = torch.rand(2, 1, 8, 8)
reconstruction = torch.rand(2, 1, 8, 8)
scores = torch.zeros(2, 1, 8, 8)
scores[:, :, 2:5, 1:7] = 0.9  # the detector believes rows 2-4 are covered (sunglasses)

# %%
# BEGIN SOLUTION
recovered = reconstruction * scores + occluded * (1 - scores)
# END SOLUTION

# %% tags=["check"]
check("Eq. 13 blend", recovered, blend(reconstruction, occluded, scores))
check("outside the detected rows the input passes through", recovered[:, :, 6:], occluded[:, :, 6:])

# %% [markdown]
# ## Task 10.3 · The loss (Eq. 14) and its gradient for the detector (Eq. 16)
#
# $$L_{mse} = \frac{1}{2K}\sum_{i=1}^{K} \lVert X^{rec}_i \odot S_i + X^{occ}_i \odot (1 - S_i) - X_i \rVert_F^2$$
#
# over a batch of K faces with clean faces X. Compute `loss` for the batch above with `clean` below, and the
# gradient of the loss with respect to the scores S **by hand** (`grad_scores`, same shape as `scores`):
# differentiate the expression above. Where X^rec = X^occ the detector gets no gradient at all: why does this
# matter early in training?

# %%
clean = torch.rand(2, 1, 8, 8)

# %%
# BEGIN SOLUTION
K = clean.shape[0]
loss = 0.5 * ((recovered - clean) ** 2).sum() / K
grad_scores = (recovered - clean) * (reconstruction - occluded) / K
# END SOLUTION

# %% tags=["check"]
s = scores.clone().requires_grad_(True)
out = RLAOutput(blend(reconstruction, occluded, s), reconstruction, s, [], [], occluded)
lib_loss = mse_loss(out, occluded, clean)
lib_loss.backward()
check("Eq. 14 loss", loss, lib_loss.detach())
check("Eq. 16 gradient dL/dS", grad_scores, s.grad)
