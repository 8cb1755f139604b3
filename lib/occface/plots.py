"""One image grid for every qualitative figure: rows of faces, labelled on the left, titled on top."""

from __future__ import annotations

from typing import Sequence

import torch


def as_display(image: torch.Tensor) -> tuple:
    """(array, cmap) for ``imshow``: one-channel images in grey, RGB as H x W x 3, clipped to [0, 1]."""
    image = image.detach().float().cpu().clamp(0, 1)
    if image.dim() == 3 and image.shape[0] == 1:
        image = image[0]
    if image.dim() == 2:
        return image.numpy(), "gray"
    return image.permute(1, 2, 0).numpy(), None


def image_grid(rows: dict[str, torch.Tensor], titles: Sequence[str] | None = None, size: float = 1.2,
               cmaps: dict[str, str] | None = None, fontsize: int = 7, title: str | None = None,
               max_columns: int = 10):
    """A matplotlib figure with one row per entry of ``rows`` ((N,C,H,W) tensors in [0, 1]), the row's name as
    its label (wrapped, so neighbours never run together), ``titles`` over the columns and ``title`` (what is
    compared) above it all, clear of the first row. More than ``max_columns`` images a row wrap into further
    blocks of rows, so no figure is a strip of 5-pt labels. ``cmaps`` overrides a row's colour map (e.g.
    ``{"occlusion scores": "magma"}`` for one-channel maps)."""
    import matplotlib.pyplot as plt

    names = list(rows)
    total = max(len(r) for r in rows.values())
    blocks = -(-total // max_columns)
    cols = -(-total // blocks)  # balanced blocks: 11 images make two blocks of 6 and 5, not 10 and 1
    fig, axes = plt.subplots(len(names) * blocks, cols, figsize=(size * cols + 0.6, size * len(names) * blocks
                                                                    + (0.5 if title else 0.3)), squeeze=False)
    for b in range(blocks):
        for r, name in enumerate(names):
            line = b * len(names) + r
            for c in range(cols):
                i = b * cols + c
                ax = axes[line, c]
                ax.set_xticks([])
                ax.set_yticks([])
                if i >= len(rows[name]):
                    ax.axis("off")
                    continue
                array, cmap = as_display(rows[name][i])
                ax.imshow(array, cmap=(cmaps or {}).get(name, cmap), vmin=0, vmax=1)
            axes[line, 0].set_ylabel(wrap(name, 14), fontsize=fontsize)
        for c, column_title in enumerate((titles or [])[b * cols:(b + 1) * cols]):
            axes[b * len(names), c].set_title(wrap(column_title, 16), fontsize=fontsize)
    if title:
        fig.suptitle(title, fontsize=fontsize + 2)
    heat = [b * len(names) + r for b in range(blocks) for r, name in enumerate(names) if name in (cmaps or {})]
    top = 1 - (2.2 * (fontsize + 2) / 72) / fig.get_figheight() if title else 1  # room for the title's line
    fig.tight_layout(rect=(0, 0, 0.95 if heat else 1, top))
    for line in heat:  # a heat-map row says what its colours mean: a colour bar right of the row
        box = axes[line, 0].get_position()
        bar = fig.colorbar(axes[line, 0].images[0], cax=fig.add_axes((0.955, box.y0, 0.008, box.height)))
        bar.ax.tick_params(labelsize=fontsize - 1)
    return fig


def wrap(text: str, width: int) -> str:
    """``text`` broken onto lines of at most ``width`` characters (at spaces where it can)."""
    import textwrap

    return "\n".join(textwrap.wrap(str(text), width, break_long_words=True)) or str(text)


def text_overlaps(fig) -> list[tuple[str, str]]:
    """Pairs of visible, non-empty text boxes of ``fig`` that overlap on the rendered figure (labels, titles,
    tick labels, legends, suptitle): what a reader cannot read. Uses the figure's own renderer extents."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    from matplotlib.text import Text

    hidden = set()  # labels of ticks outside their axis' view: kept as artists, never drawn
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            low, high = sorted(axis.get_view_interval())
            for tick in axis.get_major_ticks() + axis.get_minor_ticks():
                loc = tick.get_loc()
                if loc is None or not low - 1e-9 * abs(high - low) <= loc <= high + 1e-9 * abs(high - low):
                    hidden |= {id(tick.label1), id(tick.label2)}
    texts = [t for t in fig.findobj(Text)  # a legend's TextArea wraps a Text: the Text alone counts
             if t.get_visible() and str(t.get_text()).strip() and t.figure is not None and id(t) not in hidden]
    boxes = [(t, t.get_window_extent(renderer)) for t in texts]
    boxes = [(t, b) for t, b in boxes if b.width > 0 and b.height > 0]
    found = []
    for i, (a, box_a) in enumerate(boxes):
        for b, box_b in boxes[i + 1:]:
            inter_w = min(box_a.x1, box_b.x1) - max(box_a.x0, box_b.x0)
            inter_h = min(box_a.y1, box_b.y1) - max(box_a.y0, box_b.y0)
            if inter_w > 1 and inter_h > 1:  # a pixel of anti-aliasing is no overlap
                found.append((str(a.get_text())[:40], str(b.get_text())[:40]))
    return found


def label_points(ax, xs: Sequence[float], ys: Sequence[float], names: Sequence[str], fontsize: int = 6,
                 gap: float = 1.15) -> None:
    """Annotate scatter points without overlapping labels: labels are stacked upwards (in display space)
    wherever two would collide, with a thin leader line to their point."""
    fig = ax.figure
    fig.canvas.draw()  # positions in pixels need a laid-out figure
    renderer = fig.canvas.get_renderer()
    placed: list = []
    order = sorted(range(len(names)), key=lambda i: (ys[i], xs[i]))
    for i in order:
        text = ax.annotate(str(names[i]), (xs[i], ys[i]), xytext=(3, 3), textcoords="offset points",
                           fontsize=fontsize)
        box = text.get_window_extent(renderer)
        dy = 3.0
        while any(box.overlaps(other) for other in placed):
            dy += box.height * gap / (fig.dpi / 72)
            text.set_position((3, dy))
            box = text.get_window_extent(renderer)
        if dy > 3.0:  # moved away from its point: a leader line says which point it names
            text.remove()
            text = ax.annotate(str(names[i]), (xs[i], ys[i]), xytext=(3, dy), textcoords="offset points",
                               fontsize=fontsize, arrowprops=dict(arrowstyle="-", lw=0.3, color="0.5",
                                                                  shrinkA=0, shrinkB=0))
        placed.append(box)
