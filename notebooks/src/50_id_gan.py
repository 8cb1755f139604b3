# %% [markdown]
# # 50 · ID-GAN: occluded face recognition by identity-diversity inpainting
#
# Ge, Li, Zhao, Zeng, *Occluded Face Recognition in the Wild by Identity-Diversity Inpainting* (TCSVT 2020).
# Three players: a **generator** {I, S} (an encoder-decoder inpainting network I with dilated convolutions, a
# spatially discounted L2 loss, Eq. 2, and a frozen face parser S whose parsing of the inpainted face must
# match the ground truth's, Eq. 3), **global and local discriminators** (Eq. 4), and a frozen **recognizer**
# R whose identity-diversity loss (Eq. 6) pulls the inpainted face's features towards the ground truth's and
# asks it to be at least as near its identity centre (Eq. 5) as the ground truth is.
#
# No official code exists: `occface.papers.id_gan.model` is the first public ID-GAN and states, beside the
# code, every choice the paper leaves open. The parser lives in `occface.faces.parsing`, the training in
# `occface.papers.id_gan.train`, the tables in `occface.papers.id_gan.tables`.
#
# What differs from the paper, on purpose: we train on LFW's training identities (no CelebA) and test on the
# people of View-2 folds 6-10; R is FaceNet (CASIA-WebFace) instead of VGGFace; S is a small U-Net trained
# on landmark-polygon labels of LFW faces (10 classes; GFC's parser has 11, with hair); the `quick` and
# `default` profiles shrink images, widths and schedules (`full` uses 128x128 and the paper's learning rates).

# %% tags=["parameters"]
profile = "quick"

# %%
from occface.faces import parsing
from occface.notebook import start_notebook
from occface.papers.id_gan import published, tables, train
from occface.plots import image_grid

nb = start_notebook("id_gan", profile, "LFW deep-funneled (OCCFACE_DATA)")
P, res = nb.profile, nb.results
cfg = train.IDGANTrainConfig.for_profile(P)
print(cfg)

# %% [markdown]
# ## The structure network S
# dlib's 68-point predictor runs on the aligned faces inside one fixed box, the landmark polygons give ten
# classes, and a small U-Net learns them; frozen, it is S in Eq. 3. Pixel accuracy and per-class recall on
# held-out faces:

# %%
pcfg = parsing.ParserConfig.for_profile(P)
parser = parsing.frozen_parser(P)
held_images, held_labels = parsing.labelled_faces(pcfg, "test")
accuracy = parsing.parser_accuracy(parser, held_images, held_labels)
print({k: round(v, 3) for k, v in accuracy.items()})
fig = parsing.parsing_figure(parser, held_images, held_labels)
res.figure("parsing", fig, title="Held-out faces, their landmark-polygon labels and the frozen parser S")

# %% [markdown]
# ## Training Our-w/oID and Our-wID
# Each face is flipped, shifted and rotated (up to 15 degrees), then covered by an m x m white block at a
# random position (m = 48 at 128x128, scaled). Adam, beta1 0.9 for I and 0.5 for the critics. Loss histories
# (per-image sums, GFC's scale, on which the paper's lambdas were set):

# %%
trained = {}
for column, identity in (("Our-w/oID", "none"), ("Our-wID", "diversity")):
    run = train.IDGANTrainConfig.for_profile(P, identity=identity)
    trained[column] = train.train_id_gan(run)
    h = trained[column].history
    print(column, {k: f"{v[0]:.3g} -> {v[-1]:.3g}" for k, v in h.items()})

# %% [markdown]
# How hard each term of Eq. 7 pulls on I (gradient norm of the weighted term w.r.t. I's parameters, one
# batch): with a unit-norm R embedding and the paper's lambda_R = 0.0002, the recognizer barely moves I.

# %%
wid = train.IDGANTrainConfig.for_profile(P, identity="diversity")
balance = train.gradient_balance(wid, trained["Our-wID"].model.train())
trained["Our-wID"].model.eval()
print({k: f"{v:.3g}" for k, v in balance.items()})

# %% [markdown]
# ## Fig. 4 — inpainting results
# Held-out faces, the white block, and each method's inpainting (PM = PatchMatch).

# %%
rows = tables.examples(P, ("PM", "Our-w/oID", "Our-wID"))
fig = image_grid(rows)
res.figure("fig4", fig, title="GT, occluded (OCC), PM, Our-w/oID and Our-wID on held-out LFW faces")

# %% [markdown]
# ## Table II — PSNR / SSIM
# GFC, CL and CA join when the baselines are registered (`occface.baselines.registry`); at `quick` only the
# fast columns run.

# %%
columns = ("OCC", "PM", "Our-w/oID", "Our-wID") if P.name == "quick" else tables.TABLE2_METHODS
table2 = tables.table2(P, columns, max_images=100 if P.name == "quick" else None)
table2.write(res)
table2.frame()

# %% [markdown]
# ## Table III — verification after inpainting
# The shared protocol (one image of each held-out pair occluded, first then second), scored by dlib and by
# FaceNet (which is also R, as VGGFace is in the paper's first row). At `quick`: FaceNet only, 30 pairs.

# %%
if P.name == "quick":
    table3 = tables.table3(P, ("OCC", "PM", "Our-w/oID", "Our-wID", "GT"), max_pairs=30, rows=("FaceNet",))
else:
    table3 = tables.table3(P)
table3.write(res)
table3.frame()

# %%
print("paper, Table III (VGGFace2 row):", dict(zip(published.TABLE3_COLUMNS, published.TABLE3["VGGFace2"])))
print(nb.finished())
