"""Samples from the prior, and how their radius compares with the data's."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

PRIORS = ("normal", "uniform")


def sample_prior(n: int, dim: int, kind: str = "normal", scale: float = 2.0, seed: int = 0) -> np.ndarray:
    """n codes from N(0, I) or uniform in [−scale, scale]^dim, float32."""
    rng = np.random.default_rng(seed)
    if kind == "normal":
        return rng.standard_normal((n, dim), dtype=np.float32)
    if kind == "uniform":
        return rng.uniform(-scale, scale, (n, dim)).astype(np.float32)
    raise ValueError(f"unknown prior '{kind}'; choose from {', '.join(PRIORS)}")


@dataclass(frozen=True)
class RadiusReport:
    """Median ‖z‖ of the prior samples against the data's: a plain AE's codes rarely sit where N(0, I) puts mass."""

    samples: float
    data: float

    @property
    def ratio(self) -> float:
        return self.samples / self.data if self.data > 0 else float("inf")

    def text(self) -> str:
        return f"median ‖z‖: samples {self.samples:.2f}, data {self.data:.2f} (×{self.ratio:.2f})"


def radius_report(samples: np.ndarray, data: np.ndarray | float) -> RadiusReport:
    data_median = float(data) if np.isscalar(data) else float(np.median(np.linalg.norm(data, axis=1)))
    return RadiusReport(samples=float(np.median(np.linalg.norm(samples, axis=1))), data=data_median)
