# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # 02 · Evaluation: how every paper is scored
#
# One independent judge scores every de-occluder of the five papers: **dlib's 128-D ResNet**
# (face-recognition-models, 99.38% published LFW accuracy), never trained here. It stands in for the
# papers' ArcFace / VGGFace2 evaluators. Our faces are aligned to one fixed five-point template; the
# evaluator warps them (one `grid_sample` per batch) to dlib's own 150x150 chip geometry. dlib's network
# runs in torch (`occface.pretrained.dlib_resnet`, read from dlib's own model file): the first cell below
# checks that it gives dlib's descriptors. A second pretrained judge, **FaceNet** (Inception-ResNet-v1,
# CASIA-WebFace, `occface.pretrained.facenet`), scores beside it.
#
# Protocol (`occface.eval.protocols.verification`): held-out LFW View-2 pairs (folds 6-10, people never
# trained on); one image of each pair occluded, the first and then the second (RLA's protocol, doubling the
# pairs); EER, 10-fold accuracy (threshold chosen on the other nine folds), TAR@FAR.
#
# This notebook: dlib on clean vs occluded LFW for every occluder kind, every FROM region and FROM's scales
# S; accuracy against occluded area; our trained recognizers (LResNet-IR, LightCNN-9, FROM Eq. 1 CosFace
# loss) beside dlib; t-SNE of five people clean vs occluded.

# %% tags=["parameters"]
profile = "quick"

# %%
# NBVAL_CHECK_OUTPUT
import dataclasses
import time

import matplotlib.pyplot as plt
import numpy as np

from occface.eval import metrics, protocols
from occface.eval.recognizers import dlib_evaluator, train_recognizer
from occface.eval.sweeps import kind_sweep, region_sweep, scale_sweep, verification_cells
from occface.faces.data import load_faces
from occface.faces.occlusion import occlude
from occface.knobs import EvaluationKnobs
from occface.notebook import start_notebook
from occface.pretrained.dlib_resnet import compare_with_dlib
from occface.pretrained.facenet import compare_with_opencv, load_facenet
from occface.plots import label_points
from occface.results import Cell

SEED = 0
# two threads: the evaluator only runs inference, and this notebook trains nothing the cache reuses elsewhere
nb = start_notebook("evaluation", profile, "LFW deep-funneled, View-2 folds 6-10 (held out)", SEED, threads=2,
                    quiet=True)
P, res = nb.profile, nb.results
# the clean reference uses every held-out pair at default; each sweep row a seeded, balanced subset (each
# sweep pair embeds two occluded faces)
BUDGET = dataclasses.asdict(EvaluationKnobs.for_profile(P))
FARS = (1e-2, 1e-3)
print(P.name, "image size", P.image_size, "budget", BUDGET)


# %% [markdown]
# ## The evaluator in torch gives dlib's descriptors
# The same 150x150 chips through dlib's own `compute_face_descriptor` and through the torch port: the
# largest per-dimension difference, and whether every pair of these faces gets the same same/different
# decision at dlib's 0.6 threshold.

# %%
check_faces = load_faces("lfw", size=P.image_size, split="test", max_images=BUDGET["check"], seed=SEED)
agree = compare_with_dlib(dlib_evaluator().chips(check_faces.images))
facenet = load_facenet()
fn_agree = compare_with_opencv(facenet.chips(check_faces.images[: min(200, BUDGET["check"])]))
res.table("evaluator_ports", [
    Cell("torch-dlib vs dlib", "faces", agree["n"], unit="faces"),
    Cell("torch-dlib vs dlib", "max |diff| per dimension", agree["max_abs_diff"], unit=""),
    Cell("torch-dlib vs dlib", "same decisions at 0.6 (%)", 100 * agree["decisions_agree"], unit="%"),
    Cell("torch-FaceNet vs OpenCV", "faces", fn_agree["n"], unit="faces"),
    Cell("torch-FaceNet vs OpenCV", "min cosine", fn_agree["min_cosine"], unit="")],
    title="The ported evaluators against their originals", digits=7,
    notes=[f"decisions over all {agree['n_pairs']} pairs of the {agree['n']} faces"])
print(f"torch vs dlib: max |diff| {agree['max_abs_diff']:.1e}, {100 * agree['decisions_agree']:.2f}% of "
      f"{agree['n_pairs']} decisions agree; FaceNet vs OpenCV: min cosine {fn_agree['min_cosine']:.6f}")

# %%
# NBVAL_CHECK_OUTPUT
clean = protocols.verification(profile, max_pairs=BUDGET["clean"], far=FARS)
print(f"dlib, clean held-out pairs: accuracy {100 * clean['accuracy']:.2f}% ± {100 * clean['accuracy_std']:.2f} "
      f"EER {100 * clean['eer']:.2f}% on {clean['scored_pairs']} pairs, {clean['seconds']:.1f} s")

# %% [markdown]
# ## dlib on clean vs occluded pairs, every occluder kind
# Semantic placement (each occluder where it belongs on the face, scaled to it), test templates.

# %%
t0 = time.perf_counter()
sweep_clean = protocols.verification(profile, max_pairs=BUDGET["sweep"], far=FARS)
sweep = kind_sweep(profile, BUDGET["sweep"], FARS)
per_pair = (time.perf_counter() - t0) / sum(r["scored_pairs"] for r in sweep.values())
cells = (verification_cells("clean (reference subset)", clean, FARS)
         + verification_cells("clean (sweep subset)", sweep_clean, FARS))
for kind, r in sweep.items():
    cells += verification_cells(kind, r, FARS)
res.table("dlib_kinds", cells, title="dlib evaluator, clean vs one image of each pair occluded, per kind",
          notes=[f"clean reference: {clean['pairs']} pairs; each occluded row: {BUDGET['sweep']} pairs x 2 turns.",
                 "TAR@FAR is empty where FAR x impostors < 1 (no operating point at that FAR).",
                 f"scoring time: {1000 * per_pair:.0f} ms per occluded pair (one dlib embedding + occlusion)."])
print(f"{'kind':>16} {'acc%':>6} {'EER%':>6} {'area%':>6}")
for kind, r in {"clean": sweep_clean, **sweep}.items():
    print(f"{kind:>16} {100 * r['accuracy']:6.1f} {100 * r['eer']:6.1f} {100 * (r['occluded_area'] if kind != 'clean' else 0):6.1f}")

# %% [markdown]
# ## FROM's regions and scales S
# FROM's nine regions (its `generate_occ_lfw.py` boxes) as black blocks, and FROM Alg. 1's random placement
# at S = 1, 2, 3 (a hand occluder; FROM reports 18.8%, 43.1%, 52.0% occluded area at these S on LFW).

# %%
regions = region_sweep(profile, BUDGET["sweep"], FARS)
scales = scale_sweep(profile, BUDGET["sweep"], FARS)
cells = []
for r, v in regions.items():
    cells += verification_cells(r, v, FARS)
for s, v in scales.items():
    cells += verification_cells(f"Occ-LFW-{s:.1f} (hand, random)", v, FARS)
res.table("dlib_regions_scales", cells, title="dlib evaluator on FROM's regions and scales S",
          notes=[f"{BUDGET['sweep']} pairs x 2 turns per row."])
for name, v in list(regions.items()) + [(f"S={s}", v) for s, v in scales.items()]:
    print(f"{name:>16} acc {100 * v['accuracy']:5.1f}%  area {100 * v['occluded_area']:5.1f}%")

# %% [markdown]
# ## Accuracy against occluded-area fraction

# %%
fig, ax = plt.subplots(figsize=(6, 4))
groups = [("kinds", sweep, "o"), ("FROM regions", regions, "s"), ("scales S", {f"S={k}": v for k, v in scales.items()}, "^")]
points = []  # every group's labels placed together, so no two of them overlap
for label, group, marker in groups:
    xs = [100 * v["occluded_area"] for v in group.values()]
    ys = [100 * v["accuracy"] for v in group.values()]
    ax.scatter(xs, ys, marker=marker, label=label)
    points += zip(xs, ys, [str(name).replace("from_", "") for name in group])
label_points(ax, *map(list, zip(*points)))
ax.axhline(100 * sweep_clean["accuracy"], color="0.5", ls="--", lw=1, label="clean")
ax.set_xlabel("occluded area (% of the aligned face image)")
ax.set_ylabel("dlib 10-fold accuracy (%)")
ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
res.figure("accuracy_vs_area", fig, title="dlib accuracy against occluded-area fraction")
plt.show()

# %% [markdown]
# ## Our recognizers beside dlib
# LResNet-IR (FROM's baseline architecture) and LightCNN-9 (FSG-GAN / OA-GAN's identity supervisor), trained
# with CosFace (FROM Eq. 1, m3 = 0.35, s = 30) on LFW's training identities only (people outside folds 6-10),
# at the profile's width, steps and input size. They are far weaker than dlib (a few thousand faces vs
# dlib's 3 million): they serve as frozen identity supervisors and as baselines, not as judges.

# %%
recognizers = {arch: train_recognizer(arch, profile, seed=SEED) for arch in ("lresnet", "lightcnn")}
compare = {"dlib": None, "FaceNet": facenet.embed, **{k: m.embed for k, m in recognizers.items()}}
conds = {"clean": None, "sunglasses": dict(kind="sunglasses", templates="test"),
         "mouth_mask": dict(kind="mouth_mask", templates="test"), "Occ-LFW-2.0": dict(kind="hand", placement="random",
                                                                                        scale=2.0, templates="test")}
cells, rec = [], {}
for name, embed in compare.items():
    for cond, occ in conds.items():
        pairs = BUDGET["sweep"] if name in ("dlib", "FaceNet") else P.eval_pairs  # trained nets are cheap
        r = protocols.verification(profile, occlusion=occ, embed=embed, max_pairs=pairs, far=FARS)
        rec[name, cond] = r
        lo, hi = r["accuracy_ci"]
        cells.append(Cell(name, cond, 100 * r["accuracy"], ci_low=100 * lo, ci_high=100 * hi))
for k, m in recognizers.items():
    cells.append(Cell(k, "train images", m.info.train_images, unit="images"))
    cells.append(Cell(k, "identities", m.info.classes, unit="identities"))
res.table("recognizers", cells, title="10-fold verification accuracy: our recognizers beside dlib",
          notes=[f"dlib and FaceNet rows on {BUDGET['sweep']} pairs, ours on {P.eval_pairs} pairs (x2 turns when "
                 "occluded).",
                 f"{P.steps} steps, batch {P.batch}, width {P.width}, input {P.recog_size}."])
for (name, cond), r in rec.items():
    print(f"{name:>9} {cond:>12} acc {100 * r['accuracy']:5.1f}%  EER {100 * r['eer']:5.1f}%  ({r['scored_pairs']} pairs)")

# %% [markdown]
# ## t-SNE: five people, clean vs occluded (dlib features)

# %%
faces = load_faces("lfw", size=P.image_size, split="test", min_per_identity=BUDGET["tsne"], seed=SEED)
idx, _ = faces.pick_people(P.tsne_people, BUDGET["tsne"], SEED)
imgs, labels = faces.images[idx], faces.identity.numpy()[idx]
occ_imgs = occlude(imgs, kind="sunglasses", landmarks=faces.landmarks[idx], seed=SEED, templates="test").images
ev = dlib_evaluator()
feats = np.concatenate([ev.embed(imgs), ev.embed(occ_imgs)])
fig = metrics.tsne_figure(feats, np.r_[labels, labels], style=["clean"] * len(idx) + ["sunglasses"] * len(idx),
                          names=[n.replace("_", " ") for n in faces.names], seed=SEED,
                          title=f"dlib features, {P.tsne_people} people x {BUDGET['tsne']} images")
res.figure("tsne_clean_vs_occluded", fig, title="t-SNE of dlib features, clean vs sunglasses")
plt.show()

# %%
print(nb.finished())
