"""Latent arithmetic: α·A − β·B + γ·C from clicked points or class means, decoded, placed, and compared
with its nearest real neighbours."""

from __future__ import annotations

import numpy as np
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from latent_explorer.core.decoding import DecodeError, OffDataMeter, class_means, decode_images, latent_arithmetic
from latent_explorer.qt.features.decoder.host import DecoderHost
from latent_explorer.qt.image_view import ImageView

OPERANDS = (("A", 1.0, "#1e88e5"), ("B", 1.0, "#fb8c00"), ("C", 1.0, "#43a047"))
RESULT_MARKER = "A − B + C"
NEIGHBOURS = 5
THUMB = 56


class Operand(QWidget):
    """One term: a clicked point or a class mean, its coefficient and a thumbnail."""

    def __init__(self, name: str, coefficient: float):
        super().__init__()
        self.name = name
        self.index: int | None = None
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.coefficient = QDoubleSpinBox()
        self.coefficient.setRange(-10.0, 10.0)
        self.coefficient.setSingleStep(0.1)
        self.coefficient.setValue(coefficient)
        self.coefficient.setPrefix({"A": "α ", "B": "β ", "C": "γ "}[name])
        self.source = QComboBox()
        self.source.addItem("a clicked point", None)
        self.source.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.source.setMinimumContentsLength(8)  # long class names do not widen the dock
        self.set_button = QPushButton("From point")
        self.set_button.setToolTip(f"Set {name} from the selected point")
        self.thumb = ImageView(minimum=THUMB)
        self.thumb.setFixedSize(THUMB, THUMB)
        self.description = QLabel("—")
        self.description.setMinimumWidth(60)
        self.description.setWordWrap(True)
        layout.addWidget(QLabel(f"<b>{name}</b>"))
        layout.addWidget(self.coefficient)
        layout.addWidget(self.source)
        layout.addWidget(self.set_button)
        layout.addWidget(self.thumb)
        layout.addWidget(self.description, 1)

    @property
    def class_id(self) -> int | None:
        return self.source.currentData()

    def set_classes(self, names: list[str]) -> None:
        current = self.class_id
        self.source.blockSignals(True)
        while self.source.count() > 1:
            self.source.removeItem(1)
        for c, name in enumerate(names):
            self.source.addItem(f"mean of {name}", c)
        self.source.setCurrentIndex(max(0, self.source.findData(current)) if current is not None else 0)
        self.source.blockSignals(False)


class ArithmeticTab(QWidget):
    def __init__(self, panel: DecoderHost):
        super().__init__()
        self.panel = panel
        self._means: tuple[np.ndarray, np.ndarray] | None = None  # (latent, class means)
        self.result: np.ndarray | None = None
        self.neighbours: np.ndarray = np.zeros(0, np.int64)
        self._dataset = panel.state.dataset  # the dataset the operands' indices point into
        layout = QVBoxLayout(self)
        self.operands = {name: Operand(name, coef) for name, coef, _ in OPERANDS}
        for operand in self.operands.values():
            layout.addWidget(operand)
            operand.set_button.clicked.connect(lambda _c=False, o=operand: self.set_from_selected(o.name))
            operand.source.currentIndexChanged.connect(lambda _i, o=operand: self._refresh_operand(o))
        row = QHBoxLayout()
        self.formula = QLabel("α·A − β·B + γ·C")
        self.decode_button = QPushButton("Decode A − B + C")
        row.addWidget(self.formula, 1)
        row.addWidget(self.decode_button)
        layout.addLayout(row)
        layout.addWidget(QLabel(f"Nearest real neighbours of the result (k = {NEIGHBOURS})"))
        grid = QGridLayout()
        self.neighbour_views = [ImageView(minimum=THUMB) for _ in range(NEIGHBOURS)]
        self.neighbour_labels = [QLabel("") for _ in range(NEIGHBOURS)]
        for i, (view, label) in enumerate(zip(self.neighbour_views, self.neighbour_labels, strict=True)):
            view.setFixedSize(THUMB + 8, THUMB + 8)
            label.setWordWrap(True)
            grid.addWidget(view, 0, i)
            grid.addWidget(label, 1, i)
        layout.addLayout(grid)
        self.info = QLabel("")
        self.info.setWordWrap(True)
        layout.addWidget(self.info)
        layout.addStretch(1)
        self.decode_button.clicked.connect(lambda: self.compute())

    # ------------------------------------------------------------------ operands
    def reset(self) -> None:
        """New codes: the result, its markers and neighbours belong to the old ones and go; clicked points keep
        their index while the dataset stays (another dataset's index means another image); class means are
        recomputed on demand."""
        self._means = None
        dataset = self.panel.state.dataset
        if dataset is not self._dataset:
            for operand in self.operands.values():
                operand.index = None
            self._dataset = dataset
        self.result = None
        self.neighbours = np.zeros(0, np.int64)
        for name in [*self.operands, RESULT_MARKER]:
            self.panel.set_marker(name, None)
        for view, label in zip(self.neighbour_views, self.neighbour_labels, strict=True):
            view.set_image(None)
            label.setText("")
        self.info.setText("")
        names = list(dataset.class_names or []) if dataset is not None and dataset.labels is not None else []
        for operand in self.operands.values():
            operand.set_classes(names)
            self._refresh_operand(operand)

    def set_from_selected(self, name: str) -> None:
        index = self.panel.state.current_index
        if index is None:
            self.info.setText("Click a point in the plot first.")
            return
        operand = self.operands[name]
        operand.index = int(index)
        operand.source.setCurrentIndex(0)
        self._refresh_operand(operand)

    def use_class_means(self, a: int, b: int, c: int) -> None:
        for name, class_id in zip("ABC", (a, b, c), strict=True):
            combo = self.operands[name].source
            combo.setCurrentIndex(combo.findData(class_id))

    def class_mean_codes(self) -> np.ndarray | None:
        latent = self.panel.latent()
        labels = self._labels()
        if latent is None or labels is None:
            return None
        if self._means is None or self._means[0] is not latent:
            self._means = (latent, class_means(latent, labels))
        return self._means[1]

    def _labels(self) -> np.ndarray | None:
        codes, dataset = self.panel.state.codes, self.panel.state.dataset
        if codes is not None and codes.labels is not None:
            return codes.labels
        return None if dataset is None else dataset.labels

    def operand_code(self, name: str) -> np.ndarray | None:
        operand = self.operands[name]
        latent = self.panel.latent()
        if latent is None:
            return None
        if operand.class_id is not None:
            means = self.class_mean_codes()
            if means is None or operand.class_id >= len(means) or not np.isfinite(means[operand.class_id]).all():
                return None
            return means[operand.class_id]
        if operand.index is None or operand.index >= len(latent):
            return None
        return np.asarray(latent[operand.index], np.float32)

    def _refresh_operand(self, operand: Operand) -> None:
        dataset = self.panel.state.dataset
        if operand.class_id is not None:
            code = self.operand_code(operand.name)
            operand.description.setText(operand.source.currentText())
            operand.thumb.set_image(self._decode_thumb(code))
        elif operand.index is not None and dataset is not None and operand.index < len(dataset):
            label = ""
            if dataset.labels is not None and dataset.class_names:
                label = f" ({dataset.class_names[int(dataset.labels[operand.index])]})"
            operand.description.setText(f"#{operand.index}{label}")
            operand.thumb.set_image(dataset.display_image(operand.index))
        else:
            operand.description.setText("—")
            operand.thumb.set_image(None)

    def _decode_thumb(self, code: np.ndarray | None) -> np.ndarray | None:
        model = self.panel.decode_model()
        if code is None or model is None or code.shape[-1] != model.latent_dim:
            return None
        try:
            return decode_images(model, code)[0]
        except DecodeError:
            return None

    # ------------------------------------------------------------------ the result
    def compute(self) -> np.ndarray | None:
        """Decode α·A − β·B + γ·C: it becomes the current z; markers and neighbours follow."""
        codes = {name: self.operand_code(name) for name in self.operands}
        missing = [name for name, code in codes.items() if code is None]
        if missing:
            self.info.setText(f"Set {', '.join(missing)} first: click a point and press its button, or pick a "
                              "class mean.")
            return None
        alpha, beta, gamma = (self.operands[n].coefficient.value() for n in "ABC")
        self.result = latent_arithmetic(codes["A"], codes["B"], codes["C"], alpha, beta, gamma)
        self.formula.setText(f"{alpha:g}·A − {beta:g}·B + {gamma:g}·C")
        self.panel.follow_box.setChecked(False)  # keep the result on show when a point is clicked
        self.panel.set_current_z(self.result)
        for name, _, colour in OPERANDS:
            self.panel.set_marker(name, codes[name], color=colour)
        self.panel.set_marker(RESULT_MARKER, self.result, color="#8e24aa")
        self._show_neighbours(self.result)
        return self.result

    def _show_neighbours(self, z: np.ndarray) -> None:
        latent, dataset = self.panel.latent(), self.panel.state.dataset
        if latent is None:
            return
        meter = self.panel.meter_ready() or OffDataMeter(latent, typical=1.0)
        indices, distances = meter.nearest(z, NEIGHBOURS)
        self.neighbours = indices
        names = dataset.class_names if dataset is not None else None
        labels = self._labels()
        for i, (view, label) in enumerate(zip(self.neighbour_views, self.neighbour_labels, strict=True)):
            if i >= len(indices):
                view.set_image(None)
                label.setText("")
                continue
            index = int(indices[i])
            view.set_image(dataset.display_image(index) if dataset is not None and index < len(dataset) else None)
            cls = f"{names[int(labels[index])]}\n" if names and labels is not None else ""
            label.setText(f"#{index}\n{cls}d = {distances[i]:.2f}")
        score = self.panel.meter_ready().score(z) if self.panel.meter_ready() is not None else None
        self.info.setText("" if score is None else f"off-data score of the result: {score:.2f}")
