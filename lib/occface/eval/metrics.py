"""Metrics every paper is scored with: image quality (PSNR, SSIM), verification (EER, TAR@FAR, LFW 10-fold
accuracy), identification (rank-k) and a t-SNE figure.

Reference implementations the tests compare against: scikit-image (``peak_signal_noise_ratio``,
``structural_similarity``), scikit-learn (``roc_curve``, ``TSNE``). Everything here is vectorized; images
are (N,C,H,W) or (C,H,W) or (H,W) in [0, 1] (NumPy or torch).
"""

from __future__ import annotations

import math
import warnings
from typing import NamedTuple, Sequence

import numpy as np
import torch
import torch.nn.functional as F

ArrayLike = np.ndarray | torch.Tensor | Sequence[float]

# --------------------------------------------------------------------------------------------- images


def _as_nchw(x: np.ndarray | torch.Tensor, dtype=torch.float64) -> torch.Tensor:
    t = torch.as_tensor(np.asarray(x) if not isinstance(x, torch.Tensor) else x).to(dtype)
    if t.dim() == 2:
        t = t[None, None]
    elif t.dim() == 3:
        t = t[None]
    if t.dim() != 4:
        raise ValueError(f"expected (H,W), (C,H,W) or (N,C,H,W) images, got shape {tuple(t.shape)}")
    return t


def psnr(restored: np.ndarray | torch.Tensor, clean: np.ndarray | torch.Tensor, data_range: float = 1.0,
         per_image: bool = False) -> float | np.ndarray:
    """Peak signal-to-noise ratio 10 log10(R^2 / MSE) per image (skimage's definition), averaged over the batch.

    Identical images give +inf (as scikit-image does).
    """
    a, b = _as_nchw(restored), _as_nchw(clean)
    mse = ((a - b) ** 2).flatten(1).mean(1)
    with np.errstate(divide="ignore"):
        values = 10 * np.log10(data_range ** 2 / mse.numpy())
    return values if per_image else float(values.mean())


def masked_psnr(restored: np.ndarray | torch.Tensor, clean: np.ndarray | torch.Tensor,
                mask: np.ndarray | torch.Tensor, data_range: float = 1.0, per_image: bool = False
                ) -> float | np.ndarray:
    """PSNR over the pixels where ``mask`` (N,1,H,W) is 1, every channel of them (``skimage.metrics.
    peak_signal_noise_ratio`` on the masked pixels): inside the occluder's mask it is the "hole PSNR", how
    well a de-occluder replaced the occluder; outside it, how well it left the face alone. An image with an
    empty mask gets NaN (and is left out of the batch mean); identical pixels give +inf."""
    a, b = _as_nchw(restored), _as_nchw(clean)
    m = _as_nchw(mask)
    if m.shape[0] != a.shape[0] or m.shape[-2:] != a.shape[-2:] or m.shape[1] not in (1, a.shape[1]):
        raise ValueError(f"mask must be (N,1,H,W) or (N,C,H,W) matching the images {tuple(a.shape)}, "
                         f"got {tuple(m.shape)}")
    m = (m > 0.5).expand_as(a).to(a.dtype)
    count = m.flatten(1).sum(1)
    mse = (((a - b) ** 2) * m).flatten(1).sum(1) / count.clamp_min(1)
    with np.errstate(divide="ignore"):
        values = 10 * np.log10(data_range ** 2 / mse.numpy())
    values[count.numpy() == 0] = np.nan
    if per_image:
        return values
    return float(np.nanmean(values)) if not np.isnan(values).all() else float("nan")


def gaussian_window(sigma: float = 1.5, truncate: float = 3.5, dtype=torch.float32) -> torch.Tensor:
    """1-D Gaussian of scipy/skimage: radius int(truncate * sigma + 0.5) (= 5 for sigma 1.5, an 11-tap window)."""
    radius = int(truncate * sigma + 0.5)
    x = torch.arange(-radius, radius + 1, dtype=torch.float64)
    w = torch.exp(-0.5 * (x / sigma) ** 2)
    return (w / w.sum()).to(dtype)


def ssim_torch(x: torch.Tensor, y: torch.Tensor, data_range: float = 1.0, sigma: float = 1.5,
               reduction: str = "mean") -> torch.Tensor:
    """Differentiable SSIM (Wang et al. 2004, Eq. 13) with the settings scikit-image uses for
    ``gaussian_weights=True, sigma=1.5, use_sample_covariance=False``: K1 = 0.01, K2 = 0.03, 11-tap Gaussian.

    Batched and vectorized: one separable depthwise convolution over (N, C) at once. The Gaussian runs in
    'valid' mode: scikit-image filters with reflect padding but then crops (win_size - 1) / 2 pixels on each
    side before averaging, which leaves exactly the pixels whose window never touches the padding.
    Returns the mean SSIM per image (channels averaged, as skimage's ``channel_axis``), reduced by
    ``reduction`` ("mean" | "none").
    """
    x, y = _as_nchw(x, x.dtype if isinstance(x, torch.Tensor) and x.is_floating_point() else torch.float32), \
        _as_nchw(y, x.dtype if isinstance(x, torch.Tensor) and x.is_floating_point() else torch.float32)
    n, c, h, w = x.shape
    win = gaussian_window(sigma, dtype=x.dtype).to(x.device)
    k = win.numel()
    if h < k or w < k:
        raise ValueError(f"SSIM needs images of at least {k}x{k} pixels, got {h}x{w}")
    # Stack the five quantities to filter so one grouped conv does them all.
    stack = torch.cat([x, y, x * x, y * y, x * y], dim=1)  # (N, 5C, H, W)
    groups = stack.shape[1]
    kh = win.view(1, 1, k, 1).expand(groups, 1, k, 1)
    kw = win.view(1, 1, 1, k).expand(groups, 1, 1, k)
    filtered = F.conv2d(F.conv2d(stack, kh, groups=groups), kw, groups=groups)
    ux, uy, uxx, uyy, uxy = filtered.split(c, dim=1)
    vx, vy, vxy = uxx - ux * ux, uyy - uy * uy, uxy - ux * uy
    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    s = ((2 * ux * uy + c1) * (2 * vxy + c2)) / ((ux * ux + uy * uy + c1) * (vx + vy + c2))
    per_image = s.mean(dim=(1, 2, 3))
    if reduction == "none":
        return per_image
    if reduction == "mean":
        return per_image.mean()
    raise ValueError(f"reduction must be 'mean' or 'none', got {reduction!r}")


def ssim(restored: np.ndarray | torch.Tensor, clean: np.ndarray | torch.Tensor, data_range: float = 1.0,
         per_image: bool = False) -> float | np.ndarray:
    """SSIM per image as ``skimage.metrics.structural_similarity(gaussian_weights=True, sigma=1.5,
    use_sample_covariance=False, data_range=1, channel_axis=0)`` computes it, averaged over the batch."""
    with torch.no_grad():
        values = ssim_torch(_as_nchw(restored), _as_nchw(clean), data_range, reduction="none").cpu().numpy()
    return values if per_image else float(values.mean())


def checkerboard_ratio(images: np.ndarray | torch.Tensor, period: int = 8) -> float:
    """How strongly ``images`` repeat with ``period`` px (and its divisors), the checkerboard that stacked
    stride-2 transposed convs print (Odena et al. 2016): along each axis, the mean amplitude spectrum at the
    frequencies k = j * H / period (j >= 1) over the mean of their two neighbours (one at Nyquist), averaged.
    About 1 for photographs (their spectrum falls smoothly); 1.5-2 for the deconv stripes of an undertrained
    generator. Needs a side divisible by ``period``."""
    x = _as_nchw(images)
    side = x.shape[-1]
    if side % period or x.shape[-2] != side:
        raise ValueError(f"checkerboard_ratio needs square images with a side divisible by {period}; got "
                         f"{tuple(x.shape[-2:])}")
    x = x - x.mean((-2, -1), keepdim=True)
    spectrum = torch.fft.fft2(x).abs().mean((0, 1))
    ratios = []
    for profile in (spectrum.mean(0), spectrum.mean(1)):  # horizontal, vertical frequencies
        for k in range(side // period, side // 2 + 1, side // period):
            neighbours = [profile[k - 1]] + ([profile[k + 1]] if k < side // 2 else [])
            ratios.append(float(profile[k] / torch.stack(neighbours).mean()))
    return float(np.mean(ratios))


# --------------------------------------------------------------------------------------------- verification


def _scores(genuine: ArrayLike, impostor: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    g = np.asarray(genuine.detach().cpu() if isinstance(genuine, torch.Tensor) else genuine, dtype=np.float64).ravel()
    i = np.asarray(impostor.detach().cpu() if isinstance(impostor, torch.Tensor) else impostor, dtype=np.float64).ravel()
    if g.size == 0 or i.size == 0:
        raise ValueError("need at least one genuine and one impostor score")
    return g, i


def roc(genuine: ArrayLike, impostor: ArrayLike) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """ROC of similarity scores (higher = same person): (fpr, tpr, thresholds), thresholds decreasing.

    Same points as ``sklearn.metrics.roc_curve(drop_intermediate=False)``, including the (0, 0) point at
    threshold +inf; accept "same" when score >= threshold.
    """
    g, i = _scores(genuine, impostor)
    scores = np.concatenate([g, i])
    labels = np.concatenate([np.ones(g.size), np.zeros(i.size)])
    order = np.argsort(-scores, kind="mergesort")
    scores, labels = scores[order], labels[order]
    last_of_tie = np.r_[np.flatnonzero(np.diff(scores)), scores.size - 1]
    tp = np.cumsum(labels)[last_of_tie]
    fp = (last_of_tie + 1) - tp
    tpr = np.r_[0.0, tp / g.size]
    fpr = np.r_[0.0, fp / i.size]
    thresholds = np.r_[np.inf, scores[last_of_tie]]
    return fpr, tpr, thresholds


def eer(genuine: ArrayLike, impostor: ArrayLike) -> float:
    """Equal error rate: the point of the ROC where FAR = FRR (= 1 - TAR), linearly interpolated between the
    two ROC points that bracket the crossing (the convention of bob.measure / pyeer)."""
    fpr, tpr, _ = roc(genuine, impostor)
    fnr = 1.0 - tpr
    diff = fnr - fpr  # decreasing from 1 to -1 along the ROC
    j = int(np.argmax(diff <= 0))  # first point past the crossing (diff[-1] = -1, so one exists)
    if j == 0 or diff[j] == 0:
        return float(fpr[j])
    t = diff[j - 1] / (diff[j - 1] - diff[j])
    return float(fpr[j - 1] + t * (fpr[j] - fpr[j - 1]))


def tar_at_far(genuine: ArrayLike, impostor: ArrayLike, far: float | Sequence[float]) -> float | np.ndarray:
    """True accept rate at a false accept rate, read off the ROC by linear interpolation.

    Where ``far * len(impostor) < 1`` the ROC holds no operating point at that FAR: a warning is issued and
    NaN returned. (FROM's released ``tar_far`` takes the impostor score at index int(n * far) = 0 there and
    silently reports the TAR at FAR = 0; we do not follow it.)
    """
    fpr, tpr, _ = roc(genuine, impostor)
    n_imp = _scores(genuine, impostor)[1].size
    # Per FPR value keep the highest TPR (the upper-left corner of each vertical ROC step).
    ufpr, start = np.unique(fpr, return_index=True)
    utpr = np.maximum.reduceat(tpr, start)
    fars = np.atleast_1d(np.asarray(far, dtype=np.float64))
    out = np.interp(fars, ufpr, utpr)
    too_few = fars * n_imp < 1
    if too_few.any():
        warnings.warn(f"TAR@FAR: FAR {fars[too_few].tolist()} needs at least {math.ceil(1 / fars[too_few].min())} "
                      f"impostor pairs, only {n_imp} given; returning NaN", RuntimeWarning, stacklevel=2)
        out[too_few] = np.nan
    return float(out[0]) if np.ndim(far) == 0 else out


class FoldAccuracy(NamedTuple):
    mean: float
    std: float
    folds: np.ndarray       # accuracy per fold
    thresholds: np.ndarray  # threshold used on each fold (chosen on the other folds)
    correct: np.ndarray     # per pair: decided right at its fold's threshold


def best_threshold(scores: np.ndarray, same: np.ndarray) -> tuple[float, float]:
    """The threshold maximising accuracy of "same iff score > threshold" and that accuracy (exact search
    over midpoints of sorted unique scores; the first of equal optima, i.e. the lowest threshold)."""
    order = np.argsort(scores, kind="mergesort")
    s, y = scores[order], same[order].astype(np.int64)
    uniq_end = np.r_[np.flatnonzero(np.diff(s)), s.size - 1]  # last index of each run of equal scores
    # threshold just above run r: everything up to uniq_end[r] is "different"
    neg_below = np.cumsum(1 - y)[uniq_end]
    pos_above = y.sum() - np.cumsum(y)[uniq_end]
    correct = np.r_[y.sum(), neg_below + pos_above]  # first: threshold below every score
    cands = np.r_[s[0] - 1.0, np.r_[(s[uniq_end[:-1]] + s[uniq_end[:-1] + 1]) / 2, s[-1] + 1.0]]
    k = int(np.argmax(correct))
    return float(cands[k]), float(correct[k] / s.size)


def lfw_accuracy(scores: ArrayLike, same: ArrayLike, folds: int | ArrayLike = 10) -> FoldAccuracy:
    """LFW View-2 protocol: for each fold, pick the threshold best on the other nine, score this fold.

    ``folds`` is either per-pair fold ids or a number of contiguous folds (FROM's ``KFold``). FROM's code
    searches a fixed grid ``arange(-1, 1, 0.005)``; we search all midpoints of the training scores (exact,
    and valid for any score range, e.g. negative distances).
    """
    s = np.asarray(scores.detach().cpu() if isinstance(scores, torch.Tensor) else scores, dtype=np.float64).ravel()
    y = np.asarray(same.detach().cpu() if isinstance(same, torch.Tensor) else same).astype(bool).ravel()
    if np.ndim(folds) == 0:
        k = int(folds)
        fold_id = np.repeat(np.arange(k), np.diff(np.linspace(0, s.size, k + 1).astype(int)))
    else:
        fold_id = np.asarray(folds).ravel()
    accs, ths, correct = [], [], np.zeros(s.size, bool)
    for f in np.unique(fold_id):
        test = fold_id == f
        th, _ = best_threshold(s[~test], y[~test])
        correct[test] = (s[test] > th) == y[test]
        accs.append(correct[test].mean())
        ths.append(th)
    accs = np.asarray(accs)
    return FoldAccuracy(float(accs.mean()), float(accs.std()), accs, np.asarray(ths), correct)


def _cluster_resamples(cluster: np.ndarray, resamples: int, seed: int) -> np.ndarray:
    """(R, N) row indices of ``resamples`` bootstrap draws that resample whole clusters (a View-2 pair and
    its two occlusion turns move together), seeded; clusters must all have the same size."""
    ids, inverse, counts = np.unique(cluster, return_inverse=True, return_counts=True)
    if counts.min() != counts.max():
        raise ValueError("bootstrap clusters must all have the same number of scores")
    members = np.argsort(inverse, kind="stable").reshape(len(ids), counts[0])
    draw = np.random.default_rng(seed).integers(len(ids), size=(resamples, len(ids)))
    return members[draw].reshape(resamples, -1)


def bootstrap_interval(values: np.ndarray, level: float = 0.95) -> tuple[float, float]:
    """The central ``level`` percentile interval of bootstrap replicates."""
    lo, hi = np.nanpercentile(values, [50 * (1 - level), 50 * (1 + level)])
    return float(lo), float(hi)


def eer_interval(scores: ArrayLike, same: ArrayLike, cluster: ArrayLike | None = None, resamples: int = 1000,
                 seed: int = 0, level: float = 0.95) -> tuple[float, float]:
    """Seeded bootstrap interval of :func:`eer` over pairs (whole ``cluster``s resampled together)."""
    s, y = np.asarray(scores, np.float64).ravel(), np.asarray(same, bool).ravel()
    rows = _cluster_resamples(np.arange(s.size) if cluster is None else np.asarray(cluster), resamples, seed)
    reps = [eer(s[r][y[r]], s[r][~y[r]]) if y[r].any() and (~y[r]).any() else np.nan for r in rows]
    return bootstrap_interval(np.asarray(reps), level)


def mean_interval(correct: ArrayLike, cluster: ArrayLike | None = None, resamples: int = 1000, seed: int = 0,
                  level: float = 0.95) -> tuple[float, float]:
    """Seeded bootstrap interval of a mean of per-pair values (e.g. 0/1 correctness at the fold thresholds)."""
    c = np.asarray(correct, np.float64).ravel()
    rows = _cluster_resamples(np.arange(c.size) if cluster is None else np.asarray(cluster), resamples, seed)
    return bootstrap_interval(c[rows].mean(1), level)


class McNemar(NamedTuple):
    a_only: int      # decisions method A got right and B wrong
    b_only: int      # decisions B got right and A wrong
    p_value: float   # exact two-sided McNemar test (binomial on the discordant decisions, p = 1/2)


def mcnemar(correct_a: ArrayLike, correct_b: ArrayLike) -> McNemar:
    """Exact McNemar test of two methods judged on the same decisions (e.g. per-pair verification
    correctness, ``FoldAccuracy.correct``, for the same pairs and occluders): only the discordant decisions
    count, and under "no difference" each is A's or B's with probability 1/2 (``scipy.stats.binomtest``,
    two-sided). No discordant decision gives p = 1."""
    from scipy.stats import binomtest

    a = np.asarray(correct_a, bool).ravel()
    b = np.asarray(correct_b, bool).ravel()
    if a.shape != b.shape:
        raise ValueError(f"paired decisions must have the same length, got {a.size} and {b.size}")
    a_only, b_only = int((a & ~b).sum()), int((~a & b).sum())
    n = a_only + b_only
    p = 1.0 if n == 0 else float(binomtest(a_only, n, 0.5).pvalue)
    return McNemar(a_only, b_only, p)


def paired_difference(correct_a: ArrayLike, correct_b: ArrayLike, cluster: ArrayLike | None = None,
                      resamples: int = 1000, seed: int = 0) -> dict:
    """A vs B on the same decisions: accuracy difference (A - B, a fraction) with its paired bootstrap 95 %
    interval (whole ``cluster``s resampled together, both methods in the same resample) and the exact
    McNemar test (which treats decisions as independent; the bootstrap respects the clusters)."""
    a = np.asarray(correct_a, np.float64).ravel()
    b = np.asarray(correct_b, np.float64).ravel()
    test = mcnemar(a > 0.5, b > 0.5)
    return {"difference": float(a.mean() - b.mean()),
            "difference_ci": mean_interval(a - b, cluster, resamples, seed),
            "a_only": test.a_only, "b_only": test.b_only, "p_value": test.p_value, "decisions": int(a.size)}


# --------------------------------------------------------------------------------------------- identification


def cosine_matrix(a: ArrayLike, b: ArrayLike) -> np.ndarray:
    a = np.asarray(a.detach().cpu() if isinstance(a, torch.Tensor) else a, dtype=np.float64)
    b = np.asarray(b.detach().cpu() if isinstance(b, torch.Tensor) else b, dtype=np.float64)
    a = a / np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1e-12)
    b = b / np.maximum(np.linalg.norm(b, axis=1, keepdims=True), 1e-12)
    return a @ b.T


def probe_ranks(gallery: tuple[ArrayLike, ArrayLike], probes: tuple[ArrayLike, ArrayLike],
                metric: str = "cosine") -> np.ndarray:
    """0-based rank of each probe's true identity among the gallery identities, most similar first (an
    identity's score is its best gallery image; ties count in the probe's favour). ``gallery`` and ``probes``
    are (features (N,D), labels (N,)); every probe label must be in the gallery (closed set). ``metric``:
    "cosine" similarity or "euclidean" (negative distance, dlib's metric)."""
    g_feat, g_lab = gallery
    p_feat, p_lab = probes
    g_lab, p_lab = np.asarray(g_lab), np.asarray(p_lab)
    ids, g_idx = np.unique(g_lab, return_inverse=True)
    if not np.isin(p_lab, ids).all():
        raise ValueError("every probe identity must have a gallery image (closed-set identification)")
    if metric == "cosine":
        sim = cosine_matrix(p_feat, g_feat)                   # (P, G)
    elif metric == "euclidean":
        pf, gf = (np.asarray(f.detach().cpu() if isinstance(f, torch.Tensor) else f, np.float64) for f in (p_feat, g_feat))
        sim = -np.sqrt(np.maximum((pf ** 2).sum(1)[:, None] + (gf ** 2).sum(1)[None] - 2 * pf @ gf.T, 0))
    else:
        raise ValueError(f"metric must be 'cosine' or 'euclidean', got {metric!r}")
    per_id = np.full((sim.shape[0], ids.size), -np.inf)
    np.maximum.at(per_id.T, g_idx, sim.T)                      # best gallery image per identity
    true = per_id[np.arange(sim.shape[0]), np.searchsorted(ids, p_lab)]
    return (per_id > true[:, None]).sum(1)


def rank_k(gallery: tuple[ArrayLike, ArrayLike], probes: tuple[ArrayLike, ArrayLike],
           k: int | Sequence[int] = (1, 5, 10), metric: str = "cosine") -> float | dict[int, float]:
    """Closed-set identification rate at rank k (FSG-GAN Table 3): a probe counts when its identity is among
    the k gallery identities most similar to it (cosine; an identity's score is its best gallery image).

    ``gallery`` and ``probes`` are (features (N,D), labels (N,)) as in :func:`probe_ranks`.
    """
    rank = probe_ranks(gallery, probes, metric)
    ks = [k] if np.ndim(k) == 0 else list(k)
    out = {int(kk): float(np.mean(rank < kk)) for kk in ks}
    return out[int(k)] if np.ndim(k) == 0 else out


# --------------------------------------------------------------------------------------------- figures


def tsne_figure(features: ArrayLike, labels: ArrayLike, style: ArrayLike | None = None, names: Sequence[str] | None = None,
                seed: int = 0, perplexity: float = 15.0, title: str = "t-SNE", ax=None, legend: bool = True):
    """2-D t-SNE (scikit-learn, PCA init, seeded) of features coloured by identity, marker by ``style``
    (e.g. "clean"/"occluded"); returns the matplotlib figure (seaborn scatterplot). The legend sits outside the
    axes (never on the points); ``legend=False`` leaves it out (panels of one figure share the first's)."""
    import matplotlib.pyplot as plt
    import seaborn as sns
    from sklearn.manifold import TSNE
    from threadpoolctl import threadpool_limits

    x = np.asarray(features.detach().cpu() if isinstance(features, torch.Tensor) else features, dtype=np.float64)
    x = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)  # cosine geometry, as the scores
    lab = np.asarray(labels)
    hue = [names[int(v)] for v in lab] if names is not None else [str(v) for v in lab]
    perplexity = min(perplexity, (len(x) - 1) / 3)
    with threadpool_limits(1):  # OpenMP threads next to a busy torch process slow Barnes-Hut ~100x
        xy = TSNE(2, perplexity=perplexity, init="pca", random_state=seed, max_iter=1000).fit_transform(x)
    if ax is None:
        fig, ax = plt.subplots(figsize=(5.5, 4.5))
    else:
        fig = ax.figure
    sns.scatterplot(x=xy[:, 0], y=xy[:, 1], hue=hue, style=None if style is None else list(np.asarray(style)),
                    ax=ax, s=40, palette="tab10")
    ax.set_title(title)
    ax.set_xticks([]), ax.set_yticks([])
    if legend:
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, borderaxespad=0)
    else:
        ax.get_legend().remove()
    return fig


__all__ = ["psnr", "masked_psnr", "mcnemar", "McNemar", "paired_difference", "ssim", "ssim_torch",
           "gaussian_window", "roc", "eer", "tar_at_far", "lfw_accuracy", "best_threshold", "FoldAccuracy",
           "cosine_matrix", "probe_ranks", "rank_k", "tsne_figure"]
