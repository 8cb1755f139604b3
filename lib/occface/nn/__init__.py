"""occface.nn: the GAN layer shared by the papers (FSG-GAN, OA-GAN, ID-GAN) and the inpainting baselines.

Modules (import the one you need; nothing heavy is imported by this package itself):
    adversarial     -- ``GANLoss(mode)`` (bce / lsgan / hinge / wgan / ragan) and WGAN-GP ``gradient_penalty``
    losses          -- masked and spatially discounted L1/L2, total variation, Gram / perceptual+style, identity
    blocks          -- conv-norm-act, residual, hybrid dilated (HDC), gated conv, partial conv, contextual attention
    discriminators  -- DCGAN, PatchGAN (70x70), global+local WGAN critics, multi-receptive-field (FSG-GAN)
    gan             -- ``set_requires_grad``, ``d_step`` / ``g_step`` / ``GANSteps`` for alternating updates
    backbones       -- recognition backbones (LResNet-E-IR, ...)
    margins         -- margin softmax heads (SphereFace / ArcFace / CosFace)
    identity        -- the identity network of the training losses (FaceNet, ported) and its substitute note
    parsing         -- the face parser (a small U-Net on landmark-polygon labels) GFC and ID-GAN train with

Conventions: masks are 1 over the hole (0 = known pixel), except ``PartialConv2d``, which takes NVIDIA's
*valid* mask (1 = known). Discriminators return raw logits / critic scores of shape [N] (PatchGAN: [N,1,h,w]).
"""
