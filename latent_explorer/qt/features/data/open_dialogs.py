"""Open Dataset… and Open Model…: the built-in datasets and demos beside files, and the load options as fields.

Every option the command line takes as a flag for loading data (`core.load_options.DATA_OPTIONS`) is a field
here, prefilled with its default (empty: the loader decides), so that an error's fix — phrased for the window
by `core.load_options.for_window` — names a field the user can find.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from latent_explorer.core.datasets import fashion_mnist_available
from latent_explorer.core.errors import DatasetError, LatentExplorerError, ModelError
from latent_explorer.core.load_options import DATA_OPTIONS
from latent_explorer.core.models import demo_models

FILE_ITEM = ""  # the user data of the list entry "a file or folder"
DATASET_FILTER = "Datasets (*.npz *.npy *ubyte *ubyte.gz *idx*);;All files (*)"
MODEL_FILTER = "Models (model.toml *.toml config.json);;All files (*)"
OPTION = {option.key: option for option in DATA_OPTIONS}


def builtin_datasets() -> list[tuple[str, str]]:
    """(spec, description) of the datasets that need no file: digits always, Fashion-MNIST when installed."""
    found = [("digits", "digits — scikit-learn's 1,797 handwritten digits, 8×8")]
    if fashion_mnist_available():
        found += [("fashion-mnist", "Fashion-MNIST — 70,000 clothing images, 28×28"),
                  ("fashion-mnist-train", "Fashion-MNIST, training split — 60,000 images"),
                  ("fashion-mnist-test", "Fashion-MNIST, test split — 10,000 images")]
    return found


@dataclass
class DatasetRequest:
    """What the dialog asks to open: a spec and the load options set (others left to the loader)."""

    spec: str
    options: dict[str, Any] = field(default_factory=dict)


def parse_shape(text: str) -> tuple[int, int] | None:
    """"64x64", "64", or empty (keep the images' own size)."""
    text = text.strip().lower().replace("×", "x")
    if not text:
        return None
    h, _, w = text.partition("x")
    if not (h.isdigit() and (w.isdigit() or not w)) or int(h) < 1 or (w and int(w) < 1):
        raise DatasetError(f"'{text}' is not a size", hint=f'give HxW, e.g. 64x64, in the "{OPTION["shape"].field}" '
                           "field, or leave it empty")
    return int(h), int(w or h)


def _file_row(line: QLineEdit, browse: QPushButton, *more: QWidget) -> QWidget:
    row = QWidget()
    layout = QHBoxLayout(row)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.addWidget(line, 1)
    layout.addWidget(browse)
    for widget in more:
        layout.addWidget(widget)
    return row


class OpenDatasetDialog(QDialog):
    """A built-in dataset or a file or folder, with the load options of the command line as fields."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Open Dataset")
        self.sources = _choice_list(builtin_datasets(), "A file or folder: IDX, .npz, .npy or a folder of images")
        self.sources.currentRowChanged.connect(self._enable)
        self.sources.itemDoubleClicked.connect(lambda _: self.accept() if not self._wants_file() else None)

        self.path = QLineEdit(placeholderText="a dataset file or an image folder")
        browse_file, browse_folder = QPushButton("File…"), QPushButton("Folder…")
        browse_file.clicked.connect(lambda: self._browse(self.path, DATASET_FILTER))
        browse_folder.clicked.connect(self._browse_folder)
        self.fields: dict[str, QWidget] = {
            "x_key": QLineEdit(placeholderText="found by itself (x, images, …)"),
            "y_key": QLineEdit(placeholderText="found by itself (y, labels, …)"),
            "labels": QLineEdit(placeholderText="none, or found beside the images"),
            "shape": QLineEdit(placeholderText="their own size, e.g. 64x64"),
            "mode": QComboBox(),
            "attributes": QLineEdit(placeholderText="none"),
            "limit": QSpinBox(minimum=0, maximum=10_000_000, specialValueText="no limit"),
        }
        self.fields["mode"].addItems(["auto", "L", "RGB"])
        self.options_box = QGroupBox("Files: how to read them")
        form = QFormLayout(self.options_box)
        form.addRow("File or folder", _file_row(self.path, browse_file, browse_folder))
        for key, widget in self.fields.items():
            widget.setToolTip(f"{OPTION[key].help} (command line: {OPTION[key].flag})")
            if key in ("labels", "attributes"):
                browse = QPushButton("…")
                browse.clicked.connect(lambda checked=False, line=widget: self._browse(line, "All files (*)"))
                widget = _file_row(widget, browse)
            form.addRow(OPTION[key].field, widget)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Open | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self.problem = QLabel()
        self.problem.setStyleSheet("color: #b00020")
        self.problem.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Open"))
        layout.addWidget(self.sources)
        layout.addWidget(self.options_box)
        layout.addWidget(self.problem)
        layout.addWidget(buttons)
        self._enable()

    def _wants_file(self) -> bool:
        item = self.sources.currentItem()
        return item is None or item.data(Qt.ItemDataRole.UserRole) == FILE_ITEM

    def _enable(self, *_: Any) -> None:
        self.options_box.setEnabled(self._wants_file())

    def _browse(self, line: QLineEdit, filters: str) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Choose a file", line.text(), filters)
        if path:
            line.setText(path)

    def _browse_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Choose an image folder", self.path.text())
        if path:
            self.path.setText(path)

    def choose_file(self, path: str) -> None:
        """Pick "a file or folder" with ``path`` (the browse buttons; scripts and tests)."""
        self.sources.setCurrentRow(self.sources.count() - 1)
        self.path.setText(path)

    def request(self) -> DatasetRequest:
        """The spec and options to open; a field that cannot be read raises `DatasetError` naming it."""
        if not self._wants_file():
            return DatasetRequest(self.sources.currentItem().data(Qt.ItemDataRole.UserRole))
        spec = self.path.text().strip()
        if not spec:
            raise DatasetError("no file or folder chosen", hint='choose one with "File…" or "Folder…"')
        options: dict[str, Any] = {}
        for key in ("x_key", "y_key", "labels", "attributes"):
            text = self.fields[key].text().strip()
            if text:
                options[key] = text
        shape = parse_shape(self.fields["shape"].text())
        if shape is not None:
            options["shape"] = shape
        if self.fields["mode"].currentText() != "auto":
            options["mode"] = self.fields["mode"].currentText()
        if self.fields["limit"].value() > 0:
            options["limit"] = self.fields["limit"].value()
        return DatasetRequest(spec, options)

    def accept(self) -> None:
        try:
            self.result_request = self.request()
        except DatasetError as exc:
            self.problem.setText(f"{exc.message} — {exc.hint}" if exc.hint else exc.message)
            return
        super().accept()


class OpenModelDialog(QDialog):
    """A built-in demo model or a model file (``model.toml``, a checkpoint's ``config.json``, a folder)."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Open Model")
        self.demos = _choice_list([(name, f"demo: {name}") for name in demo_models()],
                                  "A model file or checkpoint folder")
        self.demos.currentRowChanged.connect(lambda *_: self.path_row.setEnabled(self._wants_file()))
        self.demos.itemDoubleClicked.connect(lambda _: self.accept() if not self._wants_file() else None)
        self.path = QLineEdit(placeholderText="model.toml, a checkpoint's config.json, or its folder")
        browse = QPushButton("File…")
        browse.clicked.connect(self._browse)
        self.path_row = _file_row(self.path, browse)
        self.path_row.setEnabled(False)
        self.problem = QLabel()
        self.problem.setStyleSheet("color: #b00020")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Open | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Open a built-in demo (it opens its dataset too) or a model of your own"))
        layout.addWidget(self.demos)
        layout.addWidget(self.path_row)
        layout.addWidget(self.problem)
        layout.addWidget(buttons)

    def _wants_file(self) -> bool:
        item = self.demos.currentItem()
        return item is None or item.data(Qt.ItemDataRole.UserRole) == FILE_ITEM

    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open model", self.path.text(), MODEL_FILTER)
        if path:
            self.path.setText(path)

    def choose_file(self, path: str) -> None:
        self.demos.setCurrentRow(self.demos.count() - 1)
        self.path.setText(path)

    def request(self) -> tuple[str, str]:
        """("demo", name) or ("model", spec); a config.json stands for its folder."""
        if not self._wants_file():
            return "demo", self.demos.currentItem().data(Qt.ItemDataRole.UserRole)
        path = self.path.text().strip()
        if not path:
            raise ModelError("no model file chosen", hint='choose one with "File…"')
        return "model", str(Path(path).parent) if Path(path).name == "config.json" else path

    def accept(self) -> None:
        try:
            self.result_request = self.request()
        except LatentExplorerError as exc:
            self.problem.setText(f"{exc.message} — {exc.hint}")
            return
        super().accept()


def _choice_list(choices: Iterable[tuple[str, str]], file_text: str) -> QListWidget:
    """The built-in choices, each (spec, text), then the row that asks for a file (`FILE_ITEM`); the first is
    current."""
    widget = QListWidget()
    for spec, text in [*choices, (FILE_ITEM, file_text)]:
        item = QListWidgetItem(text)
        item.setData(Qt.ItemDataRole.UserRole, spec)
        widget.addItem(item)
    widget.setCurrentRow(0)
    return widget
