"""``figure --panel P``: every analysis panel as a full figure at the requested size, computed first (the KMeans
sweep too), refused where it does not apply, with its numbers beside it (``--data-out``), a title and a DPI."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
from PIL import Image

from latent_explorer.cli import main
from latent_explorer.qt.features.analysis import PANELS as ANALYSIS_PANELS

PANELS = tuple(cls.name.removeprefix("analysis-") for cls in ANALYSIS_PANELS)  # every panel the window has
DRAWN_IN_BLUE = ("axes", "kmeans", "pca", "radius", "recon", "vae")
VAE, AE = "demo:digits-conv-vae", "demo:digits-conv-ae"  # built in: nothing to train


def _pixels(path) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"))


def _ink(pixels: np.ndarray) -> float:
    """The fraction of the inner part of the figure (inside the axes, away from titles) that is not background."""
    h, w = pixels.shape[:2]
    inner = pixels[h // 8: h - h // 8, w // 8: w - w // 16].reshape(-1, 3).astype(int)
    return float(np.mean(np.abs(inner - inner[0]).sum(axis=1) > 30))


def _blue(pixels: np.ndarray) -> int:
    """Pixels of the whole-data colour (31, 119, 180): the curves, markers and bars drawn from the data."""
    return int(np.count_nonzero(np.abs(pixels.astype(int) - (31, 119, 180)).sum(axis=2) < 40))


@pytest.mark.parametrize("panel", PANELS)
def test_every_panel_is_a_full_figure_with_its_data_drawn(tmp_path, panel, capsys):
    out = tmp_path / f"{panel}.png"
    assert main(["figure", "--data", "digits", "--model", VAE, "--panel", panel, "--out", str(out)]) == 0, \
        capsys.readouterr().err
    pixels = _pixels(out)
    assert pixels.shape[:2] == (700, 1000)  # the default size, not a strip above the panel's table
    assert _ink(pixels) > 0.01  # curves, bars, grid and legend inside the plot, not empty axes
    if panel in DRAWN_IN_BLUE:
        assert _blue(pixels) > 300  # the data's own colour: the plotted counts, inertias or ratios


def test_size_title_and_dpi_reach_the_png(tmp_path):
    out = tmp_path / "radius.png"
    assert main(["figure", "--data", "digits", "--model", VAE, "--panel", "radius", "--size", "1200x800",
                 "--title", "Figure 3", "--dpi", "300", "--out", str(out)]) == 0
    with Image.open(out) as image:
        assert image.size[0] == 1200 and image.size[1] > 800  # the title's band above the plots
        assert image.info["dpi"] == pytest.approx((300, 300), abs=0.1)
    untitled = tmp_path / "plain.png"
    assert main(["figure", "--data", "digits", "--model", VAE, "--panel", "radius", "--size", "1200x800",
                 "--out", str(untitled)]) == 0
    with Image.open(untitled) as image:
        assert image.size == (1200, 800) and image.info["dpi"] == pytest.approx((96, 96), abs=0.1)


def test_kmeans_runs_its_sweep_and_writes_the_inertias(tmp_path):
    out, numbers = tmp_path / "kmeans.png", tmp_path / "kmeans.json"
    assert main(["figure", "--data", "digits", "--model", VAE, "--panel", "kmeans", "--out", str(out),
                 "--data-out", str(numbers)]) == 0
    document = json.loads(numbers.read_text())
    sheet = document["sheets"]["inertia"]
    assert sheet["columns"][:2] == ["k", "mean inertia"] and sheet["columns"][-1] == "inertia seed 0"
    ks = [row[0] for row in sheet["rows"]]
    inertia = np.array([row[1] for row in sheet["rows"]], dtype=float)
    assert ks == list(range(2, 81, 2))  # the panel's default sweep, every fit done
    assert np.isfinite(inertia).all() and (np.diff(inertia) < 0).mean() > 0.8  # falls as k grows


def test_data_out_csv_holds_every_table_of_the_panel(tmp_path):
    out, numbers = tmp_path / "radius.png", tmp_path / "radius.csv"
    assert main(["figure", "--data", "digits", "--model", VAE, "--panel", "radius", "--out", str(out),
                 "--data-out", str(numbers)]) == 0
    with open(numbers, newline="") as fh:
        summary = list(csv.DictReader(fh))
    assert [row["codes"] for row in summary] == ["z", "mu"]
    with open(tmp_path / "radius-histogram.csv", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0][:3] == ["bin start", "bin end", "count |z|"]
    assert sum(float(r[2]) for r in rows[1:]) == 1797  # every digit counted once


def test_data_out_of_the_scatter_is_its_coordinates(tmp_path):
    out, numbers = tmp_path / "scatter.png", tmp_path / "xy.json"
    assert main(["figure", "--data", "digits", "--model", VAE, "--view", "raw:1,3", "--out", str(out),
                 "--data-out", str(numbers)]) == 0
    sheet = json.loads(numbers.read_text())["sheets"]["coordinates"]
    assert sheet["columns"][:3] == ["index", "z1", "z3"] and "label" in sheet["columns"]
    rows = np.array([row[:3] for row in sheet["rows"]], dtype=float)
    assert len(rows) == 1797 and np.array_equal(rows[:, 0], np.arange(1797))
    codes = tmp_path / "codes.npz"
    assert main(["encode", "--data", "digits", "--model", VAE, "--out", str(codes)]) == 0
    with np.load(codes) as arrays:
        np.testing.assert_allclose(rows[:, 1:], arrays["z"][:, [1, 3]], rtol=1e-5, atol=1e-6)


def test_vae_panel_on_an_autoencoder_is_refused(tmp_path, capsys):
    out, numbers = tmp_path / "vae.png", tmp_path / "vae.csv"
    code = main(["figure", "--data", "digits", "--model", AE, "--panel", "vae", "--out", str(out),
                 "--data-out", str(numbers)])
    assert code == 2
    err = capsys.readouterr().err
    assert "does not apply" in err and "Needs a VAE" in err and "Traceback" not in err
    assert not out.exists() and not numbers.exists()


def test_radius_panel_on_data_without_labels(tmp_path, digits, capsys):
    images = tmp_path / "images.npy"
    np.save(images, digits.images[:, 0])  # the digits without their labels
    out = tmp_path / "radius.png"
    assert main(["figure", "--data", str(images), "--model", AE, "--panel", "radius", "--out", str(out)]) == 0, \
        capsys.readouterr().err
    assert _blue(_pixels(out)) > 300
    # the scatter too: its default colouring by label is left out where there are no labels
    scatter = tmp_path / "scatter.png"
    assert main(["figure", "--data", str(images), "--model", AE, "--out", str(scatter)]) == 0
    assert main(["figure", "--data", str(images), "--model", AE, "--color", "label", "--out", str(scatter)]) == 2
    assert "cannot colour by 'label'" in capsys.readouterr().err


@pytest.mark.parametrize(("args", "message"), [
    (["--panel", "radius", "--data-out", "x.txt"], ".csv or .json"),
    (["--panel", "radius", "--dpi", "0"], "out of range"),
])
def test_bad_data_out_and_dpi_are_explained(tmp_path, capsys, args, message):
    out = tmp_path / "x.png"
    args = [str(tmp_path / a) if a.startswith("x.") else a for a in args]
    assert main(["figure", "--data", "digits", "--model", VAE, *args, "--out", str(out)]) == 2
    assert message in capsys.readouterr().err
    assert not out.exists() and not list(tmp_path.glob("x.*"))


def test_filmstrip_png_wraps_into_rows_of_the_chosen_width(tmp_path):
    from latent_explorer.core.interpolation import LatentPath

    path = LatentPath("p", [[-1.0, 0.0], [0.0, 1.0], [1.0, 0.0]], view={"kind": "pca", "i": 0, "j": 1}, steps=40)
    path.save(tmp_path / "p.json")
    base = ["figure", "--model", VAE, "--data", "digits", "--path", str(tmp_path / "p.json")]
    sizes = {}
    for columns in ("0", "10", "16"):
        out = tmp_path / f"strip-{columns}.png"
        assert main([*base, "--strip-columns", columns, "--filmstrip", str(out)]) == 0
        with Image.open(out) as image:
            sizes[columns] = image.size
    (one_w, one_h), (ten_w, ten_h), (default_w, default_h) = sizes["0"], sizes["10"], sizes["16"]
    frame = (one_w - 96 - 2) / 40  # one line: the gutter, then 40 frames and their gaps
    assert ten_w == round(96 + 10 * frame + 2) and ten_h > 4 * one_h  # four blocks of the four rows
    default = tmp_path / "strip.png"
    assert main([*base, "--filmstrip", str(default)]) == 0  # 16 per line unless told otherwise
    with Image.open(default) as image:
        assert image.size == (default_w, default_h) and default_w < one_w / 2
