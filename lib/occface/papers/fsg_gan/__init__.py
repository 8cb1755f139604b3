"""FSG-GAN (Cheung, Li, Zou, ICMR 2021): structure VAE + HDC U-Net + multi-receptive-field discriminator;
model, training schedule (Algorithm 1), registration, the paper's numbers, Table 2/4 builders."""

from ...registry import Paper
from . import registration  # noqa: F401  (registers its methods; builds and trains nothing)

PAPER = Paper(topic="fsg_gan", title="FSG-GAN", notebook="20_fsg_gan")
