"""The decoder feature: the image of the current z, decoded live, and its tabs that move z.

It offers ``context.decoder`` (the model it decodes with and its off-data meter) to the other features.
"""

from __future__ import annotations

from latent_explorer.qt.context import FeatureContext
from latent_explorer.qt.decoding_gate import gate_decoding
from latent_explorer.qt.feature import RIGHT, DockSpec, Feature
from latent_explorer.qt.features.decoder.panel import DecoderPanel


def install(context: FeatureContext) -> dict[str, DecoderPanel]:
    panel = DecoderPanel(context)
    context.decoder = panel
    gate_decoding(context.state, panel, "decoding")
    return {"decoder": panel}


FEATURE = Feature("decoder", install, docks=(DockSpec("decoder", "Decoder", RIGHT, 10),), provides=("decoder",))
