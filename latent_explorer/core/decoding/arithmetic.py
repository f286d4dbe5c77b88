"""Latent arithmetic: α·A − β·B + γ·C, and class means to use as operands."""

from __future__ import annotations

import numpy as np


def latent_arithmetic(a: np.ndarray, b: np.ndarray, c: np.ndarray, alpha: float = 1.0, beta: float = 1.0,
                      gamma: float = 1.0) -> np.ndarray:
    """α·A − β·B + γ·C (the classic analogy: glasses man − man + woman)."""
    return (alpha * np.asarray(a, np.float32) - beta * np.asarray(b, np.float32)
            + gamma * np.asarray(c, np.float32)).astype(np.float32)


def class_means(z: np.ndarray, labels: np.ndarray, n_classes: int | None = None) -> np.ndarray:
    """(n_classes, d) mean code of each class; NaN rows for classes with no sample."""
    labels = np.asarray(labels, np.int64)
    n_classes = int(n_classes if n_classes is not None else labels.max() + 1)
    means = np.full((n_classes, z.shape[1]), np.nan, np.float32)
    for c in range(n_classes):
        members = labels == c
        if members.any():
            means[c] = z[members].mean(axis=0, dtype=np.float64)
    return means
