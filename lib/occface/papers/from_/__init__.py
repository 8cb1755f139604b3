"""FROM (Qiu et al., TPAMI): occlusion-robust recognition by masking corrupted features. ``from_`` because
``from`` is a Python keyword."""
