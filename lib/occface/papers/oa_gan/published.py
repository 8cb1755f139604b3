"""The numbers printed in OA-GAN's paper (TIFS 2020), by table, row and column (CelebA, 128x128)."""

from __future__ import annotations

# Table III: PSNR (dB) / SSIM on synthetic occlusions; the mask-requiring methods get OA-GAN's predicted,
# binarised mask (Fig. 10)
TABLE3_COLUMNS = ["GFC", "GnIpt", "PConv", "CSA", "Proposed"]
TABLE3: dict[str, dict[str, float]] = {
    "PSNR": dict(zip(TABLE3_COLUMNS, [19.96, 20.13, 22.18, 22.71, 22.61])),
    "SSIM": dict(zip(TABLE3_COLUMNS, [0.718, 0.725, 0.768, 0.794, 0.787])),
}

# Table IV: PSNR (dB) / SSIM when one loss term is discarded (Sec. V)
TABLE4_COLUMNS = ["w/o perceptual loss", "w/o style loss", "w/o smooth loss", "w/o L2 penalty loss",
                  "w/o pixel loss", "w/ all losses"]
TABLE4: dict[str, dict[str, float]] = {
    "PSNR": dict(zip(TABLE4_COLUMNS, [22.48, 21.91, 21.74, 22.55, 21.74, 22.61])),
    "SSIM": dict(zip(TABLE4_COLUMNS, [0.784, 0.726, 0.760, 0.781, 0.742, 0.787])),
}
# Table IV column -> the loss term dropped (``model.ABLATIONS``); "w/ all losses" drops none
TABLE4_DROP = {"w/o perceptual loss": "perceptual", "w/o style loss": "style", "w/o smooth loss": "smooth",
               "w/o L2 penalty loss": "mask", "w/o pixel loss": "pixel", "w/ all losses": ""}
