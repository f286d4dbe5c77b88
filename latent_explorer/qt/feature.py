"""What a feature of the window declares: its docks, its menu anchors, the services it needs and offers.

The window reads these declarations; it never looks inside a feature. See `feature_list` for the list itself.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget

from latent_explorer.qt.context import FeatureContext

LEFT = Qt.DockWidgetArea.LeftDockWidgetArea
RIGHT = Qt.DockWidgetArea.RightDockWidgetArea
BOTTOM = Qt.DockWidgetArea.BottomDockWidgetArea


@dataclass(frozen=True)
class DockSpec:
    """A dock: ``name`` is stable (the saved layout refers to it); docks are placed by ``order`` in each area.

    Right and bottom docks share one tab group per area (the lowest order is the tab in front); left docks
    stay stacked.
    """

    name: str
    title: str
    area: Qt.DockWidgetArea
    order: int
    visible: bool = True


@dataclass(frozen=True)
class Feature:
    """One feature of the window.

    ``install(context)`` builds the feature and returns the widget of each declared dock by name; it may add
    menu entries only at the anchors in ``menus``, use only the context services in ``needs``, and must set
    the ones in ``provides``.
    """

    name: str
    install: Callable[[FeatureContext], Mapping[str, QWidget]]
    docks: tuple[DockSpec, ...] = ()
    menus: tuple[str, ...] = ()
    needs: tuple[str, ...] = ()
    provides: tuple[str, ...] = ()


def layout_version(docks: Iterable[DockSpec]) -> str:
    """A saved window layout is restored only when it was saved with the same docks in the same places."""
    text = ";".join(f"{d.name}|{int(d.area.value)}|{d.order}" for d in sorted(docks, key=lambda d: d.name))
    return hashlib.sha1(text.encode()).hexdigest()[:12]
