"""The numbers printed in FSG-GAN's paper (ICMR 2021), by table, row and column.

PSNR convention: the official test script (test-lfw.py:105-111) computes 10 log10(1 / MSE) on images in
[-1, 1], i.e. with peak 1 on a range of 2, which reads 20 log10(2) = 6.02 dB *lower* than PSNR on [0, 1]
(or 8-bit) images; :func:`psnr_01` converts. Its SSIM (pytorch_ssim, C1 = 0.01^2, C2 = 0.03^2) also runs on
[-1, 1] data, so its constants do not match the data range; no exact conversion exists for SSIM.
"""

from __future__ import annotations

import math

PSNR_OFFSET_DB = 20 * math.log10(2)  # 6.0206 dB: [-1, 1] with peak 1 -> [0, 1] with peak 1


# Table 2: (PSNR, SSIM) per method and test set, PSNR in the official [-1, 1] convention
TABLE2: dict[str, dict[str, tuple[float, float]]] = {
    "Occluded image": {"Set1-CelebA": (10.4764, 0.6425), "Set2-CelebA": (13.6658, 0.6852),
                       "Set1-LFW": (12.4447, 0.7606), "Set2-LFW": (14.1494, 0.7601)},
    "Cycle-GAN": {"Set1-CelebA": (13.7667, 0.6459), "Set2-CelebA": (15.8253, 0.8325),
                  "Set1-LFW": (16.0223, 0.8238), "Set2-LFW": (16.1571, 0.8545)},
    "DeepFill": {"Set1-CelebA": (14.5140, 0.7029), "Set2-CelebA": (20.2123, 0.8581),
                 "Set1-LFW": (14.9931, 0.7387), "Set2-LFW": (19.4776, 0.8591)},
    "OA-GAN": {"Set1-CelebA": (17.1828, 0.7215), "Set2-CelebA": (14.7253, 0.7325),
               "Set1-LFW": (19.1809, 0.7978), "Set2-LFW": (15.0563, 0.8458)},
    "FSG-GAN": {"Set1-CelebA": (21.1112, 0.7936), "Set2-CelebA": (20.3914, 0.8699),
                "Set1-LFW": (21.9961, 0.8344), "Set2-LFW": (19.7848, 0.8710)},
}

# Table 3: rank-1/5/10 identification accuracy (%) as (mean, std); 1 gallery + 5 probes per person,
# 200 people, 5 repeats, ArcFace features and cosine distance
RANKS = [1, 5, 10]
TABLE3: dict[str, dict[str, list[tuple[float, float]]]] = {
    "Set2-CelebA": {"Occluded image": [(44.2, 3.0), (54.4, 2.5), (59.6, 2.0)],
                    "Cycle-GAN": [(36.9, 3.5), (51.6, 2.8), (58.2, 2.7)],
                    "DeepFill": [(45.1, 2.4), (59.6, 1.4), (65.3, 0.6)],
                    "OA-GAN": [(47.2, 2.4), (61.9, 2.2), (68.9, 0.9)],
                    "FSG-GAN": [(64.2, 4.7), (76.3, 3.3), (80.3, 2.4)]},
    "Set2-LFW": {"Occluded image": [(52.7, 1.6), (60.6, 1.3), (64.0, 1.4)],
                 "Cycle-GAN": [(46.8, 2.6), (55.7, 1.5), (61.4, 2.0)],
                 "DeepFill": [(52.9, 4.4), (64.3, 2.3), (68.2, 2.1)],
                 "OA-GAN": [(53.1, 2.3), (64.9, 2.1), (69.4, 2.0)],
                 "FSG-GAN": [(68.6, 4.6), (77.6, 3.4), (80.1, 2.7)]},
}

# Table 4: ablation (PSNR in the official convention, SSIM) on the recognition-accuracy images
TABLE4: dict[str, tuple[float, float]] = {
    "Occluded image": (7.9484, 0.5298),
    "w/o HDC": (17.7813, 0.6856),
    "Regular Dis.": (17.3046, 0.6581),
    "HDC + multi-RFs Dis.": (18.1103, 0.6979),
}

# Sec. 4.1: the generator's loss weights
LAMBDA_PW, LAMBDA_IP, LAMBDA_ADV = 100.0, 50.0, 1.0


def psnr_01(official_db: float) -> float:
    """A PSNR printed by the paper (official [-1, 1] convention) on the [0, 1] scale our metrics use."""
    return official_db + PSNR_OFFSET_DB
