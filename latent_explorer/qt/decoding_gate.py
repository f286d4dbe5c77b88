"""Greying out what decodes while no model can decode the codes on show (codes opened from a file).

A feature that decodes calls `gate_decoding(state, panel)` once: a note is put at the top of the panel, and
while ``state.decoding.available`` is false every other widget of the panel is disabled and the note says
which model would enable them. Each feature observes the state itself; none of them asks another.
"""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QLabel, QLayout, QWidget

from latent_explorer.core.state import ExplorerState

NOTE_STYLE = "QLabel { background: #fff4d6; color: #5a4300; border: 1px solid #e0c16c; padding: 4px; }"


class DecodingGate:
    """Keeps one panel's widgets enabled only while decoding is available; shows why not otherwise."""

    def __init__(self, state: ExplorerState, panel: QWidget, what: str, actions: Iterable[QAction] = ()):
        self.state, self.panel, self.what, self.actions = state, panel, what, list(actions)
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.note.setStyleSheet(NOTE_STYLE)
        self.note.setObjectName("decoding-note")
        layout = panel.layout()
        if layout is None:
            raise TypeError(f"{type(panel).__name__} has no layout to put the decoding note in")
        if hasattr(layout, "insertWidget"):  # a box layout: the note goes on top
            layout.insertWidget(0, self.note)
        else:
            layout.addWidget(self.note)
        state.events.decoding.connect(self.sync)
        self.sync()

    def gated_widgets(self) -> list[QWidget]:
        """The panel's widgets other than the note, at the top level of its layout (nested layouts included)."""
        found: list[QWidget] = []

        def walk(layout: QLayout) -> None:
            for k in range(layout.count()):
                item = layout.itemAt(k)
                if item.widget() is not None and item.widget() is not self.note:
                    found.append(item.widget())
                elif item.layout() is not None:
                    walk(item.layout())

        walk(self.panel.layout())
        return found

    def sync(self) -> None:
        status = self.state.decoding
        self.note.setText(f"{self.what.capitalize()} is off. {status.note}" if not status.available else "")
        self.note.setVisible(not status.available)
        for widget in self.gated_widgets():
            widget.setEnabled(status.available)
        for action in self.actions:
            action.setEnabled(status.available)


def gate_decoding(state: ExplorerState, panel: QWidget, what: str = "decoding",
                  actions: Iterable[QAction] = ()) -> DecodingGate:
    """Grey ``panel`` (and its menu ``actions``) out while the codes on show cannot be decoded."""
    gate = DecodingGate(state, panel, what, actions)
    panel._decoding_gate = gate  # lives as long as the panel
    return gate
