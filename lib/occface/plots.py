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
                 gap: float = 3.0, marker: float = 4.0) -> None:
    """Annotate scatter points so that no two labels touch, no label covers a point and every label stays
    inside the axes: each label takes the nearest free place around its point (right, left, above, below,
    then diagonals, at growing distances), measured on the rendered figure (renderer extents, the boxes
    ``text_overlaps`` checks) with ``gap`` points of clear space between labels and ``marker`` points round
    every point. A label set away from its point gets a thin leader line to it (a line, not part of the
    label's text box), placed so that it crosses no other point or label where a place allows. Call it once
    the axes' limits are final: labels are offset from their points in points, so a later change of limits
    moves the points, not the spaces between labels. Points drawn on one spot share one label (their names
    joined by commas)."""
    import math

    from matplotlib.lines import Line2D
    from matplotlib.transforms import Affine2D, Bbox, ScaledTranslation

    fig = ax.figure
    fig.canvas.draw()  # positions in pixels need a laid-out figure
    renderer = fig.canvas.get_renderer()
    px = fig.dpi / 72  # pixels per point
    inside = ax.get_window_extent(renderer).padded(-px)
    centres = [tuple(c) for c in ax.transData.transform(list(zip(xs, ys)))] if len(xs) else []
    spots: dict = {}  # points on one spot (within half a pixel): one label naming them all
    for i, c in enumerate(centres):
        key = next((k for k in spots if math.dist(centres[k], c) < 0.5), i)
        spots.setdefault(key, []).append(i)
    names = [", ".join(str(names[j]) for j in spots[i]) if i in spots else None for i in range(len(centres))]
    dots = [Bbox.from_extents(cx - marker * px, cy - marker * px, cx + marker * px, cy + marker * px)
            for cx, cy in centres]
    line = 1.2 * fontsize  # a line of text, in points: the step between rings of candidate places
    sides = [(1, 0, "left", "center"), (-1, 0, "right", "center"), (0, 1, "center", "bottom"),
             (0, -1, "center", "top"), (1, 1, "left", "bottom"), (-1, 1, "right", "bottom"),
             (1, -1, "left", "top"), (-1, -1, "right", "top")]
    candidates = [(sx * reach * (0.75 if sx and sy else 1), sy * reach * (0.75 if sx and sy else 1), ha, va)
                  for reach in (marker + 1 + step * line for step in range(12)) for sx, sy, ha, va in sides]
    labels: list = []  # boxes of the labels placed so far, in pixels
    leaders: list = []  # their leader lines, as pixel segments

    def nearest(box, point):
        return min(max(point[0], box.x0), box.x1), min(max(point[1], box.y0), box.y1)

    def crosses(a, b, box) -> bool:  # does the segment a-b pass through box? (sampled: boxes are > 5 px)
        n = max(2, int(math.dist(a, b) / 2))
        return any(box.contains(a[0] + (b[0] - a[0]) * k / n, a[1] + (b[1] - a[1]) * k / n) for k in range(1, n))

    def cost(box, i: int) -> float:
        """How badly a label at ``box`` sits: on another label (worst), out of the axes, over another point,
        its leader across a point or a label, its leader's length (the least)."""
        far = box.padded(gap * px / 2)
        total = 1000 * sum(far.overlaps(other.padded(gap * px / 2)) for other in labels)
        if not (inside.x0 <= box.x0 and box.x1 <= inside.x1 and inside.y0 <= box.y0 and box.y1 <= inside.y1):
            total += 300
        total += 100 * sum(box.overlaps(dot) for j, dot in enumerate(dots) if j != i)
        total += 100 * sum(crosses(a, b, box) for a, b in leaders)
        end = nearest(box, centres[i])
        if math.dist(centres[i], end) > (marker + 2) * px:  # it needs a leader line
            total += 30 * sum(crosses(centres[i], end, dot) for j, dot in enumerate(dots) if j != i)
            total += 30 * sum(crosses(centres[i], end, other) for other in labels)
        return total + math.dist(centres[i], end) / px / 100  # < 1: candidates reach under 100 points

    crowd = [sum(math.dist(c, d) < 6 * line * px for d in centres) for c in centres]
    for i in sorted(spots, key=lambda i: (-crowd[i], ys[i], xs[i])):  # the most crowded first
        text = ax.annotate(names[i], (xs[i], ys[i]), xytext=(0, 0), textcoords="offset points",
                           fontsize=fontsize, bbox=dict(boxstyle="square,pad=0.1", fc="white", ec="none",
                                                        alpha=0.75))  # legible over grid or reference lines
        best = None
        for dx, dy, ha, va in candidates:
            text.set_position((dx, dy))
            text.set_ha(ha)
            text.set_va(va)
            box = text.get_window_extent(renderer)
            score = cost(box, i)
            if best is None or score < best[0]:
                best = (score, dx, dy, ha, va, box)
            if score < 1:  # free, and candidates come nearest first: the nearest free place
                break
        _, dx, dy, ha, va, box = best
        text.set_position((dx, dy))
        text.set_ha(ha)
        text.set_va(va)
        labels.append(box)
        end = nearest(box, centres[i])
        if math.dist(centres[i], end) > (marker + 2) * px:  # off its point: a leader line says which it names
            leaders.append((centres[i], end))
            lx, ly = (end[0] - centres[i][0]) / px, (end[1] - centres[i][1]) / px  # in points
            start = 0.8 * marker / math.hypot(lx, ly)
            at_point = Affine2D().scale(1 / 72) + fig.dpi_scale_trans + ScaledTranslation(xs[i], ys[i], ax.transData)
            ax.add_artist(Line2D([lx * start, lx], [ly * start, ly], transform=at_point, lw=0.5, color="0.4",
                                 zorder=text.get_zorder() - 0.5))
