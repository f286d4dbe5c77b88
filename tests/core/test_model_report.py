"""A report's content from core alone: the codes the structure reads, the overview, every section laid out."""

from __future__ import annotations

import numpy as np
import pytest

from latent_explorer.core.analysis import StructureSettings
from latent_explorer.core.analysis.binning import AnalysisError
from latent_explorer.core.encoding import Codes
from latent_explorer.core.jobs import run_job
from latent_explorer.core.model_report import (
    ReportSettings,
    build_report,
    iter_model_analyses,
    overview_rows,
    structure_input,
)
from latent_explorer.core.report import HtmlReport

SETTINGS = ReportSettings(structure=StructureSettings(k=8, prior_samples=100), kmeans_ks=(2, 4), kmeans_seeds=(0,))


def fake_codes(variational: bool, n: int = 400, d: int = 6, seed: int = 0) -> Codes:
    rng = np.random.default_rng(seed)
    mu = (rng.standard_normal((n, 2)) @ rng.standard_normal((2, d))).astype(np.float32)  # a plane in R^d
    logvar = np.full((n, d), -6.0, np.float32) if variational else None
    z = mu + (np.exp(0.5 * logvar) * rng.standard_normal((n, d))).astype(np.float32) if variational else mu
    return Codes(z=z, mu=mu if variational else None, logvar=logvar, labels=rng.integers(0, 3, n),
                 recon_error=rng.random(n).astype(np.float32), seed=0)


def test_structure_input_spaces():
    codes = fake_codes(True)
    assert structure_input(codes, "z") is codes.z and structure_input(codes, "mu") is codes.mu
    pcs = structure_input(codes, "pca:2")
    assert pcs.shape == (400, 2) and np.allclose(pcs.mean(0), 0.0, atol=1e-4)
    assert np.var(pcs[:, 0]) >= np.var(pcs[:, 1])
    with pytest.raises(AnalysisError, match="no mu"):
        structure_input(fake_codes(False), "mu")
    with pytest.raises(AnalysisError, match="pca:1"):
        structure_input(codes, "pca:7")


def test_two_models_laid_out_side_by_side(tmp_path):
    models = [run_job(iter_model_analyses(f"{tag}: m", tag, {"kind": kind}, fake_codes(kind == "vae", seed=i),
                                          SETTINGS))
              for i, (tag, kind) in enumerate((("A", "ae"), ("B", "vae")))]
    header, rows = overview_rows(models)
    table = {r[0]: r[1:] for r in rows}
    assert header == ["quantity", "A: m", "B: m"]
    assert table["logvar mean"] == ["—", pytest.approx(-6.0)]
    assert table["TwoNN intrinsic dimension"][0] == pytest.approx(2.0, abs=0.4)  # codes on a plane
    report = build_report(HtmlReport("t", "cmd"), models)
    written = report.write(tmp_path / "r.html")
    names = {p.name for p in written}
    assert {"overview.csv", "A-structure.csv", "B-posterior.csv", "B-lid-per-code.csv"} <= names
    assert "A-posterior.csv" not in names
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert html.count("<svg") == 2 * 6 + 3 and "left out of this report" in html  # the VAE adds 3 posterior charts
