"""The benchmark's library pieces (occface.studies.benchmark): rows, columns, order, intervals, the true-mask
helper, and one tiny end-to-end run on real held-out faces with a fake identity restorer and a fake
inpainter that copies the clean face."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from occface.studies import benchmark as B


def _ver(acc: float, eer: float, area: float = 0.2, half: float = 0.05) -> dict:
    return {"accuracy": acc, "accuracy_ci": (acc - half, min(1.0, acc + half)), "eer": eer,
            "eer_ci": (max(0.0, eer - half), eer + half), "occluded_area": area}


def _scores(name: str, role: str, accs: dict[str, float], psnr: float | None = None) -> B.Scores:
    s = B.Scores(name, role)
    for kind, acc in accs.items():
        for size, area in zip(B.SIZES, (0.1, 0.2, 0.3)):
            s.grid[kind, size] = _ver(acc - (area - 0.2), 1 - acc, area)
        if psnr is not None:
            s.quality[kind] = {"psnr": psnr, "psnr_ci": (psnr - 1, psnr + 1), "ssim": 0.5, "ssim_ci": (0.4, 0.6),
                               "psnr_occluded": 15.0, "psnr_occluded_ci": (14.0, 16.0), "ssim_occluded": 0.4,
                               "ssim_occluded_ci": (0.3, 0.5)}
        s.identification[kind] = {"rank1": acc / 2, "rank1_std": 0.1}
    return s


def test_method_names_leave_out_the_pass_through_and_the_papers_ablation_variants():
    names = B.method_names()
    assert "occluded" not in names
    assert {"rla", "ip-rla", "fsg-gan", "oa-gan", "id-gan", "pm", "cyclegan"} <= set(names)
    assert not {"fsg-gan-official", "id-gan-woid", "id-gan-tri"} & set(names)
    assert "fsg-gan-official" in B.method_names(include_variants=True)


def test_the_mask_supervised_rla_is_registered_and_ranked_beside_rla():
    from occface import methods as registry

    assert registry.method("rla-supervised").kind == "restorer"
    assert {"rla", "rla-supervised"} <= set(B.method_names())


def test_leaderboard_shows_hole_psnr_and_the_clean_input_columns_of_a_blind_restorer():
    blind = _scores("blind", "restorer", {"sunglasses": 0.8, "hand": 0.7}, psnr=24)
    for kind, hole in (("sunglasses", 14.0), ("hand", 16.0)):
        blind.quality[kind].update(psnr_hole=hole, psnr_hole_ci=(hole - 1, hole + 1))
    blind.clean_input = {"psnr_clean_input": 30.0, "psnr_clean_input_ci": (29.0, 31.0),
                         "predicted_area_clean": 0.02, "predicted_area_clean_ci": (0.01, 0.03)}
    occluded = _scores("occluded", "reference", {"sunglasses": 0.75, "hand": 0.75}, psnr=0)
    for q in occluded.quality.values():
        q.update(psnr_hole_occluded=5.0, psnr_hole_occluded_ci=(4.0, 6.0))
    row = B.summary(blind)
    assert row["hole PSNR"] == (15.0, 14.0, 16.0)
    assert row["PSNR on clean input"] == (30.0, 29.0, 31.0)
    assert row["mask area on clean"] == pytest.approx((2.0, 1.0, 3.0))
    assert B.summary(occluded)["hole PSNR"][0] == 5.0
    table = B.leaderboard([blind, occluded], B.Budget.for_profile("quick"), "quick")
    assert {"hole PSNR", "PSNR on clean input", "mask area on clean"} <= {c.column for c in table.cells}


def test_leaderboard_sorts_by_dlib_accuracy_and_puts_the_recognizer_last():
    scores = [_scores("weak", "restorer", {"sunglasses": 0.7, "hand": 0.6}, psnr=20),
              _scores("FROM", "recognizer", {"sunglasses": 0.99, "hand": 0.99}),
              _scores("strong", "inpainter", {"sunglasses": 0.9, "hand": 0.8}, psnr=25),
              _scores("occluded", "reference", {"sunglasses": 0.75, "hand": 0.75}, psnr=0)]
    assert [s.name for s in B.ranking(scores)] == ["strong", "occluded", "weak", "FROM"]
    table = B.leaderboard(scores, B.Budget.for_profile("quick"), "quick")
    values = table.values()
    assert list(values) == ["strong", "occluded", "weak", "FROM"]
    assert all(list(row) == list(values["strong"]) for row in values.values())  # one column order for all
    assert values["strong"]["needs mask"] == 1.0 and values["weak"]["needs mask"] == 0.0
    assert values["strong"]["dlib accuracy"] == pytest.approx(85.0)  # medium size, mean over the two kinds
    assert values["FROM"]["dlib accuracy"] is None and values["FROM"]["own-features accuracy"] == pytest.approx(99.0)
    assert values["FROM"]["PSNR"] is None
    assert values["occluded"]["PSNR"] == pytest.approx(15.0)  # the occluded input's own PSNR, not a method's
    assert values["occluded"]["needs mask"] is None


def test_leaderboard_intervals_bracket_their_values():
    scores = [_scores("a", "restorer", {"sunglasses": 0.8, "hand": 0.7, "cup": 0.9}, psnr=22)]
    cells = [c for c in B.leaderboard(scores, B.Budget.for_profile("quick"), "quick").cells if c.ci_low is not None]
    assert {c.column for c in cells} >= {"PSNR", "SSIM", "dlib accuracy", "dlib EER", "rank-1"}
    for c in cells:
        assert c.ci_low <= c.ours <= c.ci_high, c


def test_best_per_kind_and_heat_map_rows_read_the_leaderboard_size():
    scores = [_scores("a", "restorer", {"sunglasses": 0.9, "hand": 0.6}),
              _scores("b", "inpainter", {"sunglasses": 0.7, "hand": 0.8}),
              _scores("occluded", "reference", {"sunglasses": 0.99, "hand": 0.99})]
    assert B.best_per_kind(scores) == {"sunglasses": "a", "hand": "b"}  # references never win
    assert B.kind_accuracy(scores[0]) == pytest.approx({"sunglasses": 90.0, "hand": 60.0})


def test_memoized_embeds_each_distinct_image_once():
    calls = []

    def embed(images):
        calls.append(len(images))
        return images.flatten(1)[:, :4].numpy() * 2

    run = B.memoized(embed)
    x = torch.rand(5, 3, 8, 8)
    first = run(torch.cat([x, x[:2]]))
    assert calls == [5]
    again = run(x[[4, 0]])
    assert calls == [5] and np.array_equal(again, first[[4, 0]])
    assert np.array_equal(first[:5], embed(x))


def test_true_mask_restorer_finds_the_occluders_mask():
    from occface.faces.occlusion import occlude

    clean = torch.rand(40, 3, 32, 32)
    occ = occlude(clean[[3, 17, 29]], "block_white", placement="random", seed=1)
    seen = {}

    def inpaint(images, mask):
        seen["mask"] = mask
        return images * (1 - mask)

    helper = B.TrueMaskRestorer(inpaint, clean)
    assert helper.sources(occ.images).tolist() == [3, 17, 29]
    helper(occ.images)
    assert torch.equal(seen["mask"], occ.mask)
    with pytest.raises(ValueError, match="matches none"):
        helper(torch.rand(1, 3, 32, 32))


def test_budget_refuses_zero_counts_and_unknown_kinds():
    with pytest.raises(ValueError, match="at least 1"):
        B.Budget(kinds=("hand",), pairs=0, curve_pairs=2, facenet_pairs=2, people=10, probes=1, quality_faces=4,
                 speed_faces=4)
    with pytest.raises(ValueError, match="occluder kinds"):
        B.Budget(kinds=("hat",), pairs=2, curve_pairs=2, facenet_pairs=2, people=10, probes=1, quality_faces=4,
                 speed_faces=4)
    assert B.Budget.for_profile("default").kinds == B.KINDS


def test_contestant_rejects_bad_rows():
    with pytest.raises(ValueError, match="role"):
        B.Contestant("x", "painter", lambda x: x)
    with pytest.raises(ValueError, match="needs its callable"):
        B.Contestant("x", "restorer")
    with pytest.raises(ValueError, match="reference rows"):
        B.Contestant("x", "reference")


def test_faces_per_second_times_methods_and_not_references():
    images, mask = torch.rand(8, 3, 16, 16), torch.zeros(8, 1, 16, 16)
    assert B.faces_per_second(B.Contestant("occluded", "reference"), images, mask) is None
    assert B.faces_per_second(B.Contestant("i", "inpainter", lambda x, m: x * (1 - m)), images, mask) > 0


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")  # bootstrap of PSNR = inf
def test_identity_restorer_scores_as_the_occluded_input_and_a_clean_copier_ranks_first(data_root):
    """End to end on a few held-out pairs: a restorer that changes nothing must score exactly as the occluded
    reference; an inpainter that returns the clean face must reach the clean reference's accuracy, PSNR = inf,
    and lead the leaderboard."""
    from occface.faces.data import load_faces

    budget = B.Budget(kinds=("sunglasses",), pairs=10, curve_pairs=2, facenet_pairs=2, people=10, probes=1, quality_faces=8,
                      speed_faces=4)
    faces = load_faces("lfw", size=32, split="test").images  # every held-out face: the copier's lookup
    lookup = B.TrueMaskRestorer(lambda x, m: x, faces)
    contestants = [B.Contestant("clean", "reference"), B.Contestant("occluded", "reference"),
                   B.Contestant("identity", "restorer", lambda x: x.clone()),
                   B.Contestant("copier", "inpainter", lambda x, m: faces[lookup.sources(x)])]
    scores = {c.name: B.evaluate(c, "quick", budget, sizes=("medium",)) for c in contestants}
    occluded, identity, copier, clean = (scores[n] for n in ("occluded", "identity", "copier", "clean"))
    key = ("sunglasses", "medium")
    assert identity.grid[key]["accuracy"] == occluded.grid[key]["accuracy"]
    assert identity.grid[key]["eer"] == occluded.grid[key]["eer"]
    assert identity.quality["sunglasses"]["psnr"] == pytest.approx(occluded.quality["sunglasses"]["psnr_occluded"])
    assert copier.grid[key]["accuracy"] == pytest.approx(clean.grid[key]["accuracy"], abs=0.03)
    assert copier.quality["sunglasses"]["psnr"] == np.inf
    assert copier.identification["sunglasses"]["rank1"] >= identity.identification["sunglasses"]["rank1"]
    order = [s.name for s in B.ranking([identity, copier, occluded])]
    assert order[0] == "copier"
    for s in scores.values():
        for col, (value, lo, hi) in B.summary(s).items():
            if lo is not None and np.isfinite(value):
                assert lo <= value <= hi, (s.name, col)


def test_real_occlusion_table_skips_inpainters_without_a_mask_predictor(data_root, tmp_path):
    """A tiny folder in the protocols.load_folder layout (two LFW people, their photos standing in for clean and
    occluded ones): restorers are scored, inpainters only with a mask predictor."""
    import shutil

    from occface.eval.real import load_real_set

    for person in ("George_W_Bush", "Colin_Powell"):
        photos = sorted((data_root / "lfw" / "lfw-deepfunneled" / person).glob("*.jpg"))[:3]
        for part, files in (("clean", photos[:2]), ("occluded", photos[2:])):
            (tmp_path / person / part).mkdir(parents=True)
            for f in files:
                shutil.copy(f, tmp_path / person / part / f.name)
    sets = {"user": load_real_set(tmp_path, 32)}
    rows = [B.Contestant("clean", "reference"), B.Contestant("occluded", "reference"),
            B.Contestant("identity", "restorer", lambda x: x.clone()),
            B.Contestant("hole", "inpainter", lambda x, m: x * (1 - m))]
    without = B.real_occlusion_table(rows, sets)
    assert set(without.values()) == {"occluded", "identity"}
    assert without.values()["identity"] == without.values()["occluded"] and list(without.values()["identity"]) == [
        "own folder"]
    no_hole = B.real_occlusion_table(rows, sets, predict_mask=lambda x: torch.zeros_like(x[:, :1]))
    assert no_hole.values()["hole (OA-GAN mask)"] == without.values()["occluded"]  # an empty mask fills nothing
    assert all(c.ci_low <= c.ours <= c.ci_high for c in no_hole.cells)
    seen = {}

    def embed(x):  # a recognizer at its own input size: FROM's row
        seen["shape"] = tuple(x.shape[-2:])
        return x.flatten(1).numpy()

    with_from = B.real_occlusion_table(rows + [B.Contestant("FROM", "recognizer", embed, size=(28, 24))], sets)
    assert list(with_from.values())[-1] == "FROM" and seen["shape"] == (28, 24)
    assert B.real_occlusion_table(rows, {}) is None


def test_clean_input_table_reads_a_restorers_own_mask(data_root):
    from occface.studies.compare import clean_input_table

    class Masker:
        def restore(self, images):
            return images * 0.9

        def predict_mask(self, images):
            return torch.zeros_like(images[:, :1])

    table = clean_input_table("quick", {"masker": Masker().restore, "identity": lambda x: x}, max_images=6)
    cells = {(c.row, c.column): c for c in table.cells}
    assert cells["masker", "mask area on clean"].ours == 0.0
    assert 10 < cells["masker", "PSNR on clean input"].ours < 40
    assert cells["identity", "mask area on clean"].ours is None
