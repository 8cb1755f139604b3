"""OA-GAN (Cai, Han et al., TIFS 2020): semi-supervised natural face de-occlusion."""
