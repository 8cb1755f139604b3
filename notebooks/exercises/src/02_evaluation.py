# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # Exercises 02 · Evaluation metrics
#
# The metrics every paper notebook reports, computed by hand from made-up scores and checked against
# `occface.eval.metrics` (and scikit-learn / scikit-image). A *score* is the similarity of two faces
# (higher = more likely the same person); a *genuine* pair shows one person twice, an *impostor* pair two
# people.

# %%
import numpy as np
from sklearn.metrics import roc_curve
from skimage.metrics import peak_signal_noise_ratio

from occface.eval import metrics
from occface.notebook import check

rng = np.random.default_rng(0)
genuine = rng.normal(0.6, 0.15, 300)    # same-person similarities
impostor = rng.normal(0.2, 0.15, 1000)  # different-person similarities
scores = np.r_[genuine, impostor]
same = np.r_[np.ones(genuine.size), np.zeros(impostor.size)]

# %% [markdown]
# ## Task 2.1 · The ROC curve
#
# Accept a pair as "same person" when its score is at least a threshold t. The **false accept rate**
# FAR(t) is the fraction of impostor pairs accepted, the **true accept rate** TAR(t) the fraction of genuine
# pairs accepted. Compute `fpr, tpr` (FAR and TAR) over every threshold with scikit-learn's `roc_curve`
# (keep every point: `drop_intermediate=False`).

# %%
# BEGIN SOLUTION
fpr, tpr, thresholds = roc_curve(same, scores, drop_intermediate=False)
# END SOLUTION

# %% tags=["check"]
lib_fpr, lib_tpr, _ = metrics.roc(genuine, impostor)
check("FAR along the ROC", fpr, lib_fpr)
check("TAR along the ROC", tpr, lib_tpr)

# %% [markdown]
# ## Task 2.2 · The equal error rate (EER)
#
# The false reject rate is FRR = 1 - TAR. The **EER** is the error rate at the threshold where FAR = FRR.
# The ROC is a list of points, so the crossing usually falls between two of them: find the first point where
# FRR - FAR <= 0 and interpolate linearly between it and the point before. Put the result in `eer`
# (a fraction, not a percentage).

# %%
# BEGIN SOLUTION
frr = 1 - tpr
diff = frr - fpr
j = int(np.argmax(diff <= 0))
t = diff[j - 1] / (diff[j - 1] - diff[j])
eer = fpr[j - 1] + t * (fpr[j] - fpr[j - 1])
# END SOLUTION

# %% tags=["check"]
check("EER", eer, metrics.eer(genuine, impostor), atol=1e-3)

# %% [markdown]
# ## Task 2.3 · TAR at a fixed FAR
#
# Systems are often compared at a fixed false accept rate: the TAR at FAR = 1 %. Read it off the ROC by
# linear interpolation (`np.interp` over FAR values; where one FAR has several points keep the highest TAR).
# Why would FAR = 0.01 % be meaningless with 1000 impostor pairs?

# %%
# BEGIN SOLUTION
ufpr, start = np.unique(fpr, return_index=True)
tar_at_1pct = np.interp(0.01, ufpr, np.maximum.reduceat(tpr, start))
# END SOLUTION

# %% tags=["check"]
check("TAR @ FAR = 1 %", tar_at_1pct, metrics.tar_at_far(genuine, impostor, 0.01), atol=1e-3)

# %% [markdown]
# ## Task 2.4 · Rank-k identification and PSNR
#
# **Identification**: each probe face is compared with a gallery of known people; it counts as found at
# rank k when its own identity is among the k most similar gallery identities (cosine similarity). Compute
# the rank-1 rate `rank1` for the features below.
#
# **PSNR** of a restored image against the clean one: 10 log10(R^2 / MSE), R the data range (1 here).
# Compute `psnr` for `restored` against `clean` (one image, values in [0, 1]); scikit-image has it.

# %%
ids = np.arange(20)
gallery = rng.normal(size=(20, 16))
probes = gallery + rng.normal(scale=1.2, size=(20, 16))
clean = rng.uniform(size=(3, 32, 32))
restored = np.clip(clean + rng.normal(scale=0.05, size=clean.shape), 0, 1)

# %%
# BEGIN SOLUTION
unit = lambda f: f / np.linalg.norm(f, axis=1, keepdims=True)
similarity = unit(probes) @ unit(gallery).T
rank1 = np.mean(ids[similarity.argmax(1)] == ids)
psnr = peak_signal_noise_ratio(clean, restored, data_range=1.0)
# END SOLUTION

# %% tags=["check"]
check("rank-1 identification rate", rank1, metrics.rank_k((gallery, ids), (probes, ids), k=1))
check("PSNR (dB)", psnr, metrics.psnr(restored, clean), atol=1e-6)
