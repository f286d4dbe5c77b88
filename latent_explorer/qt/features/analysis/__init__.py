"""The analysis feature: plots that describe the codes as a whole (densities, spectrum, clusters, errors).

Each plot is an `AnalysisPanel` docked at the bottom; it computes lazily, only while its tab is in front.
"""

from __future__ import annotations

from latent_explorer.qt.context import FeatureContext
from latent_explorer.qt.feature import BOTTOM, DockSpec, Feature
from latent_explorer.qt.features.analysis.axes import AxisDensityPanel
from latent_explorer.qt.features.analysis.base import AnalysisPanel, follow_dock
from latent_explorer.qt.features.analysis.kmeans import KMeansPanel
from latent_explorer.qt.features.analysis.pca import PcaSpectrumPanel
from latent_explorer.qt.features.analysis.radius import RadiusDensityPanel
from latent_explorer.qt.features.analysis.recon import ReconErrorPanel
from latent_explorer.qt.features.analysis.vae import PosteriorPanel

PANELS: tuple[type[AnalysisPanel], ...] = (AxisDensityPanel, KMeansPanel, PcaSpectrumPanel, RadiusDensityPanel,
                                           ReconErrorPanel, PosteriorPanel)


def install(context: FeatureContext) -> dict[str, AnalysisPanel]:
    widgets = {cls.name: cls(context) for cls in PANELS}
    for widget in widgets.values():  # the docks exist once every feature is installed
        context.after_install(lambda w=widget: follow_dock(context, w))
    return widgets


FEATURE = Feature("analysis", install,
                  docks=tuple(DockSpec(cls.name, cls.title, BOTTOM, 10 * (n + 1)) for n, cls in enumerate(PANELS)))
