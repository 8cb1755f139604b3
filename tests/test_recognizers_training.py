"""``train_recognizer`` on tiny stand-in faces: the centre-loss recognizer moves its centres, and a recognizer
trained on transformed faces (``train_images``) gets its own checkpoint, reused for the same pixels."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from occface.eval import recognizers as R
from occface.faces.data import Faces
from occface.profiles import get_profile


@pytest.fixture
def tiny(tmp_path, monkeypatch):
    """A 3-step profile at 16x16 and 4 people x 3 random faces, in a private cache."""
    monkeypatch.setenv("OCCFACE_CACHE", str(tmp_path))
    profile = dataclasses.replace(get_profile("quick"), recog_size=(16, 16), steps=3, batch=4, width=4,
                                  max_train_images=0)
    import occface.profiles

    monkeypatch.setattr(occface.profiles, "get_profile", lambda name: profile)  # what ProfileConfig reads
    monkeypatch.setattr(R, "get_profile", lambda name: profile, raising=False)
    g = torch.Generator().manual_seed(0)
    faces = Faces(torch.rand(12, 3, 16, 16, generator=g), torch.arange(4).repeat_interleave(3),
                  [f"p{i}" for i in range(4)], torch.zeros(12, 5, 2), [f"p{i // 3}/{i}.jpg" for i in range(12)])
    import occface.faces.data as data

    monkeypatch.setattr(data, "load_faces", lambda *a, **k: faces)
    return tmp_path / "checkpoints"


def _checkpoints(folder) -> set[str]:
    return {p.name for p in folder.glob("recognizer-*.pt")}


def test_centre_loss_recognizer_trains_and_keeps_its_centres(tiny):
    from occface.train import load_checkpoint

    rec = R.train_recognizer("lightcnn", "quick", loss="centerloss", verbose=False)
    assert rec.info.config.loss == "centerloss" and "centre loss" in rec.info.describe()
    (name,) = _checkpoints(tiny)
    centres = load_checkpoint(tiny / name)["modules"]["centres"]["centres"]
    assert centres.shape == (4, rec.info.config.embedding) and centres.abs().sum() > 0


def test_train_images_get_their_own_checkpoint_and_reuse_it(tiny):
    plain = R.train_recognizer("lightcnn", "quick", loss="softmax", verbose=False)
    darker = R.train_recognizer("lightcnn", "quick", loss="softmax", verbose=False, train_images=lambda x: x * 0.5)
    assert plain.info.images_digest == "" and len(darker.info.images_digest) == 16
    assert len(_checkpoints(tiny)) == 2
    again = R.train_recognizer("lightcnn", "quick", loss="softmax", verbose=False, train_images=lambda x: x / 2)
    assert len(_checkpoints(tiny)) == 2  # the same pixels: the same model, not retrained
    for a, b in zip(darker.state_dict().values(), again.state_dict().values()):
        assert torch.equal(a, b)
    with pytest.raises(ValueError, match="keep the faces' shape"):
        R.train_recognizer("lightcnn", "quick", loss="softmax", train_images=lambda x: x[:, :, :8])
