"""The interpolation feature: paths drawn on the scatter, lifted into z and decoded as filmstrips.

"Paths" here always means interpolation paths through latent space, never file paths. The feature offers
``context.interpolation`` and a session part; it uses the decoder's model and off-data meter.
"""

from __future__ import annotations

from latent_explorer.qt.context import FeatureContext
from latent_explorer.qt.decoding_gate import gate_decoding
from latent_explorer.qt.feature import BOTTOM, DockSpec, Feature
from latent_explorer.qt.features.interpolation.files import install_files
from latent_explorer.qt.features.interpolation.panel import PathsPanel


def install(context: FeatureContext) -> dict[str, PathsPanel]:
    panel = PathsPanel(context)
    panel.files = install_files(context, panel, panel.draw_action)
    context.interpolation = panel
    gate_decoding(context.state, panel, "interpolation", actions=(panel.draw_action,))
    return {"paths": panel}


FEATURE = Feature("interpolation", install, docks=(DockSpec("paths", "Paths", BOTTOM, 70, layouts=("decode",)),),
                  menus=("file.interpolation",), needs=("decoder",), provides=("interpolation",))
