# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # Exercises 40 · FROM
#
# Three tasks on FROM's proximate occlusion patterns (Sec. 3.4) and its CosFace margin (Eq. 1). No training.

# %%
import torch

from occface.faces.patterns import grid_edges, pattern_labels, proximate_patterns
from occface.nn.margins import COSFACE, MarginSoftmax
from occface.papers.from_.model import num_patterns
from occface.notebook import check

torch.manual_seed(0)

# %% [markdown]
# ## Task 40.1 · How many proximate patterns for K = 4?
#
# FROM divides the face into a K x K grid of blocks. A *proximate occlusion pattern* is any rectangle of
# adjacent blocks (m x n blocks, 1 <= m, n <= K), plus one extra pattern for the clean face. Count them for
# K = 4, `n_patterns`, by enumerating the rectangles (or by a formula: a rectangle is a choice of two of the
# K + 1 horizontal grid lines and two of the K + 1 vertical ones).

# %%
K = 4

# %%
# BEGIN SOLUTION
rectangles = [(r0, c0, r1, c1) for r0 in range(K) for r1 in range(r0 + 1, K + 1)
              for c0 in range(K) for c1 in range(c0 + 1, K + 1)]
n_patterns = len(rectangles) + 1
# END SOLUTION

# %% tags=["check"]
check("number of proximate patterns, K = 4", n_patterns, proximate_patterns(K).shape[0], atol=0)
check("... and the formula (K(K+1)/2)^2 + 1", n_patterns, num_patterns(K), atol=0)

# %% [markdown]
# ## Task 40.2 · The pattern label of an occluder
#
# A training face occluded by a box gets the label of the pattern whose blocks overlap the box most
# (largest intersection over union, IoU). On a 112 x 96 face the grid lines are at
# `grid_edges(112, 4)` (rows) and `grid_edges(96, 4)` (columns). For the sunglasses-like box below
# (x0, y0, x1, y1), find the rectangle of blocks with the largest IoU and return its **(r0, c0, r1, c1)**
# (block rows r0..r1-1, columns c0..c1-1) as `best_blocks`.

# %%
box = torch.tensor([[10.0, 30.0, 90.0, 62.0]])
print("row edges", grid_edges(112, K), "column edges", grid_edges(96, K))

# %%
# BEGIN SOLUTION
ys, xs = grid_edges(112, K), grid_edges(96, K)
x0, y0, x1, y1 = box[0].tolist()


def iou(r0, c0, r1, c1):
    iw = max(0.0, min(x1, xs[c1]) - max(x0, xs[c0]))
    ih = max(0.0, min(y1, ys[r1]) - max(y0, ys[r0]))
    inter = iw * ih
    return inter / ((x1 - x0) * (y1 - y0) + (xs[c1] - xs[c0]) * (ys[r1] - ys[r0]) - inter)


best_blocks = max(rectangles, key=lambda r: iou(*r))
# END SOLUTION

# %% tags=["check"]
label = int(pattern_labels(box, (112, 96), K)[0])
rows, cols = proximate_patterns(K)[label].nonzero(as_tuple=True)
check("blocks of the best pattern (r0, c0, r1, c1)", best_blocks,
      (int(rows.min()), int(cols.min()), int(rows.max()) + 1, int(cols.max()) + 1), atol=0)

# %% [markdown]
# ## Task 40.3 · The CosFace logit (Eq. 1 with margins (0, 0, m3))
#
# FROM trains with CosFace: for a feature x and class weights W_j, the logit of class j is s cos θ_j, with
# cos θ_j the cosine between x and W_j, except the true class y, whose logit is s (cos θ_y - m). FROM uses
# s = 30, m = 0.35. Compute the (3, 5) logits `logits` for the features and labels below, from
# `head.weight` (one row per class).

# %%
head = MarginSoftmax(embedding=8, classes=5, **COSFACE)
features, labels = torch.randn(3, 8), torch.tensor([0, 3, 4])

# %%
# BEGIN SOLUTION
cos = torch.nn.functional.normalize(features) @ torch.nn.functional.normalize(head.weight).T
cos = cos - 0.35 * torch.nn.functional.one_hot(labels, 5)
logits = 30.0 * cos
# END SOLUTION

# %% tags=["check"]
with torch.no_grad():
    check("CosFace logits", logits.detach(), head(features, labels), atol=1e-5)
