"""How a figure is exported: its width in pixels (the height follows the plot on screen), a title above it and
the resolution written into the PNG, asked in one small dialog before the file name.

The on-screen size of a plot is whatever the dock gives it (a 1× scatter is about 540×380), which is
neither what a paper nor a slide wants; the dialog starts from a print-ready width and shows what the
file will measure, in pixels and in centimetres at the chosen DPI.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QSize
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QWidget,
)

from latent_explorer.qt.figure_export import MAX_EXPORT_SIDE, heading_height

PRINT_WIDTH = 2000  # pixels: 17 cm at 300 dpi, a page's text width
PRINT_DPI = 300


@dataclass
class FigureOptions:
    """What the export dialog asks: the PNG's width, a title above the figure ('' for none), its DPI."""

    width: int
    title: str = ""
    dpi: int = PRINT_DPI

    @property
    def heading(self) -> str | None:
        return self.title.strip() or None


def default_options(on_screen: QSize, title: str = "") -> FigureOptions:
    """A print-ready start: at least `PRINT_WIDTH` pixels wide (never narrower than the screen) at 300 dpi."""
    return FigureOptions(width=max(PRINT_WIDTH, on_screen.width()), title=title, dpi=PRINT_DPI)


def exported_size(on_screen: QSize, options: FigureOptions) -> QSize:
    """The PNG's size in pixels: the width asked, the height scaled with it, the title's band included."""
    scale = options.width / max(1, on_screen.width())
    band = heading_height(options.heading)
    return QSize(options.width, round((on_screen.height() + band) * scale))


class FigureOptionsDialog(QDialog):
    """Width, title and DPI of one export, with the resulting size in pixels and centimetres."""

    def __init__(self, parent: QWidget | None, figure_title: str, on_screen: QSize, options: FigureOptions):
        super().__init__(parent)
        self.setWindowTitle(f"Export {figure_title}")
        self.on_screen = QSize(on_screen)
        self.width_box = QSpinBox()
        self.width_box.setRange(16, MAX_EXPORT_SIDE)
        self.width_box.setSingleStep(100)
        self.width_box.setSuffix(" px")
        self.width_box.setValue(options.width)
        self.width_box.setToolTip("Width of the PNG; the height follows the plot's shape on screen")
        self.title_edit = QLineEdit(options.title)
        self.title_edit.setPlaceholderText("none")
        self.title_edit.setToolTip("A title drawn above the figure (empty: none)")
        self.dpi_box = QSpinBox()
        self.dpi_box.setRange(72, 1200)
        self.dpi_box.setSingleStep(50)
        self.dpi_box.setValue(options.dpi)
        self.dpi_box.setToolTip("Resolution written into the PNG: a word processor prints it at width / DPI inches")
        self.size_label = QLabel()
        form = QFormLayout(self)
        form.addRow("Width", self.width_box)
        form.addRow("Title", self.title_edit)
        form.addRow("DPI", self.dpi_box)
        form.addRow("Size", self.size_label)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        for signal in (self.width_box.valueChanged, self.dpi_box.valueChanged, self.title_edit.textChanged):
            signal.connect(self._show_size)
        self._show_size()

    def options(self) -> FigureOptions:
        return FigureOptions(self.width_box.value(), self.title_edit.text(), self.dpi_box.value())

    def _show_size(self, *_args) -> None:
        options = self.options()
        size = exported_size(self.on_screen, options)
        cm = 2.54 / options.dpi
        self.size_label.setText(f"{size.width()} × {size.height()} px = {size.width() * cm:.1f} × "
                                f"{size.height() * cm:.1f} cm at {options.dpi} dpi")


def ask_figure_options(parent: QWidget | None, figure_title: str, on_screen: QSize,
                       options: FigureOptions) -> FigureOptions | None:
    """Show the dialog; the options chosen, or None when cancelled."""
    dialog = FigureOptionsDialog(parent, figure_title, on_screen, options)
    try:
        return dialog.options() if dialog.exec() == QDialog.DialogCode.Accepted else None
    finally:
        dialog.deleteLater()
