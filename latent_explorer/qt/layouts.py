"""The window's named layouts: which dock groups each one shows and how much of the window each group takes.

A layout is data, not code: `WindowDocks.apply_layout` reads it. Every dock of an area sits in that area's one
tab group; a layout shows the docks that belong to it (`DockSpec.layouts`, else the area's default in
`AREA_LAYOUTS`) and hides the rest, so a dock added by a new feature lands in a sensible place without an entry
here. "Explore" is the default: the scatter in the middle gets most of the room.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from PySide6.QtCore import Qt

from latent_explorer.qt.feature import BOTTOM, LEFT, RIGHT, DockSpec

EXPLORE, DECODE, ANALYSE = "explore", "decode", "analyse"
DEFAULT_LAYOUT = EXPLORE

# the layouts that show a dock whose spec names none, by its area
AREA_LAYOUTS: Mapping[Qt.DockWidgetArea, tuple[str, ...]] = {
    LEFT: (EXPLORE, ANALYSE),
    RIGHT: (EXPLORE, DECODE),
    BOTTOM: (ANALYSE,),
}


@dataclass(frozen=True)
class Share:
    """The room of one area's group: ``fraction`` of the window's width (left, right) or height (bottom),
    kept between ``least`` and ``most`` pixels; never less than what the group's panels need."""

    fraction: float
    least: int
    most: int

    def pixels(self, extent: int) -> int:
        return int(max(self.least, min(self.most, self.fraction * extent)))


@dataclass(frozen=True)
class NamedLayout:
    key: str
    title: str  # the menu entry
    tip: str
    shares: Mapping[Qt.DockWidgetArea, Share]  # the areas it shows, with their room


SIDE = Share(0.2, 300, 400)
LAYOUTS: Mapping[str, NamedLayout] = {
    layout.key: layout
    for layout in (
        NamedLayout(EXPLORE, "&Explore", "Data and view on the left, decoder and inspector on the right, the "
                    "scatter in the middle", {LEFT: SIDE, RIGHT: Share(0.3, 440, 580)}),
        NamedLayout(DECODE, "&Decode", "The decoder wide on the right, interpolation paths under the scatter",
                    {RIGHT: Share(0.38, 470, 720), BOTTOM: Share(0.34, 260, 380)}),
        NamedLayout(ANALYSE, "&Analyse", "Data and view on the left, the analysis plots under the scatter",
                    {LEFT: SIDE, BOTTOM: Share(0.6, 420, 700)}),
    )
}


def shown_in(spec: DockSpec, layout: str) -> bool:
    """Whether the named layout ``layout`` shows the dock of ``spec``."""
    return spec.visible and layout in (spec.layouts or AREA_LAYOUTS.get(spec.area, ()))
