"""Evaluation: metrics, the shared protocols, recognizers (dlib evaluator, trained nets), sweeps."""
