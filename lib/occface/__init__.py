"""occface: a reproducible companion to five papers on occluded faces.

Modules (each small, each importable on its own):
    profiles   -- quick / default / full budgets
    paths      -- where data, caches and results live (OCCFACE_DATA, ...)
    runtime    -- seeding, device selection, hardware labels
    results    -- the tidy table / figure writer shared by every notebook
    runner     -- papermill runner behind `make reproduce`
    train      -- checkpointed, resumable training loop (Accelerate)
    data, occlusion, metrics, recognizers, protocols, models.<paper>
"""

__version__ = "0.1.0"
