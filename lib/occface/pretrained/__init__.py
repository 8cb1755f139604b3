"""Pretrained face recognizers ported to torch (weights converted once, cached outside git)."""
