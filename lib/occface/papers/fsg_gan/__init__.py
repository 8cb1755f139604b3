"""FSG-GAN (Cheung, Li, Zou, ICMR 2021): structure VAE + HDC U-Net + multi-receptive-field discriminator;
model, training schedule (Algorithm 1), registration, the paper's numbers, Table 2/4 builders."""
