"""RLA and IP-RLA (Zhao et al., TIP 2018): model, training schedule, Table I/II builders, Figs. 5-8."""

from ...registry import Paper
from . import registration  # noqa: F401  (registers its methods; builds and trains nothing)

PAPER = Paper(topic="rla", title="RLA", notebook="10_rla")
