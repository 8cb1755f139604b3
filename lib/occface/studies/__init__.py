"""Cross-paper studies, the layer above the papers: the benchmark of every method on one protocol
(``benchmark``) and the baselines' side-by-side comparison (``compare``)."""
