"""The model and data pane: what is loaded, buttons to open a model or a dataset, the demos, recent files."""

from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from latent_explorer.core.jobs import Progress
from latent_explorer.core.models import demo_models
from latent_explorer.qt.context import FeatureContext


class DataPane(QWidget):
    """Shows the loaded dataset, model and encoding; opens demos and recent files on double-click."""

    def __init__(self, context: FeatureContext):
        super().__init__()
        self.sources = sources = context.sources
        self.state = context.state
        self._encoding = ""  # "encoding 512/1,797" while the codes are computed
        self.summary = QLabel()
        self.summary.setTextFormat(Qt.TextFormat.RichText)
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        open_model = QPushButton("Open model…")
        open_model.clicked.connect(sources.ask_open_model)
        open_data = QPushButton("Open dataset…")
        open_data.clicked.connect(sources.ask_open_dataset)
        buttons = QHBoxLayout()
        buttons.addWidget(open_model)
        buttons.addWidget(open_data)

        self.demo_list = QListWidget()
        self.demo_list.setToolTip("built-in models; double-click to open one with its dataset")
        self.demo_list.itemActivated.connect(lambda item: sources.open_demo(item.data(Qt.ItemDataRole.UserRole)))
        self.recent_list = QListWidget()
        self.recent_list.setToolTip("double-click to open again")
        self.recent_list.itemActivated.connect(
            lambda item: sources.open_recent(*item.data(Qt.ItemDataRole.UserRole)))

        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addLayout(buttons)
        for title, widget in (("Demos", self.demo_list), ("Recent", self.recent_list)):
            box = QGroupBox(title)
            QVBoxLayout(box).addWidget(widget)
            layout.addWidget(box, 1)

        for event in (self.state.events.dataset, self.state.events.model, self.state.events.codes):
            event.connect(self.refresh_summary)
        sources.recent_changed.connect(self.refresh_recent)
        sources.encode_progress.connect(self._on_encode_progress)
        self.refresh_demos()
        self.refresh_recent()
        self.refresh_summary()

    def refresh_demos(self) -> None:
        self.demo_list.clear()
        for name in demo_models():
            item = QListWidgetItem(name)
            item.setData(Qt.ItemDataRole.UserRole, name)
            self.demo_list.addItem(item)

    def refresh_recent(self) -> None:
        self.recent_list.clear()
        for kind, spec in self.sources.recent_files():
            item = QListWidgetItem(f"{kind}: {spec}")
            item.setToolTip(spec)
            item.setData(Qt.ItemDataRole.UserRole, (kind, spec))
            self.recent_list.addItem(item)

    def refresh_summary(self) -> None:
        dataset, model, codes = self.state.dataset, self.state.model, self.state.codes
        rows = []
        if dataset is None:
            rows.append(("dataset", "none loaded"))
        elif callable(getattr(dataset, "summary", None)):  # codes opened from a file: rows, no images
            rows.append(("codes file", f"{dataset.name}: {dataset.summary()}"))
        else:
            shape = "×".join(str(v) for v in dataset.image_shape)
            rows.append(("dataset", f"{dataset.name}: {len(dataset):,} images, {shape}"))
            if dataset.class_names and dataset.labels is not None:
                rows.append(("classes", f"{len(dataset.class_names)}"))
            if dataset.attribute_names:
                rows.append(("attributes", f"{len(dataset.attribute_names)}"))
        if model is None:
            rows.append(("model", "none loaded"))
        else:
            kind = getattr(getattr(model, "info", None), "kind", "")
            rows.append(("model", f"{model.name}" + (f" ({kind})" if kind else "")))
            rows.append(("latent", f"z_dim {model.latent_dim}, {'VAE' if model.is_variational else 'autoencoder'}, "
                                   f"on {model.device}"))
        if codes is not None:
            rows.append(("codes", f"{len(codes):,} × {codes.latent_dim}"))
        elif self._encoding:
            rows.append(("codes", self._encoding))
        elif model is not None and dataset is not None:
            rows.append(("codes", "not encoded"))
        self.summary.setText("<table>" + "".join(
            f"<tr><td><b>{html.escape(k)}</b>&nbsp;</td><td>{html.escape(v)}</td></tr>" for k, v in rows) + "</table>")

    def _on_encode_progress(self, progress: Progress) -> None:
        if self.state.codes is None and isinstance(progress, Progress) and progress.total:
            self._encoding = f"encoding {progress.done:,}/{progress.total:,}"
            self.refresh_summary()
            self._encoding = ""
