"""Every metric against its reference implementation (scikit-image, scikit-learn, brute force, closed form)."""

import math
import warnings

import numpy as np
import pytest
import torch
from scipy.stats import norm
from skimage.metrics import peak_signal_noise_ratio, structural_similarity
from sklearn.metrics import roc_curve

from occface.eval import metrics


def _sk_ssim(a, b):
    return structural_similarity(a, b, gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
                                 data_range=1.0, channel_axis=0)


def test_ssim_and_psnr_match_skimage_on_random_and_structured_images():
    rng = np.random.default_rng(0)
    clean = rng.random((3, 3, 24, 20))
    clean[1] = np.linspace(0, 1, 20)[None, None, :]          # a smooth ramp
    noisy = np.clip(clean + 0.1 * rng.standard_normal(clean.shape), 0, 1)
    ours = metrics.ssim(noisy, clean, per_image=True)
    ref = np.array([_sk_ssim(noisy[i], clean[i]) for i in range(3)])
    assert np.abs(ours - ref).max() < 1e-4
    assert abs(metrics.ssim(clean, clean) - 1.0) < 1e-9
    ref_p = np.array([peak_signal_noise_ratio(clean[i], noisy[i], data_range=1.0) for i in range(3)])
    assert np.allclose(metrics.psnr(noisy, clean, per_image=True), ref_p)
    # known value: constant error 0.1 -> MSE 0.01 -> 20 dB
    assert math.isclose(metrics.psnr(np.full((8, 8), 0.6), np.full((8, 8), 0.5)), 20.0, rel_tol=1e-9)


def test_ssim_torch_is_differentiable_batched_and_equals_numpy():
    torch.manual_seed(0)
    x = torch.rand(4, 3, 16, 16, requires_grad=True)
    y = torch.rand(4, 3, 16, 16)
    val = metrics.ssim_torch(x, y)
    val.backward()
    assert x.grad is not None and torch.isfinite(x.grad).all()
    per = metrics.ssim_torch(x.detach(), y, reduction="none")
    assert per.shape == (4,)
    ref = np.array([_sk_ssim(x.detach().double().numpy()[i], y.double().numpy()[i]) for i in range(4)])
    assert np.abs(per.double().numpy() - ref).max() < 1e-4


def test_roc_matches_sklearn_with_ties():
    rng = np.random.default_rng(1)
    g = np.round(rng.normal(1, 1, 300), 1)                    # rounding makes ties
    i = np.round(rng.normal(0, 1, 500), 1)
    fpr, tpr, th = metrics.roc(g, i)
    y = np.r_[np.ones(g.size), np.zeros(i.size)]
    rf, rt, rth = roc_curve(y, np.r_[g, i], drop_intermediate=False)
    assert np.allclose(fpr, rf) and np.allclose(tpr, rt) and np.allclose(th[1:], rth[1:])


def _eer_sklearn(g, i):
    fpr, tpr, _ = roc_curve(np.r_[np.ones(len(g)), np.zeros(len(i))], np.r_[g, i])
    fnr = 1 - tpr
    j = np.nanargmin(np.abs(fnr - fpr))
    return (fpr[j] + fnr[j]) / 2


def test_eer_two_unit_gaussians_two_sigma_apart_is_phi_minus_one():
    rng = np.random.default_rng(2)
    g, i = rng.normal(2, 1, 200_000), rng.normal(0, 1, 200_000)
    assert abs(metrics.eer(g, i) - norm.cdf(-1)) < 3e-3           # 0.1587; sampling s.e. ~ 1e-3
    assert abs(metrics.eer(g, i) - _eer_sklearn(g, i)) < 1e-4


def test_eer_known_small_cases_and_random_against_sklearn():
    assert metrics.eer([2, 3], [0, 1]) == 0.0                      # separable
    assert metrics.eer([0, 1], [2, 3]) == 1.0                      # inverted
    assert abs(metrics.eer([0.5, 0.5], [0.5, 0.5]) - 0.5) < 1e-12   # all tied
    rng = np.random.default_rng(3)
    for _ in range(5):
        g, i = rng.normal(1, 1, 400), rng.normal(0, 1, 600)
        assert abs(metrics.eer(g, i) - _eer_sklearn(g, i)) < 5e-3   # sklearn version reads the nearest point


def test_tar_at_far_closed_form_sklearn_and_too_few_impostors():
    rng = np.random.default_rng(4)
    g, i = rng.normal(2, 1, 100_000), rng.normal(0, 1, 100_000)
    far = 0.01
    expect = 1 - norm.cdf(norm.ppf(1 - far) - 2)              # TAR of the Gaussian pair at FAR 1%
    assert abs(metrics.tar_at_far(g, i, far) - expect) < 0.01
    fpr, tpr, _ = roc_curve(np.r_[np.ones(g.size), np.zeros(i.size)], np.r_[g, i])
    assert abs(metrics.tar_at_far(g, i, far) - np.interp(far, fpr, tpr)) < 1e-3
    # 600 impostors cannot resolve FAR 1e-4: NaN and a warning (FROM silently returns the value at index 0)
    with pytest.warns(RuntimeWarning, match="impostor"):
        out = metrics.tar_at_far(g[:600], i[:600], [1e-2, 1e-4])
    assert not math.isnan(out[0]) and math.isnan(out[1])
    # known: perfectly separated -> TAR 1 at any resolvable FAR
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert metrics.tar_at_far(np.arange(10) + 10.0, np.arange(10), 0.1) == 1.0


def _brute_lfw(s, y, fold_id):
    accs = []
    for f in np.unique(fold_id):
        te = fold_id == f
        cand = np.r_[np.sort(s[~te]) - 1e-9, s.max() + 1]
        acc_tr = [np.mean((s[~te] > t) == y[~te]) for t in cand]
        best = max(acc_tr)
        # any best threshold gives the same train accuracy; test accuracy may differ, so compare train optimum
        accs.append(best)
    return np.array(accs)


def test_lfw_accuracy_threshold_from_other_folds():
    rng = np.random.default_rng(5)
    y = np.tile([True] * 30 + [False] * 30, 10)
    s = np.where(y, rng.normal(1.5, 1, y.size), rng.normal(0, 1, y.size))
    fold_id = np.repeat(np.arange(10), 60)
    res = metrics.lfw_accuracy(s, y, fold_id)
    # the chosen threshold is optimal on the nine other folds (brute force over all cut points)
    brute_train = _brute_lfw(s, y, fold_id)
    for f, th in enumerate(res.thresholds):
        tr = fold_id != f
        assert math.isclose(np.mean((s[tr] > th) == y[tr]), brute_train[f])
        assert math.isclose(res.folds[f], np.mean((s[~tr] > th) == y[~tr]))
    assert res.mean == pytest.approx(res.folds.mean()) and 0.7 < res.mean < 0.9
    assert metrics.lfw_accuracy(s, y, 10).mean == pytest.approx(res.mean)   # contiguous folds = these folds
    # known: separable scores -> 100 %
    assert metrics.lfw_accuracy(np.where(y, 1.0, -1.0), y, fold_id).mean == 1.0


def test_rank_k_known_and_brute_force():
    gal = (np.eye(3), np.array([0, 1, 2]))
    probes = (np.array([[1, 0.1, 0], [0.9, 1, 0], [0.1, 1, 0.5]]), np.array([0, 0, 0]))  # ranks 0, 1, 2
    out = metrics.rank_k(gal, probes, (1, 2, 3))
    assert out == {1: pytest.approx(1 / 3), 2: pytest.approx(2 / 3), 3: 1.0}
    rng = np.random.default_rng(6)
    gf, gl = rng.normal(size=(40, 8)), np.repeat(np.arange(20), 2)
    pf, pl = rng.normal(size=(30, 8)), rng.integers(0, 20, 30)
    sim = metrics.cosine_matrix(pf, gf)
    ranks = []
    for p in range(30):
        best = {c: sim[p, gl == c].max() for c in range(20)}
        ordered = sorted(best, key=lambda c: -best[c])
        ranks.append(ordered.index(pl[p]))
    for k in (1, 5, 10):
        assert metrics.rank_k((gf, gl), (pf, pl), k) == pytest.approx(np.mean(np.array(ranks) < k))


def test_tsne_figure_runs_seeded():
    import matplotlib
    matplotlib.use("Agg")
    rng = np.random.default_rng(7)
    x = np.r_[rng.normal(0, 1, (10, 5)), rng.normal(5, 1, (10, 5))]
    fig = metrics.tsne_figure(x, np.repeat([0, 1], 10), style=np.tile(["clean", "occluded"], 10), names=["a", "b"])
    assert len(fig.axes) == 1 and len(fig.axes[0].collections) >= 1


def test_mean_interval_agrees_with_scipy_bootstrap():
    from scipy.stats import bootstrap

    rng = np.random.default_rng(1)
    correct = rng.random(600) < 0.8
    lo, hi = metrics.mean_interval(correct, resamples=4000, seed=0)
    ref = bootstrap((correct.astype(float),), np.mean, n_resamples=4000, method="percentile",
                    random_state=0).confidence_interval
    assert abs(lo - ref.low) < 0.01 and abs(hi - ref.high) < 0.01
    assert lo < correct.mean() < hi


def test_eer_interval_brackets_the_eer_and_narrows_with_more_pairs():
    rng = np.random.default_rng(2)

    def width(n):
        same = np.arange(n) % 2 == 0
        scores = rng.normal(same * 1.5, 1.0)
        lo, hi = metrics.eer_interval(scores, same, seed=0, resamples=400)
        assert lo <= metrics.eer(scores[same], scores[~same]) <= hi
        return hi - lo

    assert width(4000) < width(200)


def test_bootstrap_resamples_whole_clusters():
    rows = metrics._cluster_resamples(np.r_[np.arange(5), np.arange(5)], resamples=50, seed=0)
    assert rows.shape == (50, 10)
    ids = rows % 5  # both turns of a pair share its id
    assert all(sorted(np.bincount(r, minlength=5)) == sorted(np.bincount(r, minlength=5)) for r in ids)
    assert np.all(np.bincount(ids[0], minlength=5) % 2 == 0)  # each drawn pair brings both its scores


def test_masked_psnr_matches_skimage_on_the_masked_pixels():
    rng = np.random.default_rng(3)
    clean = rng.random((3, 3, 16, 16))
    restored = np.clip(clean + rng.normal(0, 0.1, clean.shape), 0, 1)
    mask = np.zeros((3, 1, 16, 16))
    mask[0, :, 2:9, 3:11] = 1
    mask[1, :, 8:, :] = 1
    mask[2] = rng.random((1, 16, 16)) > 0.7
    values = metrics.masked_psnr(restored, clean, mask, per_image=True)
    for i in range(3):
        m = np.broadcast_to(mask[i] > 0.5, clean[i].shape)
        assert values[i] == pytest.approx(peak_signal_noise_ratio(clean[i][m], restored[i][m], data_range=1.0))
    assert metrics.masked_psnr(restored, clean, mask) == pytest.approx(values.mean())
    full = np.ones((3, 1, 16, 16))
    assert np.allclose(metrics.masked_psnr(restored, clean, full, per_image=True),
                       metrics.psnr(restored, clean, per_image=True))


def test_masked_psnr_of_an_empty_mask_is_nan_and_left_out():
    clean = np.zeros((2, 3, 8, 8))
    restored = clean + 0.1  # MSE 0.01: 20 dB
    mask = np.zeros((2, 1, 8, 8))
    mask[1, :, :4] = 1
    values = metrics.masked_psnr(restored, clean, mask, per_image=True)
    assert np.isnan(values[0]) and values[1] == pytest.approx(20.0)
    assert metrics.masked_psnr(restored, clean, mask) == pytest.approx(20.0)
    with pytest.raises(ValueError, match="mask must be"):
        metrics.masked_psnr(restored, clean, mask[:1])


def test_mcnemar_on_a_hand_worked_example():
    # 10 decisions: A alone right on 1, B alone right on 7, both right on 2. Exact two-sided McNemar:
    # p = 2 P(X <= 1 | n = 8, 1/2) = 2 (1 + 8) / 256 = 0.0703125
    a = np.array([1, 0, 0, 0, 0, 0, 0, 0, 1, 1], bool)
    b = np.array([0, 1, 1, 1, 1, 1, 1, 1, 1, 1], bool)
    test = metrics.mcnemar(a, b)
    assert (test.a_only, test.b_only) == (1, 7)
    assert test.p_value == pytest.approx(18 / 256)
    assert metrics.mcnemar(b, a).p_value == pytest.approx(18 / 256)
    assert metrics.mcnemar(a, a).p_value == 1.0  # no discordant decision
    with pytest.raises(ValueError, match="same length"):
        metrics.mcnemar(a, b[:5])


def test_paired_difference_interval_brackets_the_difference_and_ignores_shared_decisions():
    rng = np.random.default_rng(0)
    a = rng.random(400) < 0.8
    b = a.copy()
    b[:40] = ~b[:40]  # B differs from A on 40 decisions only
    out = metrics.paired_difference(a, b)
    assert out["difference"] == pytest.approx(a.mean() - b.mean())
    low, high = out["difference_ci"]
    assert low <= out["difference"] <= high
    # paired: the 360 shared decisions add no spread (about 0.06 wide; two unpaired intervals: about 0.11)
    assert high - low < 0.08
    assert out["a_only"] + out["b_only"] == 40


def test_checkerboard_ratio_is_about_one_for_smooth_images_and_high_for_deconv_stripes():
    from occface.eval.metrics import checkerboard_ratio

    g = torch.Generator().manual_seed(0)
    smooth = torch.nn.functional.avg_pool2d(torch.rand(8, 3, 72, 72, generator=g), 9, 1)  # 64x64, 1/f-like
    assert 0.8 < checkerboard_ratio(smooth) < 1.2
    period8 = (torch.arange(64) % 8 < 4).float()  # along both axes, as stacked stride-2 deconvs print it
    stripes = smooth + 0.05 * (period8[:, None] + period8[None, :])
    assert checkerboard_ratio(stripes) > 1.5
    with pytest.raises(ValueError, match="divisible by 8"):
        checkerboard_ratio(torch.rand(2, 3, 60, 60))
