# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # Exercises 01 · Faces and occlusions
#
# Two short tasks on `occface.faces.occlusion.occlude`, the function every notebook uses to put an occluder
# on a face. Nothing is trained; each cell runs in well under a second. Write your code where it says
# `YOUR CODE HERE`, then run the check cell below it: it compares your answer with the library's.
#
# The images here are plain grey 112x96 "faces" (FROM's crop size): the occluders used are the geometric
# kinds (rectangles), which need no template files.

# %%
import torch

from occface.faces.occlusion import occlude
from occface.notebook import check

faces = torch.full((6, 3, 112, 96), 0.5)
occ = occlude(faces, "block_black", scale=2.0, placement="random", seed=3)
print("mask", tuple(occ.mask.shape), "box (x0, y0, x1, y1) of the first image:", occ.box[0].tolist())

# %% [markdown]
# ## Task 1.1 · The occluded-area fraction
#
# `occ.mask` is 1 where the occluder was pasted, 0 elsewhere (shape N x 1 x H x W). FROM plots accuracy
# against the *occluded area*: the fraction of the image the occluder covers. Compute it for each of the six
# images, as a tensor `area` of shape (6,).

# %%
# BEGIN SOLUTION
area = occ.mask.float().mean(dim=(1, 2, 3))
# END SOLUTION

# %% tags=["check"]
check("occluded-area fraction per image", area, occ.area)

# %% [markdown]
# ## Task 1.2 · The clipped box
#
# With `placement="random"` (FROM's Algorithm 1) the occluder is centred on any pixel and may spill over the
# border. `occ.box` holds the pasted rectangle **clipped to the image**, as x0, y0, x1, y1 in continuous
# pixel coordinates (pixel i covers [i, i+1)). Compute from the boxes alone the fraction of the 112 x 96
# image each box covers (`box_area`, shape (6,)). For a black rectangle, should it equal Task 1.1's answer?

# %%
# BEGIN SOLUTION
h, w = faces.shape[-2:]
x0, y0, x1, y1 = occ.box.unbind(1)
box_area = (x1 - x0) * (y1 - y0) / (h * w)
# END SOLUTION

# %% tags=["check"]
check("clipped box area fraction", box_area, occ.box_area)
check("a rectangle fills its box", box_area, occ.area, atol=1e-3)
