"""MarginSoftmax against the closed forms of FROM Eq. 1; the dlib evaluator's chip geometry and its
verdicts on a handful of real LFW faces."""

import math
import os

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from occface.eval.recognizers import CHIP_POINTS, RecognizerConfig, resize_aligned, to_chips
from occface.faces.align import similarity_matrix
from occface.nn.margins import MarginSoftmax


def _cos(head, x):
    return F.linear(F.normalize(x), F.normalize(head.weight))


def test_margin_softmax_reduces_to_cosface_arcface_sphereface():
    torch.manual_seed(0)
    x, y = torch.randn(6, 8), torch.tensor([0, 1, 2, 3, 4, 0])
    for kw, target in [(dict(s=30, m3=0.35), lambda c: c - 0.35),
                       (dict(s=64, m2=0.5), lambda c: torch.cos(torch.acos(c) + 0.5)),
                       (dict(s=64, m1=1.5), lambda c: torch.cos(1.5 * torch.acos(c)))]:
        head = MarginSoftmax(8, 5, **kw)
        logits = head(x, y)
        cos = _cos(head, x)
        want = cos.clone()
        want[torch.arange(6), y] = target(cos[torch.arange(6), y])
        phi_ok = (kw.get("m1", 1) * torch.acos(cos[torch.arange(6), y]) + kw.get("m2", 0)) <= math.pi
        rows = torch.arange(6)[phi_ok]
        assert torch.allclose(logits[rows], kw["s"] * want[rows], atol=1e-4)
        # non-target logits are untouched
        mask = torch.ones_like(cos, dtype=torch.bool)
        mask[torch.arange(6), y] = False
        assert torch.allclose(logits[mask], kw["s"] * cos[mask], atol=1e-5)


def test_margin_target_is_monotone_beyond_pi_and_differentiable():
    head = MarginSoftmax(2, 2, s=1.0, m1=4.0)
    angles = torch.linspace(0.01, math.pi - 0.01, 200)
    with torch.no_grad():
        head.weight.copy_(torch.tensor([[1.0, 0.0], [0.0, 1.0]]))
    x = torch.stack([torch.cos(angles), torch.sin(angles)], 1).requires_grad_(True)
    target = head(x, torch.zeros(200, dtype=torch.long))[:, 0]
    assert (target.diff() < 0).all()                        # psi decreases with the angle
    target.sum().backward()
    assert torch.isfinite(x.grad).all()


def test_template_maps_onto_dlib_chip_points_and_warp_is_consistent():
    from occface.faces.align import template

    m = similarity_matrix(template(64), CHIP_POINTS)
    mapped = np.c_[template(64), np.ones(5)] @ m[:2].T
    assert np.abs(mapped - CHIP_POINTS).max() < 12            # 5 points, a 4-dof fit: residuals only
    # an image whose pixel values are its own x coordinate: the chip must read the similarity's x back
    h = w = 64
    ramp = torch.arange(w, dtype=torch.float32).view(1, 1, 1, w).expand(1, 3, h, w) / 100
    chip = to_chips(ramp)[0, 0] * 100
    inv = np.linalg.inv(m)
    for u, v in [(75, 75), (40, 60), (100, 50)]:
        x = inv[0, 0] * u + inv[0, 1] * v + inv[0, 2]
        assert abs(chip[v, u].item() - x) < 0.05


def test_resize_aligned_keeps_template_points():
    from occface.faces.align import template

    img = torch.zeros(1, 1, 64, 64)
    x, y = np.round(template(64)[0]).astype(int)
    img[0, 0, y - 1:y + 2, x - 1:x + 2] = 1
    out = resize_aligned(img, (56, 48))[0, 0]
    yy, xx = np.unravel_index(out.argmax().item(), out.shape)
    tx, ty = template((56, 48))[0]
    assert abs(xx - tx) <= 1.5 and abs(yy - ty) <= 1.5


def test_recognizer_config_scales_with_profile():
    q, d = RecognizerConfig.for_arch("lresnet", "quick"), RecognizerConfig.for_arch("lresnet", "default")
    assert q.steps < d.steps and q.input_size == (56, 48)
    net = q.build()
    assert net.embed(torch.rand(3, 3, 32, 32)).shape == (3, q.embedding)
    with pytest.raises(ValueError, match="arch"):
        RecognizerConfig.for_arch("vgg", "quick")


@pytest.mark.skipif(not os.environ.get("OCCFACE_DATA"), reason="needs OCCFACE_DATA")
def test_dlib_evaluator_on_real_faces():
    """Four LFW faces (two of one person) aligned to our template: same < 0.6 < different (dlib's threshold)."""
    from PIL import Image
    from skimage.transform import warp

    from occface.faces.align import LandmarkDetector, similarity, template
    from occface.paths import data_root
    from occface.eval.recognizers import DlibEvaluator

    base = data_root() / "lfw" / "lfw-deepfunneled"
    files = [base / "Aaron_Peirsol" / f"Aaron_Peirsol_000{i}.jpg" for i in (1, 2)] + \
            [base / "Abdullah_Gul" / "Abdullah_Gul_0001.jpg", base / "Adam_Sandler" / "Adam_Sandler_0001.jpg"]
    det = LandmarkDetector()
    faces = []
    for f in files:
        img = np.asarray(Image.open(f).convert("RGB"))
        pts, _ = det(img, (69, 80, 173, 184))
        faces.append(warp(img, similarity(pts, template(64)).inverse, output_shape=(64, 64)).transpose(2, 0, 1))
    emb = DlibEvaluator(batch=2).embed(torch.tensor(np.stack(faces)).float())
    assert emb.shape == (4, 128) and emb.dtype == np.float32
    d = np.linalg.norm(emb[:, None] - emb[None], axis=2)
    assert d[0, 1] < 0.6 and d[0, 2] > 0.6 and d[0, 3] > 0.6 and d[2, 3] > 0.6
