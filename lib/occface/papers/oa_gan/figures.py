"""OA-GAN's figures that need more than one image grid call: Fig. 12 (rank-k curves), Fig. 14 (the loss
ablation's masks and outputs on the same inputs) and Fig. 15 (pre-train-then-fine-tune vs alternating training
on natural occlusions). Each returns a matplotlib figure; the notebook saves it through ``Results.figure``."""

from __future__ import annotations

import torch

from ...plots import image_grid
from ...tables import Table
from .tables import RANKS, TestSet
from .train import TrainedOAGAN


def fig12_curves(table: Table):
    """Fig. 12: identification rate (%) against rank, one line per (probes, recognizer) row, with the
    table's 95 % intervals as bands."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.2, 3.4))
    rows: dict[str, list] = {}
    for c in table.cells:
        rows.setdefault(c.row, []).append(c)
    for row, cells in rows.items():
        style = "-" if row.startswith("OA-GAN") else "--"
        line, = ax.plot(RANKS, [c.ours for c in cells], style, marker="o", ms=3, label=row)
        ax.fill_between(RANKS, [c.ci_low for c in cells], [c.ci_high for c in cells], color=line.get_color(),
                        alpha=0.12)
    ax.set_xticks(RANKS)
    ax.set_xlabel("rank")
    ax.set_ylabel("identification rate (%)")
    ax.legend(fontsize=6, loc="lower right")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def fig14_grid(models: dict[str, TrainedOAGAN], test: TestSet, n: int = 8):
    """Fig. 14: the same occluded test faces through each ablation model, its predicted hole and output."""
    show = torch.linspace(0, len(test.clean) - 1, n).long()
    x = test.occluded[show]
    rows = {"input": x, "ground truth": test.clean[show]}
    for column, trained in models.items():
        rows[f"{column}: hole"] = trained.model.predict_mask(x)
        rows[f"{column}: output"] = trained.model.restore(x)
    return image_grid(rows, fontsize=6, title="Table IV's ablations on the same test faces: predicted hole (white "
                      "= occluder) and output")


def fig15_grid(models: dict[str, TrainedOAGAN], natural_faces: torch.Tensor, n: int = 8):
    """Fig. 15: (a) natural occluded inputs, then each training strategy's predicted hole and output."""
    x = natural_faces[torch.linspace(0, len(natural_faces) - 1, n).long()]
    rows = {"(a) input": x}
    for column, trained in models.items():
        rows[f"{column}: hole"] = trained.model.predict_mask(x)
        rows[f"{column}: output"] = trained.model.restore(x)
    return image_grid(rows, fontsize=6, title="Training strategies on natural occlusions: predicted hole and output")
