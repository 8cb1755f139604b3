"""LFW's attributes (Kumar et al., ICCV 2009, binarised): 74 yes/no classifier outputs per photo, among them
the natural occlusions Sunglasses, Eyeglasses, Wearing Hat and Obstructed Forehead
(``$OCCFACE_DATA/lfw/attributes``, see its README). Used by OA-GAN's natural set and the real-occlusion set
of ``occface.eval.real``."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..paths import DataNotFoundError, data_root


def attributes_folder(root: str | Path | None = None) -> Path | None:
    """``<data>/lfw/attributes`` when it holds the attribute matrix and its file list, else None."""
    try:
        base = Path(root) if root is not None else data_root(required=("lfw",))
    except DataNotFoundError:
        return None
    folder = base / "lfw" / "attributes"
    ok = (folder / "lfw_binary_attributes2.npz").is_file() and (folder / "filelist.txt").is_file()
    return folder if ok else None


def _key(path: str) -> str:
    """``Person/Person_0001.jpg``: the part both path conventions share."""
    return "/".join(Path(path).parts[-2:])


def lfw_attributes(paths: list[str], folder: Path) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """(values (N,74) bool, known (N,) bool, names) for the LFW images ``paths``; rows without a score are
    False and ``known`` False (90 of LFW's 13,233 images have none)."""
    with np.load(folder / "lfw_binary_attributes2.npz") as f:
        data, names = f["data"].astype(bool), [n.decode() for n in f["attrname"]]
    rows = {_key(line.strip()): i for i, line in enumerate((folder / "filelist.txt").read_text().splitlines())}
    idx = np.array([rows.get(_key(p), -1) for p in paths])
    known = idx >= 0
    values = np.where(known[:, None], data[np.maximum(idx, 0)], False)
    return values, known, names
