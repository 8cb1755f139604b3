"""Comparison methods of the generative papers, one file each, all behind the contracts of ``registry``:
``restorer(name, profile)`` / ``inpainter(name, profile)`` train or load a method by name."""
