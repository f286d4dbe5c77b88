"""The inspector: the point the user clicked — its image beside its reconstruction, label, ‖z‖ and error — and
the selection's class breakdown (count and share per class)."""

from __future__ import annotations

import html

import numpy as np
import torch
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGridLayout, QLabel, QWidget

from latent_explorer.core.datasets import chw_to_hwc
from latent_explorer.core.errors import LatentExplorerError
from latent_explorer.core.selection import class_breakdown
from latent_explorer.qt.context import FeatureContext
from latent_explorer.qt.image_view import ImageView


class InspectorPanel(QWidget):
    """Follows ``state.current_index``; the reconstruction decodes μ for a VAE (what the error measures)."""

    def __init__(self, context: FeatureContext):
        super().__init__()
        self.state = context.state
        self.view = context.view
        self.image = ImageView(minimum=72)
        self.reconstruction = ImageView(minimum=72)
        self.facts = QLabel("Click a point to inspect it.")
        self.facts.setTextFormat(Qt.TextFormat.RichText)
        self.facts.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.facts.setWordWrap(True)
        grid = QGridLayout(self)
        grid.addWidget(QLabel("image"), 0, 0, Qt.AlignmentFlag.AlignHCenter)
        grid.addWidget(QLabel("reconstruction"), 0, 1, Qt.AlignmentFlag.AlignHCenter)
        grid.addWidget(self.image, 1, 0)
        grid.addWidget(self.reconstruction, 1, 1)
        grid.addWidget(self.facts, 2, 0, 1, 2)
        self.breakdown = QLabel()
        self.breakdown.setTextFormat(Qt.TextFormat.RichText)
        self.breakdown.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.breakdown.setWordWrap(True)
        self.breakdown.setToolTip("The selected samples by class: how many, their share of the selection, and "
                                  "the share of the class that is selected")
        grid.addWidget(self.breakdown, 3, 0, 1, 2)
        grid.setRowStretch(1, 1)
        for event in (self.state.events.current_index, self.state.events.codes, self.state.events.dataset,
                      self.state.events.use_mu):
            event.connect(self.refresh)
        for event in (self.state.events.selection, self.state.events.codes, self.state.events.dataset):
            event.connect(self.refresh_breakdown)
        self.refresh_breakdown()

    def refresh(self) -> None:
        index, dataset, codes = self.state.current_index, self.state.dataset, self.state.codes
        if index is None or dataset is None or not 0 <= index < len(dataset):
            self.image.set_image(None)
            self.reconstruction.set_image(None)
            self.facts.setText("Click a point to inspect it.")
            return
        self.image.set_image(dataset.display_image(index))
        rows = [("sample", f"#{index:,}")]
        if dataset.sample_names:
            rows.append(("name", dataset.sample_names[index]))
        if dataset.labels is not None:
            label = int(dataset.labels[index])
            names = dataset.class_names or []
            rows.append(("label", names[label] if label < len(names) else str(label)))
        if codes is not None and index < len(codes):
            latent = self.state.latent()
            rows.append(("‖μ‖" if latent is codes.mu else "‖z‖", f"{float(np.linalg.norm(latent[index])):.4g}"))
            rows.append(("reconstruction error", f"{float(codes.recon_error[index]):.4g} (MSE per pixel)"))
            if codes.logvar is not None:
                rows.append(("mean log σ²", f"{float(codes.logvar[index].mean()):.4g}"))
            self._show_reconstruction(index)
        else:
            self.reconstruction.set_image(None, "not encoded yet")
        self.facts.setText("<table>" + "".join(
            f"<tr><td><b>{html.escape(k)}</b>&nbsp;</td><td>{html.escape(v)}</td></tr>" for k, v in rows) + "</table>")

    def refresh_breakdown(self, *_) -> None:
        """The selection by class, largest first; a dataset without labels shows the count only."""
        selection = self.state.selection
        if len(selection) == 0:
            self.breakdown.setText("<i>No selection.</i>")
            return
        head = f"<b>{len(selection):,} selected</b>"
        labels = self.view.labels()
        if labels is None or int(selection[-1]) >= len(labels[0]):
            self.breakdown.setText(head + " (no class labels)")
            return
        shares = class_breakdown(selection, labels[0], labels[1])
        rows = "".join(f"<tr><td>{html.escape(s.name)}&nbsp;</td><td align='right'>{s.count:,}</td>"
                       f"<td align='right'>&nbsp;{s.fraction:.1%}</td>"
                       f"<td align='right'>&nbsp;({s.of_class:.0%} of class)</td></tr>" for s in shares)
        self.breakdown.setText(f"{head} in {len(shares)} class{'es' if len(shares) != 1 else ''}"
                               f"<table>{rows}</table>")

    def _show_reconstruction(self, index: int) -> None:
        model, codes = self.state.model, self.state.codes
        if model is None:
            self.reconstruction.set_image(None, "no model loaded")
            return
        code = codes.mu if codes.mu is not None else codes.z
        try:
            out = model.decode(torch.from_numpy(np.ascontiguousarray(code[index:index + 1], dtype=np.float32)))
        except (LatentExplorerError, RuntimeError) as exc:
            self.reconstruction.set_image(None, f"decoding failed: {exc}")
            return
        self.reconstruction.set_image(chw_to_hwc(out[0].cpu().numpy()))
