# %% [markdown]
# # 30 · OA-GAN: semi-supervised natural face de-occlusion
#
# Cai, Han, Cui, Chen, Liu, Zhou, *Semi-Supervised Natural Face De-Occlusion* (TIFS 2020). The generator
# first predicts where the face is occluded: an **occlusion-aware module** outputs a mask M (1 = keep) and an
# intermediate face feature, which M filters (Eq. 1) before a **face completion module** synthesises the
# face; the output keeps the input where M says so (Eq. 2). No mask is given at test time; in training, the
# paired batches' synthetic masks are known (the abstract's "paired images with known masks"), and ours uses them.
# The discriminator judges realism (WGAN-GP) and predicts ten face attributes (Eq. 3). Training alternates
# **paired** batches (synthetic occluders with their clean face: perceptual, style, pixel, smoothness, mask
# penalty, adversarial; Eq. 8) with **unpaired natural** batches (smoothness, mask penalty, adversarial; Eq. 9).
#
# The model lives in `occface.papers.oa_gan.model`, the data in `natural`, the schedule in `train`, the
# tables in `tables`; this notebook narrates and calls them.
#
# What differs from the paper, on purpose: LFW's training people instead of CelebA; the natural occlusions
# are LFW photos that Kumar et al.'s attribute classifiers flag as sunglasses, eyeglasses or hat (the
# paper: CelebA's glasses and its own glasses/respirator collection); the perceptual and style losses run on
# FaceNet (CASIA-WebFace) features instead of ImageNet VGG-16; `quick` and `default` shrink images, widths
# and schedules (`full` uses the paper's sizes).

# %% tags=["parameters"]
profile = "quick"

# %%
import torch
from IPython.display import display

from occface.notebook import start_notebook
from occface.papers.oa_gan import figures, natural, tables, train
from occface.papers.oa_gan.model import NetConfig
from occface.plots import image_grid

nb = start_notebook("oa_gan", profile, "LFW deep-funneled + LFW attributes + occluder templates (OCCFACE_DATA)")
P, res = nb.profile, nb.results
cfg = train.OAGANConfig.for_profile(P)
print(cfg)

# %% [markdown]
# ## The model, equation by equation
#
# Each numbered equation of the paper's Sec. III as printed, then the code that implements it
# (`occface.papers.oa_gan.model` reads top to bottom like the paper) and, where we deviate, why in one line.
# $M$ is the predicted mask, **1 where the face is kept**; $x_{synth}$ the completion module's face.
#
# **Eqs. 1-2**, the generator: the mask filters the features, then the output keeps the input where $M = 1$:
# $$Feat_{non\,occ} = M \odot Feat, \qquad x_{final} = M \odot x + (1 - M) \odot x_{synth}$$
# `occface.papers.oa_gan.model.filter_features  # Eq. 1`, `occface.papers.oa_gan.model.blend  # Eq. 2`, both inside
# `occface.papers.oa_gan.model.OAGAN`.
#
# **Eq. 3**, the discriminator's loss, adversarial plus attributes:
# $$L_D = \alpha L_{adv} + \beta L_{attr}$$
# `occface.papers.oa_gan.model.discriminator_losses  # Eq. 3` with `occface.papers.oa_gan.model.attribute_loss  # Eq. 3`
# — deviation: $L_{adv}$ is the WGAN-GP critic loss (Sec. IV-B), $\alpha = 1$, and $\beta$, which the paper does not
# give, comes from the official code.
#
# **Eqs. 4-5**, perceptual and style losses on both outputs:
# $$L_{perceptual} = \sum_{n} \lVert\phi_n(x_{synth}) - \phi_n(x_{gt})\rVert_1 + \sum_{n} \lVert\phi_n(x_{final}) - \phi_n(x_{gt})\rVert_1$$
# $$L_{style} = \sum_{n} \big\lVert K_n\big(\phi_n(x_{synth})^\top\phi_n(x_{synth}) - \phi_n(x_{gt})^\top\phi_n(x_{gt})\big)\big\rVert_1 + \sum_{n} \big\lVert K_n\big(\phi_n(x_{final})^\top\phi_n(x_{final}) - \phi_n(x_{gt})^\top\phi_n(x_{gt})\big)\big\rVert_1, \quad K_n = \frac{1}{C_n H_n W_n}$$
# `occface.papers.oa_gan.model.perceptual_style  # Eqs. 4-5` through `occface.nn.losses.PerceptualStyle`
# — deviation: $\phi$ is FaceNet's feature network, not ImageNet's VGG-16 (no ImageNet weights offline).
#
# **Eq. 6**, the pixel loss, weighing the hole $\gamma$ times and the rest $\delta$ times:
# $$L_{pixel} = \gamma \lVert (1 - M) \odot (x_{final} - x_{gt})\rVert_1 + \delta \lVert M \odot (x_{final} - x_{gt})\rVert_1$$
# `occface.papers.oa_gan.model.pixel_loss  # Eq. 6` — deviation: $\gamma = 6$, $\delta = 1$ from the official code
# (the paper gives none); each norm a mean over $N \cdot C \cdot H \cdot W$.
#
# **Eq. 7**, smoothness of the output and of the mask:
# $$L_{smooth} = \sum_{i,j} \big(\lVert x^{i,j+1}_{final} - x^{i,j}_{final}\rVert_1 + \lVert x^{i+1,j}_{final} - x^{i,j}_{final}\rVert_1\big) + \sum_{i,j} \big(\lVert M^{i,j+1} - M^{i,j}\rVert_1 + \lVert M^{i+1,j} - M^{i,j}\rVert_1\big)$$
# `occface.papers.oa_gan.model.smooth_loss  # Eq. 7`
#
# **Eqs. 8-9**, the generator's loss on paired (synthetic) and on unpaired (natural) batches:
# $$L_{paired} = \lambda_1 L_{perceptual} + \lambda_2 L_{style} + \lambda_3 L_{pixel} + \lambda_4 L_{smooth} + \lambda_5 \lVert M\rVert_2^2 + \lambda_6 L_{adv}, \qquad L_{unpair} = \lambda_4 L_{smooth} + \lambda_5 \lVert M\rVert_2^2 + \lambda_6 L_{adv}$$
# `occface.papers.oa_gan.model.generator_losses  # Eqs. 8-9` with `occface.papers.oa_gan.model.mask_penalty  # Eqs. 8-9`
# and the weights `occface.papers.oa_gan.model.LossWeights` (0.05, 120, 1, 1e-3, -1, 1) — deviation: $\lVert M\rVert_2^2$
# is a per-pixel mean (the paper's sum over 128x128 pixels would dwarf every other term). The alternation of the two
# batch kinds is `occface.papers.oa_gan.train`.

# %% [markdown]
# ## The network at this profile
# `full` is Table I / II: 128x128 faces, 64 channels after the first conv, six residual blocks at 32x32,
# a completion module down to 512x16x16; a six-layer discriminator (64 to 2,048 channels at 2x2) with a
# 1x2x2 adversarial head and a 10-way attribute head. Below `full`, the generator upsamples by nearest x2 + a 3x3
# conv instead of Table I's 4x4/2 deconvs (`NetConfig.upsample`, beyond the paper): with our few thousand batches
# the three stacked deconvs printed a checkerboard of period 8 px into every fill (the "checkerboard ratio" of
# the mask table measures it; Odena et al. 2016 explain why deconvs do this and resizing does not).

# %%
# NBVAL_CHECK_OUTPUT
full = NetConfig()
print(f"paper/full: {full.image_size}px, width {full.width}, {full.res_blocks} residual blocks, "
      f"D width {full.disc_width}, {full.attributes} attributes")
print(f"{P.name}: {cfg.net.image_size}px, width {cfg.net.width}, {cfg.net.res_blocks} residual blocks, "
      f"D width {cfg.net.disc_width}, upsampling '{cfg.net.upsample}'; batch {cfg.batch}, {cfg.steps} batches, "
      f"G every {cfg.g_every}")

# %% [markdown]
# ## Training data
# Paired faces: clean training photos with one of nine synthetic occluders (training templates, on the
# landmarks, rotated up to 15 degrees), drawn afresh every batch. Natural faces: training photos flagged by
# the attribute classifiers; the clean set Y gives the critic its real faces on natural batches.

# %%
data = train.training_data(cfg.net.image_size, cfg.max_train_images, cfg.seed, cfg.attributes)
print(data.note)
kinds = train.natural_steps(cfg)
print(f"schedule '{cfg.schedule}': {kinds.mean():.0%} natural batches; first natural batch at "
      f"{kinds.argmax()} of {cfg.steps}")
g = torch.Generator().manual_seed(0)
paired = data.paired_batch(g, 8)
x_nat, _ = data.natural_batch(g, 8)
fig = image_grid({"paired input": paired.occluded, "ground truth": paired.clean, "true mask": paired.mask,
                  "natural": x_nat})
res.figure("training_data", fig, title="OA-GAN training batches: synthetic pairs and natural occlusions")

# %% [markdown]
# ## Alternating training (Sec. III-C)
# A WGAN-GP critic step on every batch, a generator step every `g_every`-th batch; paired batches only at
# first, then natural ones from 1 in 11 up to 1 in 2.
#
# In Eqs. 8-9 as printed, nothing tells the occlusion-aware module where the occluder is; each loss term pulls
# the mask one way, and the mask is what they leave. Eq. 6 weights a hole pixel's error 6 and a kept pixel's 1 with weights taken
# from the predicted mask. The paper borrows that loss from PConv, where the mask is *given*: here the weights
# are detached (`LossWeights.pixel_mask = "given"`), so the pixel term moves M only through x_final. If the
# weights were differentiated too (`"learned"`, an earlier version of this code), opening a hole would raise
# its pixels' weight from 1 to 6, and the pixel term would push M back to "keep" on every pixel with an error,
# the occluder's included. `scripts/oa_gan_mask_gradient.py` prints each term's mean dL/dM on the occluder's
# pixels at initialisation: the smoothness term's TV of x_final is then the largest pull, towards "keep" (the
# untrained x_synth is rough), and the mask penalty (lambda_5 = -1) adds to it. So M first closes everywhere.
# Beyond the printed equations, this code fits M to the known synthetic mask on paired batches (a BCE,
# `LossWeights.known_mask = 10`, `model.mask_fit`) and leaves a quarter of each paired batch unoccluded
# (`OAGANConfig.clean_share`), so that clean faces keep an empty mask; `known_mask=0, clean_share=0` is the paper's.

# %%
trained = train.train_oa_gan(cfg)
h = trained.history
for key in ("g_total_paired", "g_total_natural", "g_pixel", "g_mask", "d_adv"):
    if h.get(key):
        print(f"{key}: {h[key][0]:.3f} -> {h[key][-1]:.3f} ({len(h[key])} values)")

# %% [markdown]
# ## Predicted masks and de-occlusion (Figs. 6 and 9)
# Test people and unseen occluder templates. The last rows are clean test faces: the paper's Fig. 9 says
# the predicted mask should be nearly empty there, so the face passes through unchanged.

# %%
knobs = tables.Knobs.for_profile(P)
test = tables.test_set(cfg.net.image_size, knobs.eval_images, seed=cfg.seed)
model = trained.model
show = torch.linspace(0, len(test.clean) - 1, 10).long()  # spread over the test people
fig = image_grid({"input": test.occluded[show], "predicted hole": model.predict_mask(test.occluded[show]),
                  "true mask": test.mask[show], "OA-GAN": model.restore(test.occluded[show]),
                  "ground truth": test.clean[show], "clean input": test.clean[show],
                  "its hole": model.predict_mask(test.clean[show]), "its output": model.restore(test.clean[show])})
res.figure("fig6_fig9", fig, title="OA-GAN on unseen occluders (Fig. 6) and on clean faces (Fig. 9)")

# %% [markdown]
# ## Natural occlusions of test people (Fig. 7)
# LFW test photos that the attribute classifiers flag as sunglasses, eyeglasses or hat: no ground truth.

# %%
held_out = natural.load_data(cfg.net.image_size, max_images=knobs.eval_images * 4, seed=cfg.seed, split="test")
if held_out.source == "lfw-attributes":
    x_nat = held_out.images[held_out.natural[torch.linspace(0, len(held_out.natural) - 1, 10).long()]]
    fig = image_grid({"natural input": x_nat, "predicted hole": model.predict_mask(x_nat),
                      "OA-GAN": model.restore(x_nat)})
    res.figure("fig7_natural", fig, title="OA-GAN on natural occlusions of LFW test people (Fig. 7)")

# %% [markdown]
# ## Fig. 12 — identifying naturally occluded faces (Sec. IV-E)
# Probes: the test people's photos flagged with sunglasses, eyeglasses or a hat; gallery: one clean photo of
# each of them. A LightCNN-9 trained on the original training faces identifies the occluded probes and OA-GAN's
# restorations; a second LightCNN-9, trained on the same training faces after OA-GAN, narrows the gap between
# restored probes and original gallery (the paper's reason for it).

# %%
fig12 = tables.fig12_identification(cfg, trained)
if fig12 is not None:
    fig12.write(res)
    res.figure("fig12_identification", figures.fig12_curves(fig12),
               title="Rank-1..5 identification of natural occlusions and of OA-GAN's restorations (Fig. 12)")
    display(fig12.frame())

# %% [markdown]
# ## Table III — PSNR / SSIM against mask-requiring methods
# GFC, GnIpt (DeepFill v1), PConv and CSA need a mask: they get OA-GAN's predicted mask, binarised (Fig. 10);
# OA-GAN finds its own. The rows "(true mask)" give the same methods the true mask: what predicting it costs.
# A method not registered in `occface.methods` reads "not available" in the notes.

# %%
table3 = tables.table3(cfg, trained, test)
table3.write(res)
table3.frame()

# %% [markdown]
# ## The predicted mask against the true one (ours)
# IoU of the binarised predicted hole with the true synthetic mask, per occluder kind; and on clean faces.

# %%
masks = tables.mask_table(cfg, trained, test)
masks.write(res)
masks.frame()

# %% [markdown]
# ## Table IV — loss ablation
# One model per column, each trained without one term of Eq. 8 (same seed and batches).

# %%
ablations = train.train_ablations(cfg)
table4 = tables.table4(cfg, ablations, test)
table4.write(res)
table4.frame()

# %% [markdown]
# ## Fig. 14 — the ablation's masks and outputs
# The same unseen-occluder test faces through each model of Table IV.

# %%
res.figure("fig14_ablation", figures.fig14_grid(ablations, test),
           title="Predicted holes and outputs of the loss ablation (Fig. 14)")

# %% [markdown]
# ## Fig. 15 — pre-train then fine-tune vs alternating training (Sec. V)
# Training method 1 pre-trains on synthetic pairs and then fine-tunes on natural faces only; method 2 is the
# alternating schedule above (same length, seed and batches). The paper compares them by eye on natural
# occlusions; we add the numbers on the synthetic test set and the predicted hole's area.

# %%
strategies = train.train_strategies(cfg)
natural_faces = held_out.images[held_out.natural] if held_out.source == "lfw-attributes" else None
fig15 = tables.fig15_table(cfg, strategies, test, natural_faces)
fig15.write(res)
if natural_faces is not None:
    res.figure("fig15_strategies", figures.fig15_grid(strategies, natural_faces),
               title="Pre-train then fine-tune (1) vs alternating training (2) on natural occlusions (Fig. 15)")
fig15.frame()

# %% [markdown]
# ## Claims
# The paper's orderings judged on our 95 % intervals (`occface.claims`): a claim *holds* only when the two
# intervals do not overlap in the claimed order, *does not hold* when they do not overlap the other way, and
# is *within noise* otherwise. Near-empty masks on clean faces (Fig. 9) are shown in the mask table above.

# %%
# NBVAL_CHECK_OUTPUT
from occface.claims import write_claims

claims = tables.claims(table3, table4, fig12)
write_claims(res, claims, title="OA-GAN's orderings (higher is better)")
for c in claims:
    print(f"{c.status:14s} {c.text}")

# %% [markdown]
# Why the orderings are within noise at `default`: after 800 batches at 64 px (the paper: ~1e8 CelebA pairs at
# 128 px) OA-GAN finds most synthetic occluders (IoU 0.6; its hole covers 18 % of the face where the occluder
# covers 20 %: mask table) but fills them with a blurred average face, about 4 dB of hole PSNR above the occluded
# input (Table III), so OA-GAN, its ablations and the mask-requiring methods fed its mask differ by less than
# their intervals. Real glasses (Fig. 7) are mostly not found: the synthetic templates do not look like them.

# %% [markdown]
# ## Try it
# OA-GAN on one held-out face, live: pick the face, the occluder kind, its size, position and rotation (its
# predicted mask sits beside the output; PSNR / SSIM against the clean face and dlib's distance to another photo
# of the person). The same widget with every method is in `60_benchmark`.

# %%
from occface import widgets

widgets.compare(["oa-gan"], profile=P.name)

# %%
print(nb.finished())
