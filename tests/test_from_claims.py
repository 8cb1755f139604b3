"""FROM's claims: per-probe rank-1 hits agree with the shared rank-k metric, and the orderings become
claims judged on intervals (a stub experiment stands in for trained models)."""

import numpy as np
import pytest
from occface.claims import HOLDS, NOISE, NOT_HOLDS, Estimate
from occface.eval import metrics
from occface.papers.from_.tables import claims, rank1_hits


def test_rank1_hits_average_to_the_shared_rank1():
    rng = np.random.default_rng(0)
    gallery, labels = rng.normal(size=(30, 8)), rng.permutation(30) + 100
    probe_labels = rng.choice(labels, 200)
    where = {label: i for i, label in enumerate(labels)}
    probes = gallery[[where[p] for p in probe_labels]] + rng.normal(scale=1.2, size=(200, 8))
    hits = rank1_hits(gallery, labels, probes, probe_labels)
    assert set(np.unique(hits)) <= {0.0, 1.0}
    assert hits.mean() == pytest.approx(metrics.rank_k((gallery, labels), (probes, probe_labels), k=1))
    with pytest.raises(ValueError, match="one gallery image"):
        rank1_hits(np.r_[gallery, gallery[:1]], np.r_[labels, labels[:1]], probes, probe_labels)


class StubExperiment:
    """Accuracy and Occ-MF1 estimates chosen so each claim lands in a known status."""

    acc = {("FROM", None): (90, 88, 92), ("Baseline", None): (80, 78, 82), ("FROM", 0.3): (89, 87, 91)}
    rank = {"K0": (10, 8, 12), "K3": (20, 18, 22), "K4": (11, 9, 13), "K5": (5, 3, 7), "K6": (20, 18, 22),
            "λ0": (20, 18, 22), "λ0.5": (21, 19, 23), "λ1.0": (20, 18, 22)}

    def accuracy_estimate(self, name, condition, threshold=None):
        v = self.acc.get((name, threshold), (70, 68, 72))
        return Estimate(name, *v)

    def occluded_rank1_estimate(self, name):
        return Estimate(name, *self.rank[name])


def test_from_claims_follow_the_orderings_with_intervals():
    out = {c.text: c for c in claims(StubExperiment())}
    assert list(out) == ["FROM > Baseline (Occ-LFW-2.0 accuracy)", "soft mask > best binarized mask (Occ-LFW-2.0 accuracy)",
                         "K3 > K0 (Occ-MF1 Avg rank-1)", "K4 > K0 (Occ-MF1 Avg rank-1)", "K5 > K0 (Occ-MF1 Avg rank-1)",
                         "K6 > K0 (Occ-MF1 Avg rank-1)", "λ0.5 > λ0 (Occ-MF1 Avg rank-1)",
                         "λ1.0 > λ0 (Occ-MF1 Avg rank-1)"]
    status = {k: c.status for k, c in out.items()}
    assert status["FROM > Baseline (Occ-LFW-2.0 accuracy)"] == HOLDS
    assert status["soft mask > best binarized mask (Occ-LFW-2.0 accuracy)"] == NOISE
    assert out["soft mask > best binarized mask (Occ-LFW-2.0 accuracy)"].other.name == "binarized t=0.30"
    assert status["K3 > K0 (Occ-MF1 Avg rank-1)"] == HOLDS and status["K4 > K0 (Occ-MF1 Avg rank-1)"] == NOISE
    assert status["K5 > K0 (Occ-MF1 Avg rank-1)"] == NOT_HOLDS
    assert out["K5 > K0 (Occ-MF1 Avg rank-1)"].ours.paper == 44.83  # the paper's number travels along
    assert status["λ1.0 > λ0 (Occ-MF1 Avg rank-1)"] == NOISE
