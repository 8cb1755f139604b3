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
               cmaps: dict[str, str] | None = None, fontsize: int = 7):
    """A matplotlib figure with one row per entry of ``rows`` ((N,C,H,W) tensors in [0, 1], the same N),
    the row's name as its label, and ``titles`` over the columns. ``cmaps`` overrides a row's colour map
    (e.g. ``{"occlusion scores": "magma"}`` for one-channel maps)."""
    import matplotlib.pyplot as plt

    names = list(rows)
    cols = max(len(r) for r in rows.values())
    fig, axes = plt.subplots(len(names), cols, figsize=(size * cols, size * len(names) + 0.3), squeeze=False)
    for r, name in enumerate(names):
        for c in range(cols):
            ax = axes[r, c]
            ax.set_xticks([])
            ax.set_yticks([])
            if c >= len(rows[name]):
                ax.axis("off")
                continue
            array, cmap = as_display(rows[name][c])
            ax.imshow(array, cmap=(cmaps or {}).get(name, cmap), vmin=0, vmax=1)
        axes[r, 0].set_ylabel(name, fontsize=fontsize)
    for c, title in enumerate(titles or []):
        axes[0, c].set_title(title, fontsize=fontsize)
    fig.tight_layout()
    return fig


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
