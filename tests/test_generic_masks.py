"""Generic inpainting holes (occface.faces.masks) and the DeepFill trained on them (issue 24): the holes
cover the stated area, read no occluder template, depend only on the seed; the generic DeepFill is its own
registered method whose config keeps the in-domain DeepFill's checkpoint key."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from occface.faces import masks


@pytest.mark.parametrize("draw", [masks.free_form_masks, masks.rectangle_masks, masks.generic_masks])
def test_generic_holes_cover_the_stated_area_and_repeat_for_a_seed(draw):
    m = draw(40, 32, seed=3, area=(0.1, 0.4))
    area = m.mean((1, 2, 3))
    assert m.shape == (40, 1, 32, 32) and set(m.unique().tolist()) <= {0.0, 1.0}
    assert area.min() >= 0.1 - 1 / 32 and area.max() <= 0.4 + 1 / 32  # rectangles: up to a row of rounding
    assert torch.equal(m, draw(40, 32, seed=3, area=(0.1, 0.4)))
    assert not torch.equal(m, draw(40, 32, seed=4, area=(0.1, 0.4)))


def test_generic_masks_mix_strokes_and_rectangles():
    m = masks.generic_masks(30, 32, seed=0)
    filled_box = [bool((mi[0].any(1).sum() * mi[0].any(0).sum()) == mi.sum()) for mi in m]
    assert 0 < sum(filled_box) < len(filled_box)  # some holes are boxes, some are strokes


def test_hole_pairs_read_no_occluder_template(monkeypatch):
    import occface.faces.occlusion as occlusion
    import occface.faces.templates as templates

    def refuse(*args, **kwargs):
        raise AssertionError("a generic hole must not read an occluder template")

    for module in (templates, occlusion):
        monkeypatch.setattr(module, "template_bank", refuse)
    clean = torch.rand(6, 3, 32, 32)
    holed, mask = masks.hole_pairs(clean, seed=1)
    assert torch.equal(holed * (1 - mask), clean * (1 - mask))  # unchanged outside the hole
    assert torch.equal(holed * mask, torch.zeros_like(holed))    # nothing pasted inside it


def test_bad_area_is_refused_with_the_valid_range():
    with pytest.raises(ValueError, match="0 < low < high < 1"):
        masks.generic_masks(2, 32, seed=0, area=(0.5, 0.2))


def test_generic_deepfill_is_registered_and_keeps_the_in_domain_key():
    from occface import registry
    from occface.baselines import deepfill

    cfg = deepfill.DeepFillConfig.for_profile("quick")
    generic = dataclasses.replace(cfg, masks="generic")
    key = dataclasses.asdict(cfg)
    key.pop("masks")
    assert deepfill.checkpoint_key(cfg) == key  # the field's default leaves the old key as it was
    assert deepfill.checkpoint_key(generic) != deepfill.checkpoint_key(cfg)
    assert registry.method("deepfill-generic").kind == "inpainter"
    assert registry.method("deepfill").build is not registry.method("deepfill-generic").build
    with pytest.raises(ValueError, match="occluders"):
        deepfill.training_data(dataclasses.replace(cfg, masks="strokes"))


def test_fsg_gan_compares_the_generic_deepfill_and_labels_the_in_domain_one_an_upper_bound():
    from occface.papers.fsg_gan import tables

    assert tables.COMPARED["DeepFill"] == "deepfill-generic"
    assert tables.COMPARED[tables.UPPER_BOUND] == "deepfill" and "upper bound" in tables.UPPER_BOUND
