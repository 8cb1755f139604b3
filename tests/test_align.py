"""The one similarity solver (closed-form Umeyama) against scikit-image's estimator."""

import numpy as np
import pytest
from skimage.transform import SimilarityTransform

from occface.faces.align import similarity_matrix, template


def test_similarity_matrix_equals_skimage_estimate_batched():
    rng = np.random.default_rng(0)
    dst = template(64)
    src = dst[None] * rng.uniform(0.5, 2.0, (6, 1, 1)) + rng.normal(0, 3, (6, 5, 2))
    mats = similarity_matrix(src, np.broadcast_to(dst, src.shape))
    for s, m in zip(src, mats):
        ref = SimilarityTransform.from_estimate(s, dst) if hasattr(SimilarityTransform, "from_estimate") else None
        if ref is None:
            ref = SimilarityTransform()
            ref.estimate(s, dst)
        np.testing.assert_allclose(m, ref.params, atol=1e-9)


def test_coincident_landmarks_are_refused_with_a_message():
    with pytest.raises(ValueError, match="coincide"):
        similarity_matrix(np.zeros((5, 2)), template(64))
