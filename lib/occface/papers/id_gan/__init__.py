"""ID-GAN (Ge et al., TCSVT 2020): identity-diversity inpainting. ``model`` reads like Sec. III, ``train`` holds
the training of Sec. IV-A, ``registration`` puts Our-wID / Our-w/oID / Our-tri / Our-cent in the registry and
``published`` holds Tables II and III as printed."""
