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
# ## Where to go next
# - `01_faces_and_occlusions`: every occluder kind and placement, area statistics, and a live explorer.
# - `02_evaluation`: the one protocol every paper is scored with (dlib's recognizer, EER, 10-fold accuracy).
# - `10_rla`, `40_from`: the papers' own tables, with the paper's number beside ours.
