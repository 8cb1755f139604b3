import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402

from occface.widgets import draw, explorer, render  # noqa: E402


def test_render_outputs(faces128):
    x, lm = faces128
    r = render(x, lm, 3, "sunglasses", "semantic", rotation=5, scale=1.0, K=4)
    assert r["occluded"].shape == (3, 128, 128) and r["mask"].shape == (128, 128)
    assert r["pattern"].shape == (4, 4) and r["label"] > 0 and r["pattern"].any()
    assert abs(r["area"] - r["mask"].mean().item()) < 1e-6
    bigger = render(x, lm, 3, "sunglasses", "semantic", scale=2.0, K=4)
    assert bigger["area"] > r["area"]
    with pytest.raises(ValueError, match="out of range"):
        render(x, lm, 99, "hand", "random")


def test_draw_and_explorer(faces128):
    import matplotlib.pyplot as plt
    x, lm = faces128
    fig = plt.figure()
    draw(fig, render(x, lm, 0, "mouth_mask", "semantic"))
    assert len(fig.axes) == 3
    box = explorer(x[:4], lm[:4])
    sliders = box.children[1].children
    sliders[1].value = 2.0  # the size slider re-renders through the callback without error
    assert type(box).__name__ == "VBox"
    plt.close("all")
