"""The explorer's state as an evented dataclass (psygnal, no Qt).

Views observe it and write to it; none of them owns it. Every field change emits
``state.events.<field>``; arrays are compared by value, so setting the same selection twice is silent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from psygnal import evented

from latent_explorer.core.datasets import Dataset
from latent_explorer.core.encoding import Codes
from latent_explorer.core.selection import as_selection, combine, empty_selection


@dataclass(frozen=True)
class ViewSpec:
    """Which 2-D view the scatter shows: raw axes i/j, PCA components i/j, a t-SNE layout, or user coords."""

    kind: str = "pca"  # "raw" | "pca" | "tsne" | "custom"
    i: int = 0
    j: int = 1
    key: str = ""  # t-SNE cache key or custom layout name

    def label(self) -> str:
        if self.kind == "raw":
            return f"raw z{self.i}/z{self.j}"
        if self.kind == "pca":
            return f"PCA {self.i + 1}/{self.j + 1}"
        return f"{self.kind} {self.key}".strip()


@dataclass(frozen=True)
class DecodingStatus:
    """Whether the loaded codes can be decoded, and if not, which model would make it possible.

    Decoding is possible whenever a model is loaded with its dataset; codes opened from a file without a model
    are not, until a model of the same latent size is attached. The features that decode observe this field
    instead of asking one another.
    """

    available: bool = True
    note: str = ""  # why not, and what would enable it ("Decoding needs a model with z_dim = 16…")


@evented
@dataclass
class ExplorerState:
    """What is loaded and what the user is looking at."""

    dataset: Dataset | None = None
    model: Any = None  # a LatentModel
    codes: Codes | None = None
    view: ViewSpec = field(default_factory=ViewSpec)
    # "label", "z_norm", "recon_error", "mean_logvar", "attr:<name>", "cluster", or a measured colouring's key
    color_by: str = "label"
    hidden_classes: frozenset[int] = frozenset()
    selection: np.ndarray = field(default_factory=empty_selection)  # selected sample indices, sorted
    current_index: int | None = None  # the point shown in the inspector
    current_z: np.ndarray | None = None  # the z the decoder panel shows
    use_mu: bool = False  # plot mu instead of sampled z (VAE)
    cluster_labels: np.ndarray | None = None  # (N,) int cluster per sample, for color_by == "cluster"
    decoding: DecodingStatus = field(default_factory=DecodingStatus)
    measured_colourings: tuple[Any, ...] = ()  # `core.colourings.MeasuredColouring`s panels published

    def latent(self) -> np.ndarray | None:
        """The codes the views plot: mu for a VAE when asked, else z."""
        if self.codes is None:
            return None
        if self.use_mu and self.codes.mu is not None:
            return self.codes.mu
        return self.codes.z

    def select(self, indices: np.ndarray | list[int], mode: str = "replace") -> None:
        """Select ``indices`` (``mode``: "replace", "add", "subtract" or "intersect"; see `core.selection`)."""
        self.selection = as_selection(indices) if mode == "replace" else combine(self.selection, indices, mode)

    def clear_selection(self) -> None:
        self.selection = empty_selection()
