"""Latent sliders: one per latent axis, or one per PCA direction in units of its standard deviation.

For a 256-dimensional z the list is filterable and sortable (by index, data variance or decoder
sensitivity); rows are built lazily, a page at a time, the top ones first. Sliders never own z: they
write ``state.current_z`` through the panel and follow it back with their signals blocked.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import numpy as np
from PySide6.QtCore import Qt, QTimer, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)
from superqt import QLabeledDoubleSlider

from latent_explorer.core.decoding import (
    PCABasis,
    PreparedLatents,
    extend_ranges,
    iter_decoder_sensitivity,
    pca_slider_ranges,
)
from latent_explorer.qt.features.decoder.host import DecoderHost

PAGE = 32
SENSITIVITY_JOB = "decoder-sensitivity"
SENSITIVITY_BASES = 4
MODES = (("axes", "Latent axes"), ("pca", "PCA directions (SD units)"))
SORTS = (("index", "index"), ("variance", "data variance"), ("sensitivity", "decoder sensitivity"))


def parse_filter(text: str, names: list[str]) -> set[int] | None:
    """Rows matching "3, 10-20, z12, pc4": indices, index ranges, or parts of names. None: no filter."""
    tokens = [t for t in re.split(r"[,\s]+", text.strip().lower()) if t]
    if not tokens:
        return None
    lowered = [n.lower() for n in names]
    keep: set[int] = set()
    for token in tokens:
        span = re.fullmatch(r"(\d+)\s*-\s*(\d+)", token)
        if span:
            lo, hi = sorted((int(span.group(1)), int(span.group(2))))
            keep.update(range(lo, min(hi, len(names) - 1) + 1))
        elif token.isdigit():
            if int(token) < len(names):
                keep.add(int(token))
        else:
            keep.update(i for i, name in enumerate(lowered) if token == name or token in name)
    return keep


class AxisRow(QWidget):
    """One slider: name, labelled double slider, and its statistics."""

    def __init__(self, key: int, name: str, on_change: Callable[[int, float], None]):
        super().__init__()
        self.key = key
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.name_label = QLabel(name)
        self.name_label.setMinimumWidth(42)
        self.slider = QLabeledDoubleSlider(Qt.Orientation.Horizontal)
        self.slider.setDecimals(2)
        self.stats_label = QLabel("")
        self.stats_label.setMinimumWidth(110)
        self.stats_label.setStyleSheet("color: #666;")
        layout.addWidget(self.name_label)
        layout.addWidget(self.slider, 1)
        layout.addWidget(self.stats_label)
        self.slider.valueChanged.connect(lambda value: on_change(self.key, float(value)))

    def set_range(self, lo: float, hi: float) -> None:
        self.slider.blockSignals(True)
        self.slider.setRange(float(lo), float(hi))
        self.slider.setSingleStep((hi - lo) / 200.0)
        self.slider.blockSignals(False)

    def show_value(self, value: float) -> None:
        """Follow z without writing it back."""
        self.slider.blockSignals(True)
        self.slider.setValue(float(value))
        self.slider.blockSignals(False)


class SliderTab(QWidget):
    def __init__(self, panel: DecoderHost):
        super().__init__()
        self.panel = panel
        self._rows: dict[tuple[str, int], AxisRow] = {}
        self._ranges: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self._sensitivity: dict[str, np.ndarray] = {}
        self._basis: PCABasis | None = None
        self._shown_rows: list[AxisRow] = []
        self._limit = PAGE
        self._order: list[int] = []
        self._build()

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        top = QHBoxLayout()
        self.mode_combo = QComboBox()
        for value, label in MODES:
            self.mode_combo.addItem(label, value)
        self.sort_combo = QComboBox()
        for value, label in SORTS:
            self.sort_combo.addItem(f"sort: {label}", value)
        self.filter_edit = QLineEdit()
        self.filter_edit.setPlaceholderText("filter: 3, 10-20, z12")
        self.filter_edit.setClearButtonEnabled(True)
        top.addWidget(self.mode_combo)
        top.addWidget(self.sort_combo)
        top.addWidget(self.filter_edit, 1)
        layout.addLayout(top)

        buttons = QGridLayout()
        self.from_selected_button = QPushButton("Selected point")
        self.from_selected_button.setToolTip("Set every slider from the selected point's code")
        self.mean_button = QPushButton("Mean")
        self.mean_button.setToolTip("Set every slider to the dataset mean")
        self.zero_button = QPushButton("Zero")
        self.extend_button = QPushButton("Extend ranges")
        self.extend_button.setToolTip("Widen every slider's range by half its width on each side")
        self.reset_ranges_button = QPushButton("Data ranges")
        self.reset_ranges_button.setToolTip("Back to the data's 0.5–99.5 percentiles")
        for n, button in enumerate((self.from_selected_button, self.mean_button, self.zero_button,
                                    self.extend_button, self.reset_ranges_button)):
            buttons.addWidget(button, n // 3, n % 3)  # two rows: the dock stays narrow enough for a laptop
        layout.addLayout(buttons)

        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.container = QWidget()
        self.rows_layout = QVBoxLayout(self.container)
        self.rows_layout.setContentsMargins(2, 2, 2, 2)
        self.rows_layout.setSpacing(1)
        self.rows_layout.addStretch(1)
        self.scroll.setWidget(self.container)
        layout.addWidget(self.scroll, 1)

        bottom = QHBoxLayout()
        self.count_label = QLabel("")
        self.more_button = QPushButton(f"Show {PAGE} more")
        self.all_button = QPushButton("Show all")
        bottom.addWidget(self.count_label, 1)
        bottom.addWidget(self.more_button)
        bottom.addWidget(self.all_button)
        layout.addLayout(bottom)

        self.mode_combo.currentIndexChanged.connect(self._on_mode_changed)
        self.sort_combo.currentIndexChanged.connect(self._on_sort_changed)
        self.filter_edit.textChanged.connect(lambda _text: self.rebuild())
        self.from_selected_button.clicked.connect(self._set_from_selected)
        self.mean_button.clicked.connect(self._set_mean)
        self.zero_button.clicked.connect(self._set_zero)
        self.extend_button.clicked.connect(lambda: self.extend())
        self.reset_ranges_button.clicked.connect(self._reset_ranges)
        self.more_button.clicked.connect(lambda: self._show_more(PAGE))
        self.all_button.clicked.connect(lambda: self._show_more(10**9))

    # ------------------------------------------------------------------ state
    @property
    def mode(self) -> str:
        return self.mode_combo.currentData()

    @property
    def sort(self) -> str:
        return self.sort_combo.currentData()

    def set_mode(self, mode: str) -> None:
        self.mode_combo.setCurrentIndex(self.mode_combo.findData(mode))

    def set_sort(self, sort: str) -> None:
        self.sort_combo.setCurrentIndex(self.sort_combo.findData(sort))

    def reset(self) -> None:
        """New codes: every row, range and basis goes."""
        for row in self._rows.values():
            row.deleteLater()
        self._rows.clear()
        self._shown_rows = []
        self._order = []
        self._ranges.clear()
        self._basis = None
        self.forget_sensitivity()
        self.count_label.setText("waiting for the codes…")

    def forget_sensitivity(self) -> None:
        self._sensitivity.clear()

    def on_prepared(self, prepared: PreparedLatents) -> None:
        self._ranges["axes"] = (prepared.summary.lo, prepared.summary.hi)
        if len(prepared.summary.lo) > PAGE and self.sort == "index":
            self.sort_combo.blockSignals(True)
            self.set_sort("variance")  # many axes: the ones that matter first
            self.sort_combo.blockSignals(False)
        self._limit = PAGE
        self.rebuild()

    def basis(self) -> PCABasis | None:
        """The panel's PCA directions; when they change (the window's PCA arrives), the PCA rows are rebuilt."""
        basis = self.panel.pca_basis()
        if basis is not self._basis:
            changed = self._basis is not None
            self._basis = basis
            self._ranges.pop("pca", None)
            self._sensitivity.pop("pca", None)
            for key in [k for k in self._rows if k[0] == "pca"]:
                row = self._rows.pop(key)
                if row in self._shown_rows:
                    self._shown_rows.remove(row)
                    self.rows_layout.removeWidget(row)
                row.deleteLater()
            if changed and self.mode == "pca":
                QTimer.singleShot(0, self, self.rebuild)
        return self._basis

    def _size(self) -> int:
        if self.mode == "pca":
            basis = self.basis()
            return 0 if basis is None else len(basis.std)
        lo_hi = self._ranges.get("axes")
        return 0 if lo_hi is None else len(lo_hi[0])

    def names(self) -> list[str]:
        prefix = "PC" if self.mode == "pca" else "z"
        first = 1 if self.mode == "pca" else 0
        return [f"{prefix}{i + first}" for i in range(self._size())]

    def variance(self) -> np.ndarray | None:
        if self.mode == "pca":
            basis = self.basis()
            return None if basis is None else basis.std.astype(np.float64) ** 2
        prepared = self.panel.prepared
        return None if prepared is None else prepared.summary.variance

    def ranges(self) -> tuple[np.ndarray, np.ndarray] | None:
        if self.mode == "pca" and "pca" not in self._ranges:
            basis, latent = self.basis(), self.panel.latent()
            if basis is None or latent is None:
                return None
            self._ranges["pca"] = pca_slider_ranges(basis, latent)
        return self._ranges.get(self.mode)

    def order(self) -> list[int]:
        """Row indices to show, filtered then sorted (largest first for variance and sensitivity)."""
        n = self._size()
        keep = parse_filter(self.filter_edit.text(), self.names())
        indices = np.arange(n) if keep is None else np.array(sorted(keep), dtype=np.int64)
        key = None
        if self.sort == "variance":
            key = self.variance()
        elif self.sort == "sensitivity":
            key = self._sensitivity.get(self.mode)
        if key is not None and len(indices):
            indices = indices[np.argsort(-np.asarray(key)[indices], kind="stable")]
        return [int(i) for i in indices]

    # ------------------------------------------------------------------ rows
    def rebuild(self) -> None:
        """Lay out the first rows of the current order, building the ones never shown before."""
        ranges = self.ranges()
        for row in self._shown_rows:
            self.rows_layout.removeWidget(row)
            row.hide()
        self._shown_rows = []
        if ranges is None:
            self.count_label.setText("waiting for the codes…")
            return
        self._order = self.order()
        names = self.names()
        for i in self._order[: self._limit]:
            row = self._rows.get((self.mode, i))
            if row is None:
                row = AxisRow(i, names[i], self._on_row_changed)
                row.set_range(ranges[0][i], ranges[1][i])
                self._rows[(self.mode, i)] = row
            row.stats_label.setText(self._stats_text(i))
            self.rows_layout.insertWidget(self.rows_layout.count() - 1, row)
            row.show()
            self._shown_rows.append(row)
        shown, total = len(self._shown_rows), len(self._order)
        self.count_label.setText(f"{shown} of {total} sliders" + ("" if total == self._size() else " (filtered)"))
        self.more_button.setEnabled(shown < total)
        self.all_button.setEnabled(shown < total)
        z = self.panel.current_z()
        if z is not None:
            self.sync(z)

    def _stats_text(self, i: int) -> str:
        variance = self.variance()
        parts = []
        if variance is not None:
            if self.mode == "pca":
                parts.append(f"{variance[i] / max(variance.sum(), 1e-12):.1%} var")
            else:
                parts.append(f"σ {np.sqrt(variance[i]):.2f}")
        sensitivity = self._sensitivity.get(self.mode)
        if sensitivity is not None:
            parts.append(f"Δ {sensitivity[i]:.3f}")
        return " · ".join(parts)

    def shown_rows(self) -> list[AxisRow]:
        return list(self._shown_rows)

    def row(self, index: int) -> AxisRow | None:
        """The row of axis/component ``index`` if it is shown."""
        return next((r for r in self._shown_rows if r.key == index), None)

    def _show_more(self, count: int) -> None:
        self._limit = min(self._limit + count, max(PAGE, self._size()))
        self.rebuild()

    def sync(self, z: np.ndarray) -> None:
        """Move the shown sliders to ``z`` without writing back."""
        if not self._shown_rows:
            return
        if self.mode == "pca":
            basis = self.basis()
            if basis is None or z.shape[-1] != basis.mean.shape[0]:
                return
            values = basis.coordinates(z)
        else:
            values = z
        for row in self._shown_rows:
            if row.key < len(values):
                row.show_value(values[row.key])

    def _on_row_changed(self, index: int, value: float) -> None:
        z = self.panel.current_z()
        if z is None:
            return
        if self.mode == "pca":
            basis = self.basis()
            if basis is None:
                return
            z = basis.move(z, index, value)
        else:
            z = z.copy()
            z[index] = value
        self.panel.set_current_z(z)

    # ------------------------------------------------------------------ buttons
    def _set_from_selected(self) -> None:
        code = self.panel.selected_code()
        if code is None:
            self.count_label.setText("no point is selected: click one in the plot")
            return
        self.panel.set_current_z(code)

    def _set_mean(self) -> None:
        mean = self.panel.mean_code()
        if mean is not None:
            self.panel.set_current_z(mean)

    def _set_zero(self) -> None:
        latent = self.panel.latent()
        if latent is not None:
            self.panel.set_current_z(np.zeros(latent.shape[1], np.float32))

    def extend(self, factor: float = 0.5) -> None:
        ranges = self.ranges()
        if ranges is None:
            return
        self._ranges[self.mode] = extend_ranges(*ranges, factor=factor)
        self._apply_ranges()

    def _reset_ranges(self) -> None:
        self._ranges.pop("pca", None)
        prepared = self.panel.prepared
        if prepared is not None:
            self._ranges["axes"] = (prepared.summary.lo, prepared.summary.hi)
        self._apply_ranges()

    def _apply_ranges(self) -> None:
        ranges = self.ranges()
        if ranges is None:
            return
        for (mode, i), row in self._rows.items():
            if mode == self.mode:
                row.set_range(ranges[0][i], ranges[1][i])
        z = self.panel.current_z()
        if z is not None:
            self.sync(z)

    # ------------------------------------------------------------------ mode and sorting
    @Slot(int)
    def _on_mode_changed(self, _index: int) -> None:
        self._limit = PAGE
        if self.sort == "sensitivity":
            self._ensure_sensitivity()
        self.rebuild()

    @Slot(int)
    def _on_sort_changed(self, _index: int) -> None:
        if self.sort == "sensitivity":
            self._ensure_sensitivity()
        self.rebuild()

    def _ensure_sensitivity(self) -> None:
        """Start the sensitivity job for this mode (decodes b ± h·u around a few data codes)."""
        if self.mode in self._sensitivity:
            return
        model, latent = self.panel.decode_model(), self.panel.latent()
        if model is None or latent is None or latent.shape[1] != model.latent_dim:
            return
        rng = np.random.default_rng(0)
        bases = latent[rng.choice(len(latent), min(SENSITIVITY_BASES, len(latent)), replace=False)]
        if self.mode == "pca":
            basis = self.basis()
            if basis is None:
                return
            directions, step = basis.directions(), 0.1
        else:
            directions = np.eye(latent.shape[1], dtype=np.float32)
            step = 0.1 * float(np.median(np.sqrt(latent.var(axis=0)))) or 0.1
        mode = self.mode
        self.count_label.setText("measuring decoder sensitivity…")

        def job():
            result = yield from iter_decoder_sensitivity(model, bases, directions, step)
            return mode, latent, result

        self.panel.runner().start(SENSITIVITY_JOB, job, title="decoder sensitivity",
                                  on_done=self._on_sensitivity)

    def _on_sensitivity(self, result: Any) -> None:
        mode, latent, sensitivity = result
        if latent is not self.panel.latent():
            return
        self._sensitivity[mode] = sensitivity
        if mode == self.mode:
            self.rebuild()
