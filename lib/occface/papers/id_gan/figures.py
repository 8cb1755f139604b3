"""ID-GAN's Fig. 6 (accuracy bars) and Fig. 7 (t-SNE of identity features, with a cluster-separation number
beside each panel, which the paper does not print: it judges "aggregation" by eye)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from ...eval import metrics
from ...profiles import Profile, get_profile
from ...results import Cell
from ...tables import Table
from . import published

FIG6_METHODS = ("GT", "OCC", "PM", "GFC", "CL", "CA", "Our-w/oID", "Our-wID")  # the paper's bars, in its order
FIG7_METHODS = ("GT", "OCC", "Our-w/oID", "Our-wID")  # the paper: OCC, Our-w/oID, Our-wID; GT as the ceiling


def fig6(table3: Table, row: str | None = None):
    """Fig. 6: verification accuracy (%) of GT, OCC and each inpainter, one group of bars per recognizer of
    Table III's panel (the paper draws one recognizer, VGGFace2, whose numbers it quotes in the text), with the
    95 % intervals as error bars. Methods Table III did not score are left out."""
    import matplotlib.pyplot as plt

    rows = [r for r in dict.fromkeys(c.row for c in table3.cells) if r != "Average"]
    if row is not None:
        rows = [r for r in rows if r.startswith(row)]
    found = {(c.row, c.column): c for c in table3.cells if c.ours is not None}
    methods = [m for m in FIG6_METHODS if any((r, m) in found for r in rows)]
    fig, ax = plt.subplots(figsize=(max(6.0, 1.3 * len(rows) + 2), 3.8))
    width = 0.8 / len(methods)
    palette = plt.get_cmap("tab10")
    for k, method in enumerate(methods):
        cells = [found.get((r, method)) for r in rows]
        x = np.arange(len(rows)) + (k - (len(methods) - 1) / 2) * width
        y = np.array([c.ours if c else np.nan for c in cells])
        err = np.array([[c.ours - c.ci_low, c.ci_high - c.ours] if c and c.ci_low is not None else [0, 0]
                        for c in cells]).T
        ax.bar(x, y, width, yerr=err, label=method, color=palette(k), capsize=1.5, error_kw=dict(lw=0.6))
    low = np.nanmin([c.ours if c.ci_low is None else c.ci_low for c in found.values() if c.row in rows])
    ax.set_ylim(max(0.0, 5 * np.floor(low / 5) - 5), 100)
    ax.set_xticks(np.arange(len(rows)), [r.split(" (")[0] for r in rows], fontsize=8)
    ax.set_ylabel("verification accuracy (%)")
    ax.legend(ncol=4, fontsize=7, frameon=False, loc="lower center", bbox_to_anchor=(0.5, 1.0))
    paper = ", ".join(f"{k} {v:g}" for k, v in published.FIG6_TEXT.items())
    ax.set_xlabel(f"recognizer of the panel (* = R in training)   |   paper, VGGFace2: {paper}   |   y-axis "
                  f"starts at {ax.get_ylim()[0]:g} %", fontsize=7)
    return fig


def silhouette_interval(features: np.ndarray, labels: np.ndarray, metric: str = "cosine", reps: int = 1000,
                        seed: int = 0) -> tuple[float, float, float]:
    """Mean silhouette (scikit-learn; ``metric`` as the recognizer scores: cosine for FaceNet, Euclidean for
    dlib) of identity clusters, with a 95 % interval from a bootstrap over identities of the per-face
    silhouettes (faces of one person are not independent)."""
    from sklearn.metrics import silhouette_samples

    s = silhouette_samples(features, labels, metric=metric)
    people = np.unique(labels)
    per_person = np.array([s[labels == p].sum() for p in people])
    counts = np.array([(labels == p).sum() for p in people])
    draws = np.random.default_rng(seed).integers(0, len(people), (reps, len(people)))
    means = per_person[draws].sum(1) / counts[draws].sum(1)
    low, high = np.percentile(means, [2.5, 97.5])
    return float(s.mean()), float(low), float(high)


def _faces(profile: Profile, people: int, per_person: int, seed: int):
    from ...faces.data import load_faces
    from ...faces.occlusion import occlude
    from .tables import OCCLUSION

    faces = load_faces("lfw", size=profile.image_size, split="test", min_per_identity=per_person, seed=seed)
    idx, chosen = faces.pick_people(people, per_person, seed)
    images = faces.images[idx]
    labels = np.searchsorted(chosen, faces.identity.numpy()[idx])
    names = [faces.names[p].replace("_", " ") for p in chosen]
    return images, occlude(images, seed=seed, **OCCLUSION).images, labels, names


def fig7(profile: str | Profile, people: int, per_person: int, methods: Sequence[str] = FIG7_METHODS,
         seed: int = 0) -> tuple[Table, object]:
    """Fig. 7: t-SNE of R's identity features (FaceNet here, VGGFace in the paper) of held-out faces behind a
    white block, as they are (OCC) and inpainted by each variant; GT = the clean faces. Beside each panel the
    silhouette of the identity clusters in R's space and in dlib's (independent), with 95 % intervals, over
    ``people`` x ``per_person`` faces; the panel draws the first ``profile.tsne_people`` of those people."""
    import matplotlib.pyplot as plt

    from ...eval.recognizers import dlib_evaluator
    from ...nn.identity import identity_network
    from .tables import restorer

    p = get_profile(profile)
    clean, occluded, labels, names = _faces(p, people, per_person, seed)
    facenet, dlib = identity_network(), dlib_evaluator()
    shown = labels < p.tsne_people
    fig, axes = plt.subplots(1, len(methods), figsize=(4.3 * len(methods), 4.3))
    cells = []
    for ax, method in zip(np.atleast_1d(axes), methods):
        if method in ("GT", "OCC"):
            images = clean if method == "GT" else occluded
        else:
            fn = restorer(method, p)
            if fn is None:
                raise ValueError(f"Fig. 7 needs {method!r}, which is not registered; train it first")
            images = torch.cat([fn(b).clamp(0, 1) for b in occluded.split(256)])
        with torch.no_grad():
            r_features = facenet.embed(images)
        scores = {"R (FaceNet)": silhouette_interval(r_features, labels, "cosine", seed=seed),
                  "dlib": silhouette_interval(dlib.embed(images), labels, "euclidean", seed=seed)}
        for row, (value, low, high) in scores.items():
            cells.append(Cell(f"silhouette, {row}", method, value, None, "", low, high))
        r, d = scores["R (FaceNet)"], scores["dlib"]
        metrics.tsne_figure(r_features[shown], labels[shown], names=names, seed=seed, ax=ax,
                      title=f"{method}\nsilhouette R {r[0]:.2f} [{r[1]:.2f}, {r[2]:.2f}], "
                            f"dlib {d[0]:.2f} [{d[1]:.2f}, {d[2]:.2f}]")
        ax.title.set_fontsize(8)
    table = Table("fig7_silhouette", cells, "Fig. 7's cluster separation: silhouette of held-out identities "
                  "(higher = tighter identity clusters; ours, the paper prints none)", [
                      f"{people} held-out people x {per_person} faces, a white block on each (Sec. IV-A); the "
                      f"t-SNE panels draw {p.tsne_people} of them",
                      "R = FaceNet, the network inside ID-GAN's identity loss, so its silhouette is not an "
                      "independent judge of Our-wID; dlib's is",
                      "distances as each recognizer scores: cosine for FaceNet, Euclidean for dlib; 95 % intervals from a "
                      "bootstrap over people of the per-face silhouettes"], digits=3)
    return table, fig


__all__ = ["fig6", "fig7", "silhouette_interval"]
