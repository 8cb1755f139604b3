"""The numbers printed in ID-GAN's paper (Ge et al., TCSVT 2020), by table, row and column, as printed."""

from __future__ import annotations

# Table II: inpainting quality on all 13,233 LFW images, 48x48 white blocks at random positions, 128x128
TABLE2_COLUMNS = ["OCC", "PM", "GFC", "CL", "CA", "Our-w/oID", "Our-wID"]
TABLE2: dict[str, list[float]] = {
    "PSNR": [14.2216, 17.8044, 29.6279, 25.9527, 31.0113, 31.1660, 31.5588],
    "SSIM": [0.8874, 0.8912, 0.9350, 0.8897, 0.9565, 0.9584, 0.9598],
}

# Table III: verification accuracy (%) on the 6,000 LFW pairs after inpainting, per recognizer.
# The paper prints the first column as "OOC" (the occluded faces, OCC elsewhere); we use OCC.
TABLE3_COLUMNS = ["OCC", "PM", "GFC", "CL", "CA", "Our-tri", "Our-cent", "Our-w/oID", "Our-wID", "GT"]
TABLE3: dict[str, list[float]] = {
    "VGGFace": [83.20, 83.22, 91.05, 88.42, 90.20, 92.63, 92.83, 92.50, 93.58, 98.95],
    "CenterLoss": [74.32, 75.45, 87.45, 83.42, 84.65, 86.98, 87.62, 87.77, 88.68, 99.28],
    "SphereFace": [75.42, 73.67, 85.28, 84.10, 81.55, 84.57, 85.90, 85.00, 86.02, 99.42],
    "VGGFace2": [89.15, 90.08, 95.32, 94.43, 95.97, 95.52, 95.65, 96.12, 96.53, 99.53],
    "ArcFace": [85.80, 84.83, 94.83, 93.40, 91.96, 94.47, 95.62, 95.06, 96.47, 99.82],
    # as printed; it is not the mean of the five rows above for OCC (81.58), PM (81.45), GFC (90.79),
    # CL (88.75), CA (88.87) and Our-w/oID (91.29)
    "Average": [82.04, 81.55, 90.69, 88.86, 88.28, 90.83, 91.52, 91.22, 92.26, 99.40],
}

# Fig. 6 (VGGFace2 accuracy, %) as quoted in the text: GT 99.53, OCC 89.15, PM +0.93 over OCC, Our-wID 96.53
FIG6_TEXT = {"GT": 99.53, "OCC": 89.15, "PM": 90.08, "Our-wID": 96.53}

# Our registry names for the paper's columns (None: not a method we run)
REGISTRY_NAMES = {"OCC": None, "PM": "pm", "GFC": "gfc", "CL": "coopnets", "CA": "deepfill", "Our-tri": "id-gan-tri",
                  "Our-cent": "id-gan-cent", "Our-w/oID": "id-gan-woid", "Our-wID": "id-gan", "GT": None}
