"""ID-GAN's Table II (PSNR / SSIM of the inpainted faces) and Table III (verification after inpainting) on
held-out LFW faces with ``m x m`` white blocks at random positions (m = 48 at 128x128, scaled); builders return
:class:`occface.tables.Table` values. Methods come from the registry by name, so GFC, CL and CA join the
tables as soon as they are registered."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F

from ...baselines import registry
from ...nn.identity import substitute_note
from ...profiles import Profile, get_profile
from ...results import Cell
from ...tables import Table
from . import published

OCCLUSION = dict(kind="block_white", placement="random")  # Sec. IV-A: a white m x m block, random position
TABLE2_METHODS = ("OCC", "PM", "GFC", "CL", "CA", "Our-w/oID", "Our-wID")
TABLE3_METHODS = ("OCC", "PM", "GFC", "CL", "CA", "Our-tri", "Our-cent", "Our-w/oID", "Our-wID", "GT")
NOTE_DATA = ("LFW only (no CelebA): ID-GAN trained on LFW identities outside View-2 folds 6-10, tested on the "
             "people of folds 6-10; blocks of {m}x{m} on {s}x{s} faces (48x48 on 128x128 in the paper)")


def white_block_mask(images: torch.Tensor, side: int) -> torch.Tensor:
    """The hole of a white ``side`` x ``side`` block, found from the pixels: every window of pure white (1.0 in
    all channels), so the inpainters get the exact mask the block was drawn with (a face never holds a whole
    white window)."""
    white = (images >= 1).all(1, keepdim=True).float()
    corners = (F.avg_pool2d(white, side, stride=1) >= 1 - 1e-6).float()  # top-left corners of white windows
    return F.max_pool2d(F.pad(corners, (side - 1,) * 4), side, stride=1)


def _block_side(profile: Profile) -> int:
    from ...faces.occlusion import ID_GAN_BLOCK

    return round(ID_GAN_BLOCK * profile.image_size)


def restorer(column: str, profile: Profile) -> Callable[[torch.Tensor], torch.Tensor] | None:
    """A registered method as a restorer fed the block's mask; None for OCC / GT or a method not registered."""
    name = published.REGISTRY_NAMES.get(column)
    if name is None or name not in registry.available():
        return None
    side = _block_side(profile)
    return registry.with_mask(registry.inpainter(name, profile), lambda x: white_block_mask(x, side))


def _notes(profile: Profile, missing: Sequence[str]) -> list[str]:
    m = _block_side(profile)
    notes = [NOTE_DATA.format(m=m, s=profile.image_size), substitute_note("VGGFace (the paper's recognizer R)")]
    if missing:
        notes.append(f"not registered yet, left empty: {', '.join(missing)}")
    return notes


def table2(profile: str | Profile, methods: Sequence[str] = TABLE2_METHODS, max_images: int | None = None,
           seed: int = 0) -> Table:
    """Table II: PSNR (dB) and SSIM of each method's inpainted faces against the clean held-out faces
    (``occface.eval.protocols.image_quality``); OCC is the occluded input itself."""
    from ...eval.protocols import image_quality

    p = get_profile(profile)
    cells, missing = [], []
    for column in methods:
        k = published.TABLE2_COLUMNS.index(column)
        fn = None if column == "OCC" else restorer(column, p)
        if column != "OCC" and fn is None:
            missing.append(column)
            ours = {}
        else:
            q = image_quality(fn, p, occlusion=OCCLUSION, seed=seed, max_images=max_images)
            ours = {"PSNR": q["psnr_occluded" if fn is None else "psnr"],
                    "SSIM": q["ssim_occluded" if fn is None else "ssim"]}
        cells += [Cell("PSNR", column, ours.get("PSNR"), published.TABLE2["PSNR"][k], unit="dB"),
                  Cell("SSIM", column, ours.get("SSIM"), published.TABLE2["SSIM"][k], unit="")]
    return Table("tableII", cells, "Table II: quantitative performance on inpainting results (PSNR / SSIM)",
                 _notes(p, missing), digits=4)


def table3(profile: str | Profile, methods: Sequence[str] = TABLE3_METHODS, max_pairs: int | None = None,
           rows: Sequence[str] = ("dlib", "FaceNet"), seed: int = 0) -> Table:
    """Table III: verification accuracy (%) after inpainting, one image of each held-out pair occluded (the
    shared protocol), scored by the dlib evaluator (row "dlib") and by FaceNet (row "FaceNet", which is also
    R: the paper keeps VGGFace, its R, as one row too). GT = clean pairs."""
    from ...eval.protocols import verification
    from ...nn.identity import identity_network

    p = get_profile(profile)
    facenet = identity_network()
    embedders = {k: v for k, v in {"dlib": None, "FaceNet": lambda x: facenet.embed(x)}.items() if k in rows}
    cells, missing = [], []
    for column in methods:
        fn = None if column in ("OCC", "GT") else restorer(column, p)
        if column not in ("OCC", "GT") and fn is None:
            missing.append(column)
        for row, embed in embedders.items():
            ours = None
            if column in ("OCC", "GT") or fn is not None:
                occlusion = None if column == "GT" else OCCLUSION
                ours = 100 * verification(p, occlusion=occlusion, restore=fn, embed=embed, seed=seed,
                                          max_pairs=max_pairs)["accuracy"]
            cells.append(Cell(row, column, ours, None))
    notes = _notes(p, missing) + ["the paper's rows are VGGFace, CenterLoss, SphereFace, VGGFace2 and ArcFace "
                                  "(published.TABLE3); none of them can be had offline"]
    return Table("tableIII", cells, "Table III: recognition accuracy (%) of inpainting results", notes)


def examples(profile: str | Profile, methods: Sequence[str], n: int = 6, seed: int = 0) -> dict[str, torch.Tensor]:
    """Fig. 4's rows: held-out faces (GT), the same with a white block (OCC) and each method's inpainting."""
    from ...faces.data import load_faces
    from ...faces.occlusion import occlude

    p = get_profile(profile)
    faces = load_faces("lfw", size=p.image_size, split="test", max_images=n, seed=seed)
    occ = occlude(faces.images, seed=seed, **OCCLUSION)
    rows = {"GT": faces.images, "OCC": occ.images}
    for column in methods:
        fn = restorer(column, p)
        if fn is not None:
            rows[column] = fn(occ.images).clamp(0, 1)
    return rows
