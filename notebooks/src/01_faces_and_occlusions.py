# %% [markdown]
# # 01 Faces and occlusions
# Real LFW faces aligned to the five-point template (`occface.faces.data`) and every synthetic occlusion of the five
# papers (`occface.faces.occlusion`): the nine RLA/FROM occluder types from RGBA templates, ID-GAN's blocks, FROM's
# nine regions and RLA's categories, with semantic (landmark-anchored), random (FROM Alg. 1) and region
# placements. The occluded-area fractions for FROM's scale S are compared with the paper's 18.76 / 43.09 /
# 52.00 % (Sec. 4.1, LFW, 112x96).

# %% tags=["parameters"]
profile = "quick"

# %%
import time

import matplotlib.pyplot as plt
import torch

from occface.faces.data import load_faces
from occface.faces.occlusion import GEOMETRIC, KINDS, PLACEMENTS, occlude
from occface.knobs import FacesKnobs
from occface.profiles import get_profile
from occface.plots import image_grid
from occface.results import Cell, Results
from occface.widgets import draw, explorer, render

torch.set_num_threads(1)
P = get_profile(profile)
knobs = FacesKnobs.for_profile(P)
size = knobs.gallery_size
res = Results("faces", P.name, "LFW deep-funneled (View-2 folds 6-10 people)", seed=0)
start = time.perf_counter()
faces = load_faces("lfw", size, "test", max_images=64, seed=0)
print(faces.report())
print(f"loaded in {time.perf_counter() - start:.1f}s (cache read {faces.info['load_seconds']}s)")

# %% [markdown]
# ## Gallery: every kind x placement on real faces

# %%
kinds = list(KINDS + GEOMETRIC)
gallery = {}
for i, placement in enumerate(PLACEMENTS):
    shots = []
    for j, kind in enumerate(kinds):
        k = (3 * j + i) % len(faces)  # a different face per cell
        shots.append(occlude(faces.images[k:k + 1], kind, 1.0, placement, landmarks=faces.landmarks[k:k + 1],
                             seed=j, rotation=15 if placement != "region" else 0).images)
    gallery[placement] = torch.cat(shots)
fig = image_grid(gallery, [k.replace("_", "\n", 1) for k in kinds], size=0.9, fontsize=5)
res.figure("gallery", fig, title="Every occlusion kind (columns) x placement (rows) on LFW faces")
plt.show()

# %% [markdown]
# ## Occluded area per kind (semantic placement) and per FROM scale S (random placement, Alg. 1)
# FROM reports the area of the pasted box clipped to the image (`box_area`); `area` counts occluder pixels.
# Random placement does not depend on the image content, so S is measured on 112x96 frames (FROM's crop).

# %%
n_area = knobs.area_samples
frame = torch.zeros(n_area, 3, 112, 96)
paper = {1.0: 18.76, 2.0: 43.09, 3.0: 52.00}
cells, by_scale = [], {}
for S, ref in paper.items():
    box_area = torch.cat([occlude(frame[i::9], kind, S, "random", seed=100 + i, templates="all").box_area
                          for i, kind in enumerate(KINDS)])
    pix_area = torch.cat([occlude(frame[i::9], kind, S, "random", seed=100 + i, templates="all").area
                          for i, kind in enumerate(KINDS)])
    by_scale[S] = box_area.numpy()
    cells.append(Cell(f"S={S:.0f}", "box area", 100 * box_area.mean().item(), ref))
    cells.append(Cell(f"S={S:.0f}", "occluder pixels", 100 * pix_area.mean().item(), None))
res.table("area_fractions", cells, title="Occluded area (% of the 112x96 face) by FROM's scale S",
          notes=["Random placement (FROM Alg. 1), the nine kinds in equal shares, all templates, seeds 100+.",
                 "Natural template size (S=1) = the kind's semantic size on the template face (our choice; "
                 "FROM's occluder pixel sizes are not published).",
                 "Paper: FROM Sec. 4.1, LFW, random seed 100."])
for c in cells:
    print(f"{c.row} {c.column}: ours {c.ours:.2f}%  paper {c.paper if c.paper is not None else '-'}")

per_kind = {}
for kind in KINDS:
    o = occlude(faces.images, kind, 1.0, "semantic", landmarks=faces.landmarks, seed=1, templates="all")
    per_kind[kind] = o.area.numpy()
fig, axes = plt.subplots(1, 2, figsize=(9, 3))
axes[0].boxplot(list(per_kind.values()), tick_labels=list(per_kind), showfliers=False)
axes[0].tick_params(axis="x", labelrotation=60, labelsize=7)
axes[0].set_ylabel("occluded fraction (pixels)")
axes[0].set_title("semantic placement, per kind", fontsize=9)
for S, v in by_scale.items():
    axes[1].hist(v, bins=30, alpha=0.5, label=f"S={S:.0f} (mean {100 * v.mean():.1f}%, paper {paper[S]}%)")
axes[1].set_xlabel("box area fraction")
axes[1].legend(fontsize=7)
axes[1].set_title("random placement (FROM Alg. 1), per S", fontsize=9)
fig.tight_layout()
res.figure("area_histograms", fig, title="Occluded-area distributions per kind and per FROM scale S")
plt.show()

# %% [markdown]
# ## Explorer
# Face, kind, placement, rotation and size; the right panel is FROM's K x K proximate pattern (K=4) with
# the largest IoU with the occluder's box. (Static below; interactive in a live kernel.)

# %%
fig = plt.figure(figsize=(6, 2.2))
draw(fig, render(faces.images, faces.landmarks, 0, "sunglasses", "semantic", rotation=10, scale=1.0, K=4))
plt.show()
explorer(faces.images[:16], faces.landmarks[:16], K=4)
