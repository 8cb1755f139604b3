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


def test_the_overlap_check_sees_two_texts_on_one_spot_and_passes_apart_ones():
    import matplotlib.pyplot as plt

    from occface.plots import text_overlaps

    fig, ax = plt.subplots(figsize=(3, 2))
    ax.text(0.5, 0.5, "one label")
    ax.text(0.52, 0.5, "another label")
    assert text_overlaps(fig)
    fig, ax = plt.subplots(figsize=(3, 2))
    ax.text(0.1, 0.1, "one")
    ax.text(0.6, 0.8, "two")
    assert not text_overlaps(fig)


def test_a_wide_grid_with_long_labels_and_a_title_wraps_and_overlaps_nothing():
    from occface.plots import text_overlaps

    rows = {"Occluded image": torch.rand(16, 3, 8, 8), "HDC + multi-RFs Dis. (ours, full model)": torch.rand(16, 3, 8, 8),
            "w/o HDC": torch.rand(16, 1, 8, 8)}
    fig = image_grid(rows, [f"Set2-LFW face {i}" for i in range(16)], title="FSG-GAN and its ablations on Set2-LFW")
    nrows, ncols = fig.axes[0].get_subplotspec().get_geometry()[:2]
    assert (nrows, ncols) == (2 * 3, 8)  # 16 columns wrap into two balanced blocks of 8 (at most 10)
    assert text_overlaps(fig) == []
    assert fig._suptitle.get_window_extent().y0 >= max(ax.title.get_window_extent().y1 for ax in fig.axes[:10]) - 1
