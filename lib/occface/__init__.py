"""occface: a reproducible companion to five papers on occluded faces.

Layers, low to high (``tests/test_layers.py`` holds the imports to them; ``docs/CONTRACTS.md`` is the map):
    paths profiles runtime locks results tables claims checks train registry   core
    faces/       real faces, occluder synthesis, FROM's patterns, training pairs
    pretrained/  dlib's ResNet and FaceNet, ported to torch
    nn/          shared network pieces, losses, the face parser
    eval/        metrics, the shared protocols, recognizers
    baselines/   the comparison methods, one file each
    papers/      one folder per paper: model, train, tables, figures, published, registration
    methods      every registered method (imports each registering module)
    studies/     cross-paper work: the benchmark, the baselines' comparison
    widgets notebook runner verify   what notebooks and `make` call
"""

__version__ = "0.1.0"
