"""Data only: icons, demo checkpoints and the screenshot, installed as ``latent_explorer.resources``.

This file makes the folder a regular package so that editable installs map it like a wheel does; read its files
through ``latent_explorer.resource_files``.
"""
