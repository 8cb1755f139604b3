"""OA-GAN (Cai, Han et al., TIFS 2020): semi-supervised natural face de-occlusion."""

from ...registry import Paper
from . import registration  # noqa: F401  (registers its methods; builds and trains nothing)

PAPER = Paper(topic="oa_gan", title="OA-GAN", notebook="30_oa_gan")
