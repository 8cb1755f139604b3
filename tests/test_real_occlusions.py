"""LFW's natural-occlusion set (held-out people, attribute flags) and its scoring: the weighted EER equals the
shared metric, the clustered interval is the shared bootstrap's, the selection keeps people apart."""

import numpy as np
import pytest
from occface.eval import metrics
from occface.eval.real import clustered_eer, select_natural, weighted_eer


def _scores(n=300, seed=0):
    rng = np.random.default_rng(seed)
    same = rng.random(n) < 0.3
    scores = rng.normal(size=n) + 1.5 * same
    scores[:20] = np.round(scores[:20])  # some ties
    return scores, same


def test_weighted_eer_with_unit_or_count_weights_is_the_shared_eer():
    s, y = _scores()
    assert weighted_eer(s, y, np.ones((1, len(s))))[0] == pytest.approx(metrics.eer(s[y], s[~y]), abs=1e-12)
    counts = np.random.default_rng(1).integers(0, 3, size=len(s))
    rep = np.repeat(np.arange(len(s)), counts)
    assert weighted_eer(s, y, counts[None])[0] == pytest.approx(metrics.eer(s[rep][y[rep]], s[rep][~y[rep]]), abs=1e-12)
    no_genuine = np.where(y, 0, 1)
    assert np.isnan(weighted_eer(s, y, no_genuine[None])[0])


def test_clustered_interval_is_the_shared_bootstrap():
    s, y = _scores(240)
    cluster = np.repeat(np.arange(60), 4)
    value, ci = clustered_eer(s, y, cluster, resamples=200, seed=3)
    assert value == pytest.approx(metrics.eer(s[y], s[~y]))
    assert ci == pytest.approx(metrics.eer_interval(s, y, cluster, resamples=200, seed=3), abs=1e-12)


def test_natural_selection_is_held_out_people_with_both_kinds_of_photo(data_root):
    from occface.faces.data import TEST_FOLDS, lfw_pairs

    sel = select_natural(("sunglasses",), clean_per_person=2, occluded_per_person=3)
    test = {p.split("/")[-2] for pair in lfw_pairs(TEST_FOLDS) for p in (pair.first, pair.second)}
    assert set(sel.clean) == set(sel.occluded) and set(sel.occluded) <= test
    assert all(1 <= len(v) <= 2 for v in sel.clean.values()) and all(1 <= len(v) <= 3 for v in sel.occluded.values())
    for person in sel.occluded:  # never the same photo on both sides, always the person's own photos
        assert not set(sel.clean[person]) & set(sel.occluded[person])
        assert all(f.split("/")[-2] == person for f in sel.clean[person] + sel.occluded[person])
    both = select_natural(("sunglasses", "eyeglasses"))
    assert both.counts["people"] > sel.counts["people"] > 10
    assert select_natural(("sunglasses",), max_people=5).counts["people"] == 5
    with pytest.raises(ValueError, match="kinds"):
        select_natural(("hat",))
