"""``latent-explorer report``: one HTML file for one or two models, its numbers those of core, clear errors."""

from __future__ import annotations

import base64
import csv
import io
import re

import numpy as np
import pytest
from PIL import Image

from latent_explorer.cli import main
from latent_explorer.core.analysis import StructureSettings, structure
from latent_explorer.core.encoding import iter_encode_cached
from latent_explorer.core.jobs import run_job
from latent_explorer.core.models import load_model

FAST = ["--kmeans-k", "2:8:3", "--kmeans-seeds", "1", "--prior-samples", "300", "--k", "10"]


@pytest.fixture(scope="module")
def digits_ae(tmp_path_factory, digits):
    from latent_explorer.core.models.checkpoint import TrainConfig
    from latent_explorer.core.models.training import iter_train

    out = tmp_path_factory.mktemp("ckpt") / "digits-ae"
    run_job(iter_train(TrainConfig(arch="conv-ae", z_dim=6, epochs=1, batch_size=64, seed=3), digits, out))
    return out


def read_csv(path):
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))


def test_two_model_report_without_window_figures(tmp_path, digits, digits_ae, digits_vae):
    out = tmp_path / "report.html"
    code = main(["report", "--model", str(digits_ae), "--model", str(digits_vae), "--data", "digits",
                 "--out", str(out), "--no-window-figures", *FAST])
    assert code == 0
    html = out.read_text(encoding="utf-8")
    for title in ("Radius", "Per-axis density", "PCA spectrum", "KMeans inertia", "VAE posterior",
                  "Reconstruction error", "Structure: filaments and voids", "How this report was made"):
        assert f"<h2>{title}</h2>" in html
    assert html.count("<svg") == 2 * 6 + 3  # per model: axes, KMeans, four structure charts; the VAE's posterior
    assert "--no-window-figures" in html and "torch" in html
    overview = {row[0]: row[1:] for row in read_csv(tmp_path / "report-tables" / "overview.csv")}
    assert overview["quantity"] == [f"A: {digits_ae}", f"B: {digits_vae}"]
    assert overview["logvar mean"][0] == "—" and float(overview["logvar mean"][1]) < 0.5
    # the report's numbers are core's numbers on the same (cached, seed 0) codes
    model = load_model(digits_vae, device="cpu")
    codes = run_job(iter_encode_cached(model, digits, seed=0))
    direct = structure(codes.z, StructureSettings(k=10, prior_samples=300))
    assert float(overview["TwoNN intrinsic dimension"][1]) == pytest.approx(direct.data.two_nn.dimension, rel=1e-12)
    assert float(overview["NN distance ratio, codes ÷ Gaussian"][1]) == pytest.approx(direct.nn_ratio, rel=1e-12)
    assert float(overview["mean |z − μ|"][1]) == pytest.approx(np.abs(codes.z - codes.mu).mean(), rel=1e-5)
    per_code = read_csv(tmp_path / "report-tables" / "B-lid-per-code.csv")
    assert len(per_code) == 1 + len(digits)
    assert {"A-posterior.csv", "B-posterior.csv"} & {p.name for p in (tmp_path / "report-tables").iterdir()} \
        == {"B-posterior.csv"}


@pytest.mark.slow
def test_report_embeds_the_window_figures(tmp_path, digits_vae):
    out = tmp_path / "vae.html"
    assert main(["report", "--model", str(digits_vae), "--data", "digits", "--out", str(out), *FAST]) == 0
    html = out.read_text(encoding="utf-8")
    pngs = re.findall(r'src="data:image/png;base64,([^"]+)"', html)
    assert len(pngs) == 4  # the window's scatter, radius, PCA spectrum and reconstruction error
    for data in pngs:
        image = np.asarray(Image.open(io.BytesIO(base64.b64decode(data))).convert("L"), np.float64)
        assert image.shape[1] >= 500 and image.std() > 5  # drawn at the requested size, not blank


@pytest.mark.parametrize("extra, message", [
    (["--model", "x", "--model", "y"], "one or two models"),
    (["--space", "mu"], "no mu"),
    (["--space", "pca:99"], "pca:99"),
    (["--space", "tsne"], "unknown codes"),
    (["--kmeans-k", "2-40"], "KMeans range"),
    (["--size", "10x10"], "out of range"),
])
def test_report_errors_end_with_exit_code_2(tmp_path, digits_ae, capsys, extra, message):
    argv = ["report", "--model", str(digits_ae), "--data", "digits", "--out", str(tmp_path / "r.html"),
            "--no-window-figures", *FAST, *extra]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not (tmp_path / "r.html").exists()


def test_report_needs_an_html_name(tmp_path, digits_ae, capsys):
    assert main(["report", "--model", str(digits_ae), "--data", "digits", "--out", str(tmp_path / "r.txt")]) == 2
    assert "HTML" in capsys.readouterr().err
