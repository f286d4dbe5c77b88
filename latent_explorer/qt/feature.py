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

    The docks of one area share one tab group (the lowest order is the tab in front). ``layouts`` names the
    named layouts (`qt/layouts.py`: "explore", "decode", "analyse") that show the dock; empty means the
    area's default (left: explore and analyse; right: explore and decode; bottom: analyse).
    """

    name: str
    title: str
    area: Qt.DockWidgetArea
    order: int
    visible: bool = True
    layouts: tuple[str, ...] = ()


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


# the way the window arranges its docks (tab groups, corners, named layouts): a layout saved by a window that
# arranged them otherwise is not restored. Change it whenever qt/docks.py or qt/layouts.py place docks anew.
ARRANGEMENT = "tabbed sides, named layouts"


def layout_version(docks: Iterable[DockSpec]) -> str:
    """A saved window layout is restored only when it was saved with the same docks in the same places,
    arranged the same way (`ARRANGEMENT`)."""
    text = ";".join(f"{d.name}|{int(d.area.value)}|{d.order}|{','.join(d.layouts)}"
                    for d in sorted(docks, key=lambda d: d.name))
    text = f"{ARRANGEMENT};{text}"
    return hashlib.sha1(text.encode()).hexdigest()[:12]
