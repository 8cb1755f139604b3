"""ID-GAN (Ge et al., TCSVT 2020): identity-diversity inpainting. ``model`` reads like Sec. III, ``train`` holds
the training of Sec. IV-A, ``registration`` puts Our-wID / Our-w/oID / Our-tri / Our-cent in the registry and
``published`` holds Tables II and III as printed."""

from ...registry import Paper
from . import registration  # noqa: F401  (registers its methods; builds and trains nothing)

PAPER = Paper(topic="id_gan", title="ID-GAN", notebook="50_id_gan")
