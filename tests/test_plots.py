"""The shared figure helpers: one image grid for every qualitative figure, labels that never overlap."""

import matplotlib

matplotlib.use("Agg")
import torch  # noqa: E402

from occface.plots import image_grid, label_points  # noqa: E402


def test_image_grid_labels_every_row_and_shows_grey_and_rgb():
    fig = image_grid({"clean": torch.rand(3, 3, 8, 8), "mask": torch.rand(3, 1, 8, 8)}, ["a", "b", "c"])
    axes = fig.axes
    assert len(axes) == 6
    assert [axes[0].get_ylabel(), axes[3].get_ylabel()] == ["clean", "mask"]
    assert [ax.get_title() for ax in axes[:3]] == ["a", "b", "c"]


def test_point_labels_do_not_overlap():
    import matplotlib.pyplot as plt
    from matplotlib.text import Text

    fig, ax = plt.subplots()
    xs, ys = [1.0, 1.01, 1.02, 5.0], [2.0, 2.0, 2.01, 3.0]
    ax.scatter(xs, ys)
    label_points(ax, xs, ys, ["left_face", "right_face", "eyes", "far"])
    renderer = fig.canvas.get_renderer()
    boxes = []
    for t in ax.texts:
        t.update_positions(renderer)
        boxes.append(Text.get_window_extent(t, renderer))  # the text, without its leader line
    assert len(boxes) == 4
    assert not any(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1:])
