"""Latent Explorer: look inside the latent space of autoencoders and variational autoencoders."""

__version__ = "0.1.0"
