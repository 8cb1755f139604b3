"""dlib's face-recognition ResNet in torch against dlib itself on real LFW chips; the weight cache's recovery."""

import re

import numpy as np
import pytest
import torch

from occface.pretrained import dlib_resnet
from occface.pretrained.dlib_resnet import compare_with_dlib, load_dlib_resnet

pytest.importorskip("dlib")

from occface.eval.recognizers import DlibEvaluator  # noqa: E402
from occface.faces.data import load_faces  # noqa: E402


@pytest.fixture(scope="module")
def chips(data_root):
    faces = load_faces("lfw", size=64, split="test", max_images=20)
    return DlibEvaluator().chips(faces.images)


def test_matches_dlib_on_lfw_chips(chips):
    net = load_dlib_resnet("cpu")
    result = compare_with_dlib(chips, net)
    assert result["n"] == 20 and result["n_pairs"] == 190
    assert result["max_abs_diff"] <= 1e-4
    assert result["decisions_agree"] == 1.0 and result["n_disagree"] == 0
    # channels_last gives the same descriptors; the chips get a gradient through the frozen network
    x = torch.from_numpy(np.ascontiguousarray(chips[:2])).permute(0, 3, 1, 2).float().requires_grad_()
    fast = load_dlib_resnet("cpu", channels_last=True)
    assert torch.allclose(fast(x), net(x), atol=1e-5)
    net(x).norm(dim=1).sum().backward()
    assert torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0
    assert not any(p.requires_grad for p in net.parameters())


def test_corrupt_cache_is_moved_aside_and_reconverted(tmp_path, monkeypatch):
    monkeypatch.setenv("OCCFACE_CACHE", str(tmp_path))
    path = dlib_resnet._cache_file()
    path.write_bytes(b"not a torch file")
    with pytest.warns(UserWarning, match=re.escape(str(path))):
        net = load_dlib_resnet("cpu")
    aside = list(path.parent.glob(path.name + ".bad-*"))
    assert len(aside) == 1 and aside[0].read_bytes() == b"not a torch file"
    state = torch.load(path, map_location="cpu", weights_only=True)
    assert torch.equal(state["fc.weight"], net.fc.weight)
