"""The numbers printed in RLA's paper (TIP 2018), by table, row and column."""

from __future__ import annotations

# Table I / II columns, in the paper's order
COLUMNS = ["IP-RLA", "RLA", "Face Rec", "SSDA", "SRC", "AE", "PCA", "Occluded face"]

# Table I: EER (%) per (category / occluder) row, in COLUMNS order
TABLE1: dict[str, list[float]] = {
    "Quarter of face / Hand": [5.6, 6.2, 14.8, 37.0, 40.8, 26.8, 12.4, 6.5],
    "Quarter of face / Book": [5.9, 6.5, 15.0, 37.7, 42.0, 27.8, 12.5, 7.0],
    "Left/right half / Hand": [9.3, 10.5, 20.3, 39.1, 40.1, 30.5, 18.6, 12.8],
    "Left/right half / Book": [9.8, 11.4, 21.4, 40.4, 43.0, 32.6, 21.0, 13.4],
    "Upper face / Glasses": [5.8, 5.8, 12.8, 36.3, 32.7, 25.0, 11.8, 6.7],
    "Upper face / Sunglasses": [9.9, 10.7, 22.9, 42.9, 38.8, 33.6, 20.7, 10.0],
    "Upper face / Eye mask": [25.5, 27.3, 34.4, 44.2, 43.2, 39.5, 33.3, 27.2],
    "Lower face / Mask": [9.2, 12.1, 20.9, 40.3, 44.7, 31.9, 21.4, 12.1],
    "Lower face / Phone": [7.2, 7.8, 15.3, 37.8, 42.3, 28.9, 14.2, 8.7],
    "Lower face / Cup": [5.7, 6.1, 15.3, 37.9, 41.3, 28.4, 12.7, 5.8],
    "Lower face / Scarf": [9.3, 11.0, 20.9, 39.8, 44.7, 33.7, 17.3, 10.0],
}

# Table II: average EER (%) on the 50OccPeople real occlusions
TABLE2: dict[str, float] = dict(zip(COLUMNS, [18.0, 18.2, 23.2, 42.6, 45.5, 35.0, 25.6, 19.1]))

# The orderings the paper's text draws from Table I (lower EER is better)
ORDERINGS = [("IP-RLA", "RLA"), ("RLA", "Face Rec"), ("RLA", "Occluded face"), ("IP-RLA", "Occluded face"),
             ("Face Rec", "AE"), ("RLA", "PCA"), ("RLA", "AE"), ("RLA", "SRC"), ("RLA", "SSDA"), ("AE", "SSDA")]
