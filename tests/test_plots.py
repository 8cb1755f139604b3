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


def test_crowded_point_labels_overlap_nothing_stay_inside_and_share_one_spot():
    """02's accuracy-vs-area scatter in miniature: three groups on a few spots, two points on one spot, a
    point on the top edge. The check counts no overlapping text; every label lies inside the axes."""
    import matplotlib.pyplot as plt

    from occface.plots import text_overlaps

    points = {"cup": (8.7, 100), "mouth": (9.8, 100), "block_black": (14.06, 100), "block_noise": (14.06, 100),
              "S=1.0": (15.0, 100), "block_white": (14.06, 87.5), "left_eye": (13.0, 87.5), "hand": (16.5, 87.5),
              "phone": (16.4, 93.75), "nose": (8.2, 93.75), "eyeglasses": (6.7, 93.75),
              "right_eye": (11.9, 81.25), "sunglasses": (12.07, 81.25), "upper_face": (42.5, 50.0)}
    fig, ax = plt.subplots(figsize=(6, 4))
    xs, ys = zip(*points.values())
    ax.scatter(xs, ys)
    label_points(ax, xs, ys, list(points))
    assert text_overlaps(fig) == []
    texts = sorted(t.get_text() for t in ax.texts)
    assert "block_black, block_noise" in texts and len(texts) == len(points) - 1
    frame = ax.get_window_extent()
    for t in ax.texts:
        box = t.get_window_extent()
        assert frame.x0 <= box.x0 and box.x1 <= frame.x1 and frame.y0 <= box.y0 and box.y1 <= frame.y1, t
