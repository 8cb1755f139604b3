"""FSG-GAN's Table 2 (issue 24): the DeepFill rows beside FSG-GAN and the occluded input.

"DeepFill" is trained on generic free-form / rectangular holes (``deepfill-generic``) and handed the
occluder's mask at test, the paper's comparison; the in-domain DeepFill (``deepfill``, our occluders, exact
mask) is the upper bound. Prints PSNR / SSIM per test set and the hole PSNR (inside the occluder's mask,
``eval.metrics.masked_psnr``) and writes the table under ``$OCCFACE_RESULTS`` (point it at a scratch folder).

    OCCFACE_RESULTS=/tmp/results python scripts/fsg_gan_deepfill_rows.py --profile quick
"""

from __future__ import annotations

import torch

from occface.eval.metrics import masked_psnr
from occface.papers.fsg_gan import tables
from occface.papers.fsg_gan.train import train_fsg_gan


def main() -> None:
    from occface.notebook import start_notebook

    cfg = tables.script_config(__doc__.splitlines()[0])
    # before any training, as notebook 20 does: its seed and training precision (part of the checkpoint keys)
    results = start_notebook("fsg_gan", cfg.profile, tables.DATASET, quiet=True).results
    full = train_fsg_gan(cfg)
    deepfills, _ = tables.compared_methods(cfg.profile, rows=("DeepFill", tables.UPPER_BOUND))
    methods = {"Occluded image": lambda x, m: x, **deepfills, "FSG-GAN": tables.as_method(full.model.restore)}
    sets = tables.test_sets(cfg)
    for name, s in sets.items():
        with torch.no_grad():
            line = "  ".join(f"{row}: {masked_psnr(m(s.occluded, s.mask).clamp(0, 1), s.clean, s.mask):.2f}"
                             for row, m in methods.items())
        print(f"hole PSNR (dB) {name}: {line}")
    table = tables.table2(cfg, methods, sets)
    print(table.frame().T.to_string())
    table.write(results)


if __name__ == "__main__":
    main()
