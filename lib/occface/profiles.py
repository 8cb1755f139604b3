"""Run profiles: one knob set for every notebook.

``quick``   class and tests: about 2 minutes a notebook on 2 CPU cores (nbval runs these).
``default`` a CPU run: minutes a notebook, the tables committed in ``results/default``.
``full``    the papers' resolutions and schedules, for one GPU.

Paper modules derive their own configs from these fields (e.g. ``FROMConfig.for_profile``),
so a profile is the only thing a notebook is parameterised by.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Profile:
    name: str
    image_size: int          # de-occlusion papers (RLA, FSG-GAN, OA-GAN, ID-GAN): square side
    recog_size: tuple[int, int]  # FROM / recognizers: (H, W); the paper uses 112x96
    steps: int               # training iterations for a main model
    finetune_steps: int      # iterations for a variant fine-tuned from a shared checkpoint
    batch: int
    width: int               # base channel width of the conv nets
    eval_pairs: int          # held-out View-2 pairs scored (before the first/second doubling)
    max_train_images: int    # cap on training faces (0 = all training identities)
    tsne_people: int = 5
    tsne_images: int = 20
    # CPU training precision (occface.train.resolve_precision): "bf16" autocast where the CPU has native bf16
    # (else fp32), "fp32" always. quick stays fp32: tests and nbval must reproduce bit for bit on any CPU.
    train_precision: str = "fp32"

    def as_dict(self) -> dict:
        return asdict(self)


PROFILES: dict[str, Profile] = {
    "quick": Profile("quick", image_size=32, recog_size=(56, 48), steps=150, finetune_steps=60,
                     batch=32, width=8, eval_pairs=300, max_train_images=2000),
    "default": Profile("default", image_size=64, recog_size=(56, 48), steps=1500, finetune_steps=500,
                       batch=64, width=16, eval_pairs=1500, max_train_images=0,
                       train_precision="bf16"),
    "full": Profile("full", image_size=128, recog_size=(112, 96), steps=60000, finetune_steps=20000,
                    batch=128, width=64, eval_pairs=3000, max_train_images=0,
                    train_precision="bf16"),
}


def get_profile(name: str | Profile) -> Profile:
    """Look a profile up by name; an unknown name raises ValueError listing the valid ones."""
    if isinstance(name, Profile):
        return name
    try:
        return PROFILES[name]
    except KeyError:
        raise ValueError(
            f"unknown profile {name!r}; valid profiles are: {', '.join(PROFILES)}"
        ) from None
