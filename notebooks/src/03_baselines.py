# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # 03 · The comparison methods of the generative papers
#
# FSG-GAN compares itself with CycleGAN and DeepFill, OA-GAN with GFC, GnIpt, PConv and CSA, ID-GAN with
# PM, GFC, CL and CA. DeepFill, GnIpt and CA are one method (all three papers cite Yu et al., CVPR 2018),
# trained once here and called by any of its names. Every method is built once, behind one contract
# (`occface.methods`): `restorer(name, profile)` or `inpainter(name, profile)` trains it on the LFW
# training people with the training half of the occluder templates (or reloads its checkpoint), and every
# paper's notebook calls it by name.
#
# - **PM** — PatchMatch (Barnes et al. 2009), through the maintained `patchmatch-cython` package;
# - **GFC** — encoder–decoder with local and global discriminators and a semantic-parsing loss, trained in the
#   paper's three stages (reconstruction, + local adversarial, + global adversarial and parsing);
# - **DeepFill / CA / GnIpt** — coarse network + refinement with contextual attention, WGAN-GP global and
#   local critics, spatially discounted L1;
# - **PConv** — partial-convolution U-Net with valid / hole / TV / perceptual / style losses;
# - **CSA** — two stages with the coherent semantic attention layer and the paper's consistency loss;
# - **CL** — CoopNets (descriptor + generator by MCMC teaching), inpainting by Langevin dynamics on the hole;
# - **CycleGAN** — occluded <-> clean translation from unpaired sets; it finds the occlusion itself.
#
# Where a method needs ImageNet VGG-16 (PConv's and CSA's perceptual terms) we use FaceNet's blocks instead:
# no ImageNet weights can be had offline. GFC's parsing loss uses our frozen face parser, trained on
# landmark-polygon labels of LFW training faces (`occface.nn.parsing`), in place of GFC's Helen-trained one.

# %% tags=["parameters"]
profile = "quick"

# %%
import matplotlib.pyplot as plt

from occface.studies import compare
from occface.faces.data import load_faces
from occface.notebook import start_notebook
from occface.plots import image_grid

nb = start_notebook("baselines", profile,
                    "LFW deep-funneled (train: people outside View-2 folds 6-10; test: folds 6-10)")
P, res = nb.profile, nb.results

# %% [markdown]
# ## Training (or reloading) every method

# %%
methods, seconds = compare.load_methods(compare.BASELINES, P)
for name, s in seconds.items():
    print(f"{name:>9}: {methods[name][0]:9s} ready in {s:.0f} s")

# %% [markdown]
# ## Training curves
# Every loss term each method's trainer logged, against the step (faint: as logged; solid: a running mean).
# GFC's adversarial terms start at its second stage and its parsing term at its third; PM learns nothing.

# %%
fig = compare.training_curves(methods)
res.figure("training_curves", fig, title="Training losses of every comparison method, from its Trainer history")
plt.show()

# %% [markdown]
# ## The same faces under each occluder kind
# Rows: clean, occluded (test-half templates, unseen in training), then every method. The inpainters are
# given the true occluder mask; CycleGAN is not.

# %%
faces = load_faces("lfw", size=P.image_size, split="test", max_images=64, seed=1)
panels = compare.grids(methods, faces.images[:6], faces.landmarks[:6], ["sunglasses", "mouth_mask", "hand"])
for kind, rows in panels.items():
    fig = image_grid(rows, title=f"Every comparison method on held-out faces, {kind} (test templates)")
    res.figure(f"grid_{kind}", fig, title=f"Every comparison method on held-out faces with a {kind}")

# %% [markdown]
# ## PSNR, SSIM and recognisability on held-out people

# %%
table = compare.quality_table(methods, P, seconds)
table.write(res)
table.frame()

# %% [markdown]
# At `quick` every method trains for seconds at 32 px, so the ranking is not the papers'; at `default`
# (64 px, minutes per method) the learned inpainters should pass PM and the occluded input in PSNR. The
# dlib column asks the question the papers care about: does the restored face still look like its owner?

# %%
print(nb.finished())
