"""FSG-GAN (issue 24): Eq. 10's head weights, and Table 4 with the Eq. 10 variants.

Trains (or loads) every Table 4 variant at a profile, prints the mean softmax weight of each discriminator
level (Eq. 10) on the Set2-LFW clean faces (real) and on the generator's outputs (fake), at initialisation
and after training, then writes Table 4 under ``$OCCFACE_RESULTS/<profile>/fsg_gan`` (point it at a scratch
folder) and prints it.

    OCCFACE_RESULTS=/tmp/results python scripts/fsg_gan_table4.py --profile quick
"""

from __future__ import annotations

import dataclasses

import torch

from occface.papers.fsg_gan import tables
from occface.papers.fsg_gan.model import discriminator
from occface.papers.fsg_gan.train import FSGConfig, TrainedFSG
from occface.paths import cache_dir
from occface.train import load_checkpoint


def head_weights(cfg: FSGConfig, trained: TrainedFSG, real: torch.Tensor, fake: torch.Tensor) -> dict:
    """{"init"/"trained": {"real"/"fake": mean Eq. 10 weight per level}} for the D of ``trained``."""
    disc = discriminator(trained.vae, cfg.disc, cfg.lam, on=cfg.eq10)
    out = {}
    for when in ("init", "trained"):
        if when == "trained":
            disc.load_state_dict(load_checkpoint(cache_dir("checkpoints") / trained.checkpoint)["modules"]["disc"])
        disc.eval()
        with torch.no_grad():
            out[when] = {side: disc.level_weights(x * 2 - 1).mean(0).tolist() for side, x in
                         (("real", real), ("fake", fake))}
    return out


def main() -> None:
    from occface.notebook import start_notebook

    cfg = tables.script_config(__doc__.splitlines()[0])
    # before any training, as notebook 20 does: its seed and training precision (part of the checkpoint keys)
    results = start_notebook("fsg_gan", cfg.profile, tables.DATASET, quiet=True).results
    trained = tables.train_variants(cfg)
    test = tables.test_sets(cfg)["Set2-LFW"]
    real = test.clean[:64]
    for row, t in trained.items():
        change = tables.VARIANTS[row]
        if change.get("disc") == "regular" or change.get("official_losses"):
            continue
        vcfg = dataclasses.replace(cfg, **change)
        fake = t.model.restore(test.occluded[:64])
        w = head_weights(vcfg, t, real, fake)
        for when, sides in w.items():
            print(f"{row:40s} eq10={vcfg.eq10:13s} {when:8s} " +
                  "  ".join(f"{side} [{', '.join(f'{v:.3f}' for v in ws)}]" for side, ws in sides.items()))
    variants = {row: tables.as_method(t.model.restore) for row, t in trained.items()}
    table = tables.table4(cfg, variants, test)
    print(table.frame().to_string())
    table.write(results)


if __name__ == "__main__":
    main()
