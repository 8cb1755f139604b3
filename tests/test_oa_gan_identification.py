"""OA-GAN Fig. 12 (Sec. IV-E): the natural identification set's construction and OA-GAN's restore on a
recognizer's non-square crop (the ranks themselves: tests/test_protocols.py)."""

from __future__ import annotations

import pytest
import torch

from occface.papers.oa_gan import model as M
from occface.papers.oa_gan.tables import natural_identification_set


def test_restore_on_a_non_square_crop_keeps_shape_and_an_all_keep_input():
    torch.manual_seed(0)
    net = M.OAGAN(M.NetConfig(image_size=16, width=4, res_blocks=1, attributes=0))
    faces = torch.rand(2, 3, 28, 24)
    assert net.restore(faces).shape == faces.shape and net.predict_mask(faces).shape == (2, 1, 28, 24)
    with torch.no_grad():  # a mask head that keeps everything: Eq. 2 returns the crop itself
        net.aware.mask_head.weight.zero_()
        net.aware.mask_head.bias.fill_(50.0)
    assert torch.allclose(net.restore(faces), faces, atol=1e-6)


def test_natural_identification_set_pairs_occluded_probes_with_one_clean_photo_each(data_root):
    from occface.papers.oa_gan.natural import attributes_folder

    if attributes_folder() is None:
        pytest.skip("no lfw/attributes folder in OCCFACE_DATA")
    test = natural_identification_set((56, 48))
    gallery, probes = test.gallery_identity.tolist(), test.probe_identity.tolist()
    assert len(gallery) == len(set(gallery)) > 100          # one clean photo per person
    assert set(probes) == set(gallery) and len(probes) > len(gallery)
    assert test.probes.shape[1:] == test.gallery.shape[1:] == (3, 56, 48)
    # no probe photo is also a gallery photo
    flat = lambda x: {hash(t.numpy().tobytes()) for t in x}  # noqa: E731
    assert not flat(test.probes) & flat(test.gallery)
