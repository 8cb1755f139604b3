"""Experiment drivers the notebooks call (one module per paper)."""
