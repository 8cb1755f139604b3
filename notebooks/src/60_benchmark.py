# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # 60 · One benchmark for all five papers
#
# No paper compares itself with the other four: each brings its own data, occluders, recognizer and metric
# conventions. Here every method meets the same test:
#
# - **the same people**: held-out LFW View-2 folds 6-10, never trained on;
# - **the same occluders**: the unseen half of the templates of each kind, on the face where it belongs
#   (semantic placement), at three sizes (0.75, 1 and 1.25 times the kind's natural size);
# - **the same scorers**: `occface.eval.protocols` — verification judged by two pretrained networks that
#   none of the methods trained with (dlib's ResNet and FaceNet), rank-1 identification, PSNR / SSIM.
#
# Contestants: every de-occlusion method in the registry (RLA, IP-RLA, FSG-GAN, OA-GAN, ID-GAN and the
# comparison methods of 03_baselines), FROM as the alternative that recognises *through* the occluder, and two
# reference rows: the clean face and the occluded face left as it is. The inpainters (ID-GAN, PM, DeepFill,
# PConv, CSA, CoopNets) are given the true occluder mask; the restorers must find the occluder themselves.
# The library side is `occface.studies.benchmark`; this notebook only narrates and calls it.

# %% tags=["parameters"]
profile = "quick"

# %%
# NBVAL_CHECK_OUTPUT
import matplotlib.pyplot as plt
from IPython.display import display

import occface.notebook
from occface.studies import benchmark
from occface.pretrained.facenet import load_facenet

DATASET = "LFW deep-funneled, View-2 folds 6-10 (held out) + unseen occluder templates (OCCFACE_DATA)"
# quiet: its line names the hardware, and nbval compares this cell's output
nb = occface.notebook.start_notebook("benchmark", profile, DATASET, quiet=True)
P, res = nb.profile, nb.results
BUDGET = benchmark.Budget.for_profile(P)
print(f"profile {P.name}: {P.image_size} px faces, FROM at {benchmark.from_size(P)}")
print(BUDGET)

# %% [markdown]
# ## The contestants, trained or loaded
# Every method comes from the registry by name (`occface.methods`), trained at this profile on the
# LFW training people or reloaded from its checkpoint; a method registered later (GFC) joins automatically.
# The papers' ablation variants (FSG-GAN with the official losses, ID-GAN without its identity loss, ...) stay
# in their own notebooks.

# %%
contestants = benchmark.load_contestants(P)
facenet = benchmark.memoized(load_facenet().embed)
print("rows:", ", ".join(c.name for c in contestants))

# %% [markdown]
# ## Scoring
# Each method on every kind x size cell (dlib), and at the medium size PSNR / SSIM, FaceNet verification and
# rank-1 identification; then its speed on this machine.

# %%
timing_images, timing_masks = benchmark.timing_faces(P, BUDGET.speed_faces)
from_images, from_masks = benchmark.timing_faces(P, BUDGET.speed_faces, size=benchmark.from_size(P))
scores = []
for c in contestants:
    s = benchmark.evaluate(c, P, BUDGET, facenet=facenet)
    s.faces_per_second = benchmark.faces_per_second(c, *((from_images, from_masks) if c.role == "recognizer"
                                                         else (timing_images, timing_masks)))
    scores.append(s)
    print(f"{c.name:>12}: scored in {s.seconds:5.1f} s")

# %% [markdown]
# ## Leaderboard
# Sorted by dlib accuracy. Every number is the mean over the occluder kinds at the medium size, with its
# interval; `needs mask` marks the methods that were handed the true occluder mask.

# %%
table = benchmark.leaderboard(scores, BUDGET, P)
table.write(res)
display(benchmark.display_frame(table))

# %% [markdown]
# The key numbers, rounded to what is stable across CPUs (nbval checks this cell):

# %%
# NBVAL_CHECK_OUTPUT
for line in benchmark.key_numbers(scores):
    print(line)

# %% [markdown]
# Reading it: a de-occluder earns its place only above the `occluded` row — below it, the restored face is
# harder to recognise than the occluded one. The gap to `clean` is what is left to win. FROM's row is
# scored by its own features, not by dlib, so compare it with the other rows only through the ordering it
# keeps on its own scale (its clean accuracy is in 40_from). At `quick` every model trains for seconds at 32 px
# on a few pairs: the ranking means nothing yet; `default` is the run to read.

# %% [markdown]
# ## Accuracy against occluded area
# The x-axis of 02_evaluation's figure: the occluded fraction of the aligned face image. One curve per method
# through the three sizes (each point the mean over kinds).

# %%
fig = benchmark.accuracy_vs_area(scores)
res.figure("accuracy_vs_area", fig, title="Verification accuracy against occluded-area fraction, every method")
benchmark.grid_table(scores, BUDGET).write(res)
display(fig)
plt.close(fig)

# %% [markdown]
# ## Per occluder kind
# dlib accuracy per method and kind at the medium size (FROM: its own features), and the best de-occluder
# for each kind.

# %%
fig = benchmark.kind_heatmap(scores)
res.figure("kinds_heatmap", fig, title="Verification accuracy per method and occluder kind (medium size)")
display(fig)
plt.close(fig)
for kind, name in benchmark.best_per_kind(scores).items():
    print(f"best on {kind:>11}: {name}")

# %% [markdown]
# ## Real occlusions
# Synthetic occluders are pasted; real ones are worn. LFW's held-out photos with natural sunglasses or
# eyeglasses (Kumar et al.'s attribute classifiers, `$OCCFACE_DATA/lfw/attributes/`), against the same
# people's photos without (`occface.eval.real`, the set of RLA's Table II), and any folder named by
# `OCCFACE_REAL_OCCLUSIONS` (the `protocols.load_folder` layout). Every clean x occluded photo pair is scored;
# EER with an interval over the occluded photos. No true mask exists here: the inpainters get OA-GAN's
# predicted mask.

# %%
from occface.papers.oa_gan.registration import trained as oa_gan_trained

sets = benchmark.real_sets(P.image_size, BUDGET.real_people)
real = benchmark.real_occlusion_table(contestants, sets, oa_gan_trained(P).predict_mask)
if real is not None:  # None when no real-occlusion photo was selected
    real.write(res)
    display(real.frame())

# %% [markdown]
# ## Try it
# Every method on one face, live: pick the face, the occluder, its size, position and rotation.

# %%
from occface import widgets

display(widgets.compare([c.name for c in contestants if c.restores], profile=P.name))

# %%
print(nb.finished())
