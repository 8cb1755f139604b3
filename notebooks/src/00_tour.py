# %% [markdown]
# # 00 · A tour of occface
#
# This companion regenerates the tables and figures of five papers on occluded faces — **RLA**, **FSG-GAN**,
# **OA-GAN** (remove the occluder), **FROM** (recognise through it) and **ID-GAN** (both) — from real faces.
# This notebook walks the machinery end to end: load real LFW faces, hide them behind occluders, and write one
# table and one figure through the results writer that every paper's notebook uses.
#
# Run it with a profile (`quick` for class, `default` on a CPU, `full` on a GPU); `make reproduce` does this
# for every notebook through papermill.

# %% tags=["parameters"]
profile = "quick"

# %%
import matplotlib.pyplot as plt

from occface.faces.data import lfw_pairs, list_images, load_faces
from occface.faces.occlusion import occlude
from occface.plots import image_grid
from occface.profiles import get_profile
from occface.results import Cell, Results
from occface.runtime import seed_everything

P = get_profile(profile)
seed_everything(0)
res = Results("tour", profile=P.name, dataset="LFW deep-funneled (OCCFACE_DATA)", seed=0)
print(P)

# %% [markdown]
# ## Real faces
# Every face is aligned to one five-point template (eyes, nose tip, mouth corners) and cached, so the second
# load is fast. Training uses only people who appear in none of the test folds 6–10 of LFW's View 2.

# %%
faces = load_faces("lfw", size=P.image_size, split="test", max_images=16, seed=0)
print(faces.report())

# %% [markdown]
# ## The data we stand on, counted
# The LFW paper (Huang et al., 2007) reports 13,233 images of 5,749 people and 6,000 View-2 pairs in 10 folds.

# %%
# NBVAL_CHECK_OUTPUT
images = list_images("lfw")
people = {path.split("/")[-2] for path in images}
all_pairs, test_pairs = lfw_pairs(range(1, 11)), lfw_pairs(range(6, 11))
counts = {"images": (len(images), 13233), "people": (len(people), 5749),
          "View-2 pairs": (len(all_pairs), 6000), "test pairs (folds 6-10)": (len(test_pairs), None)}
res.table("lfw_counts", [Cell(row, "LFW", ours, paper, unit="count") for row, (ours, paper) in counts.items()],
          title="LFW as loaded from OCCFACE_DATA vs the LFW report", digits=0)
for row, (ours, paper) in counts.items():
    print(f"{row:>24}: {ours:6d}  (published {paper or '-'})")

# %% [markdown]
# ## Hiding faces
# `occlude` pastes an occluder on a whole batch at once: landmark-anchored (`semantic`, as RLA and OA-GAN do),
# anywhere at scale S (`random`, FROM's Alg. 1) or over a face region. It also returns the occluder's mask.

# %%
kinds = ["sunglasses", "mouth_mask", "hand", "cup"]
rows = {"clean": faces.images[:6]} | {k: occlude(faces.images[:6], k, placement="semantic",
                                                 landmarks=faces.landmarks[:6], seed=i).images
                                      for i, k in enumerate(kinds)}
fig = image_grid(rows, title="Real LFW test faces, clean and occluded")
res.figure("faces_and_occluders", fig, title="LFW test faces under four occluder kinds")
plt.show()

# %% [markdown]
# ## How to read the results
# Every table puts our number beside the paper's: in the notebooks as `ours [low, high] (paper)`, in the
# Markdown files under `results/` as an `(ours)` and a `(paper)` column. A cell without a paper number is ours
# only; `—` means we could not compute it (the table's notes say why).
#
# **The metrics** (all in `occface.eval.metrics` unless named):
#
# - **EER** (equal error rate, %, lower is better): verification accepts a pair of faces as one person when their
#   similarity passes a threshold; the false accept rate (FAR: impostor pairs accepted) falls and the false reject
#   rate (FRR: genuine pairs rejected) rises with the threshold. The EER is their common value where they cross,
#   interpolated on the ROC (`eer`).
# - **TAR@FAR** (%, higher is better): the true accept rate (1 − FRR) at the threshold that gives a fixed FAR,
#   e.g. TAR@FAR = 1e-3 (`tar_at_far`); empty where fewer than 1/FAR impostor pairs exist.
# - **Accuracy** (%, higher is better): LFW's 10-fold verification accuracy — in each fold the threshold is chosen on
#   the other nine, then the fold's pairs are scored (`lfw_accuracy`).
# - **Rank-k** (%, higher is better): closed-set identification — a probe face counts when its own identity is among
#   the k gallery identities most similar to it; rank-1 is "the best match is right" (`rank_k`).
# - **PSNR** (dB, higher is better): $10 \log_{10}(1/\mathrm{MSE})$ of a restored face against the clean one, on
#   [0, 1] images (`psnr`); the occluded face itself is the baseline every restorer must beat.
# - **SSIM** (0 to 1, higher is better): structural similarity of local means, variances and covariances in a
#   Gaussian window (σ = 1.5), 1 for identical images (`ssim`).
# - **Mask IoU** (0 to 1): intersection over union of a predicted occlusion mask, thresholded, with the occluder's
#   true mask (`occface.papers.oa_gan.tables.mask_iou`); RLA's detector is also scored by its pixel **ROC-AUC**
#   (0.5 = chance, 1 = perfect).
# - **Silhouette** (−1 to 1, higher is better): how well one person's features cluster apart from other people's,
#   $(b - a)/\max(a, b)$ with $a$ the mean distance to the same person's faces and $b$ to the nearest other person's,
#   averaged over faces (`occface.papers.id_gan.figures.silhouette_interval`).
#
# **One interval notation**: `x [low, high]`. Unless a table says otherwise it is a 95 % confidence interval from
# a seeded bootstrap (resampling the pairs, faces or probes the number was computed on; by person where the table
# says so). In a table over training seeds (`*_seeds`) it is instead the mean ± one standard deviation over the
# seeds, written `[mean − sd, mean + sd]`, and the table's legend says so. A bare `±` only ever means a standard
# deviation (e.g. 02's 10-fold accuracy, ± over the folds).
#
# **Claims**: each paper notebook ends by judging the paper's orderings ("FROM > Baseline") on our intervals
# (`occface.claims`). A claim **holds** when the two 95 % intervals do not overlap and the order is the claimed
# one; it **does not hold** when they do not overlap and the order is reversed; it is **within noise** when the
# intervals overlap, whatever the two point values say — our sample cannot tell the two apart (not the same as
# "equal"). Non-overlap is a strict test (about p < 0.006 for two normal estimates), so "holds" is a strong
# statement. A side with no number is **not measured**.

# %% [markdown]
# ## Where to go next
# - `01_faces_and_occlusions`: every occluder kind and placement, area statistics, and a live explorer.
# - `02_evaluation`: the one protocol every paper is scored with (dlib's recognizer, EER, 10-fold accuracy).
# - `10_rla`, `40_from`: the papers' own tables, with the paper's number beside ours.
# - `notebooks/exercises/`: short tasks with automatic checks (an EER by hand, the blend of OA-GAN's Eq. 2, ...).
