"""ipywidgets explorer of occlusions on real faces. The callback logic (:func:`render`) is plain torch and
unit-tested without a browser; :func:`explorer` only wires widgets to it."""

from __future__ import annotations

import torch

from .faces.occlusion import GEOMETRIC, KINDS, PLACEMENTS, occlude, proximate_patterns


def render(images: torch.Tensor, landmarks: torch.Tensor, index: int, kind: str, placement: str,
           rotation: float = 0.0, scale: float = 1.0, K: int = 4, seed: int = 0) -> dict:
    """One face occluded as asked: ``occluded`` (3,H,W), ``mask`` (H,W), ``pattern`` (K,K) bool (FROM's
    proximate pattern), ``label`` (pattern index), ``area`` and ``box``."""
    if not 0 <= index < len(images):
        raise ValueError(f"face index {index} out of range 0..{len(images) - 1}")
    o = occlude(images[index:index + 1], kind, scale, placement, landmarks=landmarks[index:index + 1],
                seed=seed, K=K, rotation=rotation, templates="all")
    label = int(o.pattern[0])
    return {"occluded": o.images[0], "mask": o.mask[0, 0], "pattern": proximate_patterns(K)[label],
            "label": label, "area": float(o.area[0]), "box": o.box[0].tolist()}


def draw(fig, result: dict, title: str = "") -> None:
    """Draw a :func:`render` result on ``fig`` as three panels: occluded face, mask, K x K pattern."""
    fig.clf()
    axes = fig.subplots(1, 3)
    axes[0].imshow(result["occluded"].permute(1, 2, 0).numpy())
    x0, y0, x1, y1 = result["box"]
    axes[0].add_patch(__import__("matplotlib.patches", fromlist=["Rectangle"]).Rectangle(
        (x0 - 0.5, y0 - 0.5), x1 - x0, y1 - y0, fill=False, color="lime", lw=1))
    axes[0].set_title(title or f"area {100 * result['area']:.1f}%", fontsize=8)
    axes[1].imshow(result["mask"].numpy(), cmap="gray", vmin=0, vmax=1)
    axes[1].set_title("mask", fontsize=8)
    axes[2].imshow(result["pattern"].numpy(), cmap="gray_r", vmin=0, vmax=1)
    axes[2].set_title(f"pattern #{result['label']}", fontsize=8)
    for ax in axes:
        ax.axis("off")


def explorer(images: torch.Tensor, landmarks: torch.Tensor, K: int = 4):
    """Interactive widget: face, kind, placement, rotation and size sliders -> occluded face, mask, pattern."""
    import ipywidgets as w
    import matplotlib.pyplot as plt

    controls = dict(
        index=w.IntSlider(0, 0, len(images) - 1, description="face"),
        kind=w.Dropdown(options=list(KINDS + GEOMETRIC), value="sunglasses", description="kind"),
        placement=w.Dropdown(options=list(PLACEMENTS), value="semantic", description="placement"),
        rotation=w.FloatSlider(0.0, min=0.0, max=30.0, step=1.0, description="rotation"),
        scale=w.FloatSlider(1.0, min=0.25, max=3.0, step=0.25, description="size"),
        seed=w.IntSlider(0, 0, 20, description="seed"),
    )
    out = w.Output()

    def update(_=None) -> None:
        values = {k: c.value for k, c in controls.items()}
        result = render(images, landmarks, K=K, **values)
        with out:
            out.clear_output(wait=True)
            fig = plt.figure(figsize=(6, 2.2))
            draw(fig, result)
            plt.show()

    for c in controls.values():
        c.observe(update, names="value")
    update()
    return w.VBox([w.HBox(list(controls.values())[:3]), w.HBox(list(controls.values())[3:]), out])
