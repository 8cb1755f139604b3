"""FSG-GAN's Table 2 (issue 24): the DeepFill rows beside FSG-GAN and the occluded input.

"DeepFill" is trained on generic free-form / rectangular holes (``deepfill-generic``) and handed the
occluder's mask at test, the paper's comparison; the in-domain DeepFill (``deepfill``, our occluders, exact
mask) is the upper bound. Prints PSNR / SSIM per test set and the hole PSNR (inside the occluder's mask,
``eval.metrics.masked_psnr``) and writes the table under ``$OCCFACE_RESULTS`` (point it at a scratch folder).

    OCCFACE_RESULTS=/tmp/results python scripts/fsg_gan_deepfill_rows.py --profile quick
"""

from __future__ import annotations

import argparse

import torch

from occface.eval.metrics import masked_psnr
from occface.papers.fsg_gan import tables
from occface.papers.fsg_gan.train import FSGConfig, train_fsg_gan


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="quick")
    args = parser.parse_args()
    torch.set_num_threads(1)
    from occface import registry
    from occface.baselines import deepfill  # noqa: F401  (registers both DeepFills)

    cfg = FSGConfig.for_profile(args.profile)
    full = train_fsg_gan(cfg)
    methods = {"Occluded image": lambda x, m: x,
               "DeepFill": registry.inpainter("deepfill-generic", args.profile),
               tables.UPPER_BOUND: registry.inpainter("deepfill", args.profile),
               "FSG-GAN": tables.as_method(full.model.restore)}
    sets = tables.test_sets(cfg)
    for name, s in sets.items():
        with torch.no_grad():
            line = "  ".join(f"{row}: {masked_psnr(m(s.occluded, s.mask).clamp(0, 1), s.clean, s.mask):.2f}"
                             for row, m in methods.items())
        print(f"hole PSNR (dB) {name}: {line}")
    table = tables.table2(cfg, methods, sets)
    print(table.frame().T.to_string())
    from occface.notebook import start_notebook
    table.write(start_notebook("fsg_gan", args.profile, "LFW deep-funneled + occluder templates (OCCFACE_DATA)",
                               quiet=True).results)


if __name__ == "__main__":
    main()
