"""Five-point face alignment: dlib 68-point landmarks -> 5 MTCNN/ArcFace points -> similarity warp.

The five points are (left eye centre, right eye centre, nose tip, left mouth corner, right mouth corner),
"left" meaning the image's left. They are computed once per data set by ``scripts/compute_landmarks.py``
(dlib HOG detector + the 68-point shape predictor of face-recognition-models) and kept in
``occface/assets/landmarks_<name>.npz``; loading faces never runs dlib.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
from skimage.transform import SimilarityTransform

ASSETS = Path(__file__).resolve().parents[1] / "assets"

# The 112x96 five-point template of SphereFace/CosFace (used by FROM, 112x96 crops); the ArcFace 112x112
# template is the same shifted 8 px right, which `template` reproduces by centring horizontally.
_TEMPLATE_112x96 = np.array([[30.2946, 51.6963], [65.5318, 51.5014], [48.0252, 71.7366],
                             [33.5493, 92.3655], [62.7299, 92.2041]], dtype=np.float64)

# How each stored landmark set was obtained (``method`` array of the landmark file).
DETECTED, FIXED_BOX, CENTRE_CROP = 0, 1, 2
METHOD_NAMES = {DETECTED: "HOG detection", FIXED_BOX: "fixed central box", CENTRE_CROP: "centre crop"}


def as_hw(size: int | tuple[int, int]) -> tuple[int, int]:
    """``size`` as (H, W): an int means a square."""
    if isinstance(size, (int, np.integer)):
        if size <= 0:
            raise ValueError(f"size must be positive, got {size}")
        return int(size), int(size)
    try:
        h, w = (int(v) for v in size)
    except (TypeError, ValueError):
        raise ValueError(f"size must be an int or (H, W), got {size!r}") from None
    if h <= 0 or w <= 0:
        raise ValueError(f"size must be positive, got {size!r}")
    return h, w


def template(size: int | tuple[int, int]) -> np.ndarray:
    """The fixed 5-point template (x, y in output pixels) for an output of ``size`` (int or (H, W)).

    Scaled from the 112x96 CosFace/FROM template by H/112 and centred horizontally, so (112, 96) gives
    FROM's crop and 112 gives ArcFace's 112x112 template.
    """
    h, w = as_hw(size)
    s = h / 112.0
    out = _TEMPLATE_112x96.copy()
    out[:, 0] = (out[:, 0] - 48.0) * s + w / 2.0
    out[:, 1] = out[:, 1] * s
    return out


def five_from_68(points: np.ndarray) -> np.ndarray:
    """(68,2) iBUG points -> (5,2) eye centres (mean of 6 contour points), nose tip (30), mouth corners (48, 54)."""
    points = np.asarray(points, dtype=np.float64)
    return np.stack([points[36:42].mean(0), points[42:48].mean(0), points[30], points[48], points[54]])


def similarity_matrix(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Least-squares similarity (Umeyama) ``src`` -> ``dst`` as a 3x3 matrix, vectorised over a leading
    batch axis ((N,P,2) points give (N,3,3))."""
    src, dst = np.asarray(src, np.float64), np.asarray(dst, np.float64)
    single = src.ndim == 2
    if single:
        src, dst = src[None], dst[None]
    mu_s, mu_d = src.mean(1, keepdims=True), dst.mean(1, keepdims=True)
    s, d = src - mu_s, dst - mu_d
    # complex-number form of the 2-D similarity: d = a * s with a = sum(conj(s) d) / sum(|s|^2)
    zs, zd = s[..., 0] + 1j * s[..., 1], d[..., 0] + 1j * d[..., 1]
    norm = (np.abs(zs) ** 2).sum(1)
    if not np.all(norm > 0) or not np.all(np.isfinite(norm)):
        raise ValueError("could not estimate a similarity transform: the landmarks coincide or are not finite")
    a = (np.conj(zs) * zd).sum(1) / norm
    m = np.zeros((len(a), 3, 3))
    m[:, 0, 0], m[:, 0, 1], m[:, 1, 0], m[:, 1, 1] = a.real, -a.imag, a.imag, a.real
    m[:, :2, 2] = mu_d[:, 0] - np.einsum("nij,nj->ni", m[:, :2, :2], mu_s[:, 0])
    m[:, 2, 2] = 1.0
    return m[0] if single else m


def similarity(src: np.ndarray, dst: np.ndarray) -> SimilarityTransform:
    """:func:`similarity_matrix` as a scikit-image transform (for ``skimage.transform.warp``)."""
    return SimilarityTransform(matrix=similarity_matrix(src, dst))


def model_path(name: str) -> str:
    """Path of a dlib model file shipped by face-recognition-models (found without importing the package,
    whose ``__init__`` needs pkg_resources)."""
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise ValueError("face-recognition-models is not installed; `pip install face-recognition-models`")
    path = Path(list(spec.submodule_search_locations)[0]) / "models" / name
    if not path.exists():
        raise ValueError(f"{path} is missing; reinstall face-recognition-models")
    return str(path)


class LandmarkDetector:
    """dlib HOG face detector + 68-point shape predictor, reduced to the five template points."""

    def __init__(self, upsample: int = 0) -> None:
        import dlib  # only needed when (re)computing landmarks

        self.dlib = dlib
        self.detector = dlib.get_frontal_face_detector()
        self.predictor = dlib.shape_predictor(model_path("shape_predictor_68_face_landmarks.dat"))
        self.upsample = upsample

    def __call__(self, image: np.ndarray, fallback_box: tuple[int, int, int, int]) -> tuple[np.ndarray, int]:
        """Five points of the face nearest the image centre; ``fallback_box`` (l, t, r, b) when none is found."""
        dlib = self.dlib
        image = np.ascontiguousarray(image)
        found = self.detector(image, self.upsample)
        if len(found):
            h, w = image.shape[:2]
            # deep-funneled LFW often shows several people; the aligned subject is the one nearest the centre
            rect = min(found, key=lambda r: (r.center().x - w / 2) ** 2 + (r.center().y - h / 2) ** 2)
            method = DETECTED
        else:
            rect = dlib.rectangle(*fallback_box)
            method = FIXED_BOX
        shape = self.predictor(image, rect)
        pts = np.array([[p.x, p.y] for p in shape.parts()], dtype=np.float64)
        return five_from_68(pts), method


def load_landmarks(name: str) -> dict:
    """The committed landmark file of data set ``name``: ``paths`` (relative to the data root),
    ``landmarks`` (N,5,2) float32 in source pixels, ``method`` (N,) int8 (see ``METHOD_NAMES``)."""
    path = ASSETS / f"landmarks_{name}.npz"
    if not path.exists():
        raise ValueError(f"{path} is missing; recompute it with `python scripts/compute_landmarks.py {name}`")
    with np.load(path, allow_pickle=False) as f:
        return {"paths": [str(p) for p in f["paths"]], "landmarks": f["landmarks"].astype(np.float32),
                "method": f["method"].astype(np.int8), "file": path}
