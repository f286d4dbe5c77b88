"""The window's features, in the order they are installed: adding a feature is one line here.

Each entry is the `Feature` a package under ``qt/features/`` declares. The order matters in one way only: a
feature that needs another's service (``needs``) comes after it; docks are placed by their own ``order`` and
menu entries by their anchors, not by this order. A test fails when a package under ``qt/features/`` is
missing here, and when a feature needs a service nobody before it provides.
"""

from __future__ import annotations

from latent_explorer.qt.feature import Feature, layout_version
from latent_explorer.qt.features import (
    about,
    analysis,
    codes,
    compare,
    consent,
    data,
    decoder,
    export,
    inspector,
    interpolation,
    neighbours,
    report,
    selection,
    session,
    shortcuts,
    structure,
    theme,
    undo,
    view,
)

FEATURES: tuple[Feature, ...] = (
    data.FEATURE,
    view.FEATURE,
    decoder.FEATURE,
    inspector.FEATURE,
    interpolation.FEATURE,
    analysis.FEATURE,
    session.FEATURE,
    consent.FEATURE,
    export.FEATURE,
    undo.FEATURE,
    theme.FEATURE,
    shortcuts.FEATURE,
    codes.FEATURE,
    neighbours.FEATURE,
    structure.FEATURE,
    compare.FEATURE,
    report.FEATURE,
    selection.FEATURE,
    about.FEATURE,
)

# a layout saved with other docks (added, removed, moved) is not restored: the default layout is used instead
LAYOUT_VERSION = layout_version(dock for feature in FEATURES for dock in feature.docks)
