"""RLA experiment wiring that needs no data: Table I rows map onto valid occlusions, Table II without
real-occlusion data is empty with a reason, the ordering counter, checkpoint keys."""

import pytest

from occface.papers.rla import published
from occface.papers.rla import tables as T
from occface.papers.rla.train import RLAExperimentConfig, train_key
from occface.faces.occlusion import FROM_REGIONS, KINDS
from occface.results import Cell
from occface.tables import Table


@pytest.mark.parametrize("row", list(published.TABLE1))
def test_every_table1_row_is_a_test_template_occlusion(row: str):
    kw = T.row_occlusion(row)
    assert kw["kind"] in KINDS and kw["templates"] == "test" and "seed" not in kw
    assert kw["placement"] in ("region", "semantic")
    if kw["placement"] == "region":
        assert kw["region"] in FROM_REGIONS
    assert len(published.TABLE1[row]) == len(published.COLUMNS)


def test_table2_without_real_data_is_empty_and_says_why():
    table, raw = T.table2(RLAExperimentConfig.for_profile("quick"), {}, sets={})
    assert [c.column for c in table.cells] == published.COLUMNS and raw == {}
    assert all(c.ours is None and c.paper is not None for c in table.cells)
    assert "OCCFACE_REAL_OCCLUSIONS" in table.notes[0]


def test_table2_scores_every_method_on_a_real_set_with_intervals(orl_faces):
    import numpy as np

    from occface.eval.real import RealSet

    ident = orl_faces.identity.numpy()
    people = [np.flatnonzero(ident == p)[:4] for p in range(6)]
    clean = np.concatenate([p[:2] for p in people])
    occ = np.concatenate([p[2:] for p in people])
    images = orl_faces.images
    blocked = images[occ].clone()
    blocked[..., 20:36, 8:56] = 0  # a dark band over the eyes
    data = RealSet(images[clean], ident[clean], blocked, ident[occ], {"all": np.ones(len(occ), bool)}, 0, None)
    restorers = {"Occluded face": T.grey_restore, "PCA": lambda x: images[occ][: len(x)]}  # an oracle "restorer"
    table, raw = T.table2(RLAExperimentConfig.for_profile("quick"), restorers, sets={"user": data}, verbose=False)
    cells = {c.column: c for c in table.cells}
    assert {c.row for c in table.cells} == {"OCCFACE_REAL_OCCLUSIONS"}
    assert cells["Occluded face"].ci_low <= cells["Occluded face"].ours <= cells["Occluded face"].ci_high
    assert cells["PCA"].ours <= cells["Occluded face"].ours  # the unoccluded photos verify at least as well
    assert cells["RLA"].ours is None
    assert raw[("OCCFACE_REAL_OCCLUSIONS", "PCA")]["genuine"] == 12 * 2


def test_orderings_count_rows_where_lower_eer_holds():
    cells = [Cell("a", "RLA", 5.0), Cell("a", "Occluded face", 7.0),
             Cell("b", "RLA", 9.0), Cell("b", "Occluded face", 7.0), Cell("c", "RLA", None)]
    table = Table("t", cells, "title")
    assert T.orderings(table)["RLA < Occluded face"] == (1, 2)
    assert T.mean_by_column(table) == {"RLA": 7.0, "Occluded face": 7.0}


def test_checkpoint_key_ignores_evaluation_sizes_only():
    cfg = RLAExperimentConfig.for_profile("quick")
    other = RLAExperimentConfig.for_profile("quick")
    other.table_pairs, other.table_rows = 999, ()
    assert train_key(cfg) == train_key(other)
    other.stage1_steps += 1
    assert train_key(cfg) != train_key(other)


def test_full_profile_uses_the_papers_baseline_sizes():
    cfg = RLAExperimentConfig.for_profile("full")
    assert cfg.pca_components == 400 and cfg.src_atoms == 20000 and cfg.model.hidden == 2048
    assert cfg.table_rows == ()


def test_stage_keys_leave_out_only_what_a_stage_does_not_depend_on():
    from occface.papers.rla.train import stage_key

    cfg = RLAExperimentConfig.for_profile("quick")
    later = RLAExperimentConfig.for_profile("quick")
    later.stage3_steps, later.ip_steps, later.recognizer = 999, 999, "lightcnn"
    assert stage_key(cfg, "stage1") == stage_key(later, "stage1")
    assert stage_key(cfg, "stage2") == stage_key(later, "stage2")
    assert stage_key(cfg, "stage3") != stage_key(later, "stage3")
    data = RLAExperimentConfig.for_profile("quick")
    data.placement = "semantic"  # other training data: every stage retrains
    assert all(stage_key(cfg, s) != stage_key(data, s) for s in ("stage1", "stage2", "stage3"))
