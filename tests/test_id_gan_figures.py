"""ID-GAN's Fig. 6 bars and Fig. 7's silhouette numbers."""

import numpy as np
import pytest
from sklearn.metrics import silhouette_score

from occface.papers.id_gan import tables
from occface.papers.id_gan.figures import fig6, silhouette_interval
from occface.results import Cell
from occface.tables import Table


def _clusters(spread: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(6, 16))
    labels = np.repeat(np.arange(6), 8)
    return centres[labels] + spread * rng.normal(size=(len(labels), 16)), labels


@pytest.mark.parametrize("metric", ["cosine", "euclidean"])
def test_silhouette_interval_is_scikit_learns_silhouette_with_an_interval_around_it(metric):
    x, labels = _clusters(0.3)
    value, low, high = silhouette_interval(x, labels, metric)
    assert value == pytest.approx(silhouette_score(x, labels, metric=metric))
    assert low < value < high


def test_tighter_clusters_have_a_higher_silhouette_whose_interval_clears_the_looser():
    tight, loose = (silhouette_interval(*_clusters(s)) for s in (0.2, 1.5))
    assert tight[1] > loose[2]


def test_fig7_claims_compare_our_wid_with_wo_id_and_occ_per_recognizer():
    cells = [Cell("silhouette, dlib", m, v, None, "", v - 0.01, v + 0.01)
             for m, v in (("OCC", 0.1), ("Our-w/oID", 0.2), ("Our-wID", 0.3))]
    empty = Table("t", [], "t")
    found = [c for c in tables.claims(empty, empty, Table("f", cells, "f")) if "Fig. 7" in c.text]
    assert [c.status for c in found] == ["holds", "holds"]
    assert {c.other.name for c in found} == {"Our-w/oID", "OCC"}


def test_fig6_draws_one_bar_per_scored_method_and_recognizer_with_its_interval():
    cells = [Cell(f"{r} (x)", m, 90.0 + k, None, "", 88.0 + k, 92.0 + k)
             for r in ("dlib", "ArcFace") for k, m in enumerate(("GT", "OCC", "Our-wID"))]
    cells += [Cell("dlib (x)", "PM", None, None), Cell("Average", "GT", 91.0, None)]
    fig = fig6(Table("tableIII", cells, "t"))
    ax = fig.axes[0]
    assert len(ax.patches) == 2 * 3  # PM has no number, Average is not a recognizer
    assert [t.get_text() for t in ax.get_xticklabels()] == ["dlib", "ArcFace"]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["GT", "OCC", "Our-wID"]


def test_claims_put_every_generative_method_above_pm_and_occ_and_judge_ssim_too():
    def cell(row, column, v, h=0.5):
        return Cell(row, column, v, None, "", v - h, v + h)

    t3 = Table("tableIII", [cell("dlib", m, v) for m, v in
                            (("OCC", 80), ("PM", 81), ("GFC", 90), ("Our-w/oID", 91), ("Our-wID", 92), ("GT", 99))]
               + [Cell("dlib", "CL", None)], "t")
    t2 = Table("tableII", [cell(metric, m, v, 0.001) for metric in ("PSNR", "SSIM")
                           for m, v in (("OCC", 0.1), ("PM", 0.2), ("Our-w/oID", 0.3), ("Our-wID", 0.4))], "t")
    texts = {c.text: c.status for c in tables.claims(t2, t3)}
    assert texts["GFC > PM (average accuracy over the panel)"] == "holds"
    assert texts["Our-w/oID > OCC (average accuracy over the panel)"] == "holds"
    assert not any(t.startswith(("CL >", "GT >")) for t in texts)  # CL not scored, GT is no method
    assert texts["Our-wID > PM (Table II SSIM)"] == "holds"
