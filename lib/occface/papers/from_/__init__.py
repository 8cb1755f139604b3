"""FROM (Qiu et al., TPAMI): occlusion-robust recognition by masking corrupted features. ``from_`` because
``from`` is a Python keyword."""

from ...registry import Paper

PAPER = Paper(topic="from", title="FROM", notebook="40_from")
