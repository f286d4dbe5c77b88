"""``latent-explorer figure``: the window's widgets rendered headless, reproducibly, from arguments or a session."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from latent_explorer.cli import main

ROOT = next(p for p in Path(__file__).resolve().parents if (p / "pyproject.toml").exists())  # the checkout


def _image(path: Path) -> np.ndarray:
    from PySide6.QtGui import QImage

    image = QImage(str(path)).convertToFormat(QImage.Format.Format_RGBA8888)
    assert not image.isNull(), path
    array = np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), image.bytesPerLine() // 4, 4)
    return array[:, : image.width(), :3].copy()


def _figure(tmp_path, digits_vae, name: str, *extra: str) -> Path:
    out = tmp_path / name
    assert main(["figure", "--data", "digits", "--model", str(digits_vae), *extra, "--out", str(out)]) == 0
    return out


def test_same_command_same_png(tmp_path, digits_vae, capsys):
    args = ("--view", "pca:1,2", "--color", "label", "--size", "640x480")
    first = _figure(tmp_path, digits_vae, "a.png", *args)
    second = _figure(tmp_path, digits_vae, "b.png", *args)
    assert first.read_bytes() == second.read_bytes()
    pixels = _image(first)
    assert pixels.shape[1] == 640 and 400 < pixels.shape[0] < 480  # the scatter without its toolbar
    assert len(np.unique(pixels.reshape(-1, 3), axis=0)) > 10  # ten class colours, axes, text
    assert "wrote" in capsys.readouterr().err


def test_raw_axes_zoom_scale_and_vector_formats(tmp_path, digits_vae):
    whole = _image(_figure(tmp_path, digits_vae, "whole.png", "--view", "raw:0,3", "--size", "400x300"))
    zoomed = _image(_figure(tmp_path, digits_vae, "zoom.png", "--view", "raw:0,3", "--size", "400x300",
                            "--zoom", "-0.5,0.5,-0.5,0.5"))
    assert whole.shape == zoomed.shape and not np.array_equal(whole, zoomed)
    big = _image(_figure(tmp_path, digits_vae, "big.png", "--view", "raw:0,3", "--size", "400x300", "--scale", "2"))
    assert big.shape[:2] == (2 * whole.shape[0], 2 * whole.shape[1])
    wide = _image(_figure(tmp_path, digits_vae, "wide.png", "--view", "raw:0,3", "--size", "400x300",
                          "--width", "1000"))
    assert wide.shape[1] == 1000
    svg = _figure(tmp_path, digits_vae, "f.svg", "--view", "raw:0,3", "--color", "recon_error", "--title", "raw")
    text = svg.read_text()
    assert "z0" in text and "z3" in text and "reconstruction error" in text and ">raw<" in text
    pdf = _figure(tmp_path, digits_vae, "f.pdf", "--view", "pca:2,3")
    assert pdf.read_bytes().startswith(b"%PDF")


def test_tsne_view_is_reproducible(tmp_path, digits_vae):
    args = ("--view", "tsne", "--perplexity", "30", "--pca-k", "4", "--tsne-iter", "50", "--tsne-early-iter", "50",
            "--size", "400x300")
    first = _figure(tmp_path, digits_vae, "t1.png", *args)
    second = _figure(tmp_path, digits_vae, "t2.png", *args)
    assert np.array_equal(_image(first), _image(second))


def test_session_renders_as_saved(main_window, qtbot, tmp_path, digits_vae):
    """A session's view, colouring and zoom give the picture the same options give on the command line."""
    from latent_explorer.core.state import ViewSpec

    window = main_window
    window.open_dataset("digits", then_model=str(digits_vae))
    qtbot.waitUntil(lambda: window.state.codes is not None and not window.runner.is_running(), timeout=60000)
    window.state.view = ViewSpec("raw", 1, 2)
    window.state.color_by = "z_norm"
    window.scatter.set_view(-1.0, 1.5, -2.0, 1.0)
    session = window.context.session.save_session(tmp_path / "s.lxs")
    from_session = tmp_path / "session.png"
    assert main(["figure", "--session", str(session), "--size", "500x400", "--out", str(from_session)]) == 0
    explicit = _figure(tmp_path, digits_vae, "explicit.png", "--view", "raw:1,2", "--color", "z_norm",
                       "--zoom", "-1,1.5,-2,1", "--size", "500x400")
    assert np.array_equal(_image(from_session), _image(explicit))


def test_panel_figure(tmp_path, digits_vae):
    pixels = _image(_figure(tmp_path, digits_vae, "radius.png", "--panel", "radius", "--size", "600x400"))
    assert pixels.shape[1] >= 600 and len(np.unique(pixels.reshape(-1, 3), axis=0)) > 5


@pytest.mark.parametrize(("args", "message"), [
    (["--view", "pca:0,1"], "counted from 1"),
    (["--view", "raw:1,99"], "the codes have 4 dimensions"),
    (["--view", "umap"], "cannot read the view"),
    (["--color", "attr:Smiling"], "cannot colour by"),
    (["--zoom", "1,0,0,1"], "X0 < X1"),
    (["--panel", "nothing"], "no panel 'nothing'"),
    (["--size", "10x10"], "out of range"),
])
def test_bad_requests_are_explained(tmp_path, digits_vae, capsys, args, message):
    out = tmp_path / "x.png"
    code = main(["figure", "--data", "digits", "--model", str(digits_vae), *args, "--out", str(out)])
    assert code == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_output_format_and_missing_inputs(tmp_path, capsys):
    assert main(["figure", "--data", "digits", "--out", str(tmp_path / "x.gif")]) == 2
    assert ".png, .svg or .pdf" in capsys.readouterr().err
    assert main(["figure", "--out", str(tmp_path / "x.png")]) == 2
    assert "--data" in capsys.readouterr().err
    broken = tmp_path / "broken.lxs"
    broken.write_bytes(b"not a session")
    assert main(["figure", "--session", str(broken), "--out", str(tmp_path / "x.png")]) == 2
    assert "broken.lxs" in capsys.readouterr().err


@pytest.mark.slow
def test_headless_process_without_display_matches_in_process(tmp_path, digits_vae):
    """No DISPLAY and no QT_QPA_PLATFORM: the command picks the offscreen platform and draws the same picture."""
    args = ["figure", "--data", "digits", "--model", str(digits_vae), "--view", "pca:1,3", "--size", "400x300"]
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    out = tmp_path / "sub.png"
    result = subprocess.run([sys.executable, "-m", "latent_explorer", *args, "--out", str(out)], env=env, cwd=ROOT,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    here = tmp_path / "here.png"
    assert main([*args, "--out", str(here)]) == 0
    assert out.read_bytes() == here.read_bytes()


def test_path_filmstrip_from_the_command_line(tmp_path, digits_vae, capsys):
    from PIL import Image

    from latent_explorer.core.interpolation import LatentPath

    path = LatentPath("p", [[-1.0, 0.0], [0.0, 1.0], [1.0, 0.0]], view={"kind": "pca", "i": 0, "j": 1}, steps=12)
    path.save(tmp_path / "p.json")
    base = ["figure", "--model", str(digits_vae), "--data", "digits", "--path", str(tmp_path / "p.json")]
    assert main([*base, "--filmstrip", str(tmp_path / "strip.png")]) == 0
    with Image.open(tmp_path / "strip.png") as im:
        assert im.width > im.height > 0
    assert main([*base, "--filmstrip", str(tmp_path / "strip.gif")]) == 0
    with Image.open(tmp_path / "strip.gif") as im:
        assert im.n_frames >= 12
    capsys.readouterr()
    assert main(["figure", "--data", "digits", "--path", str(tmp_path / "p.json")]) == 2
    assert "--path and --filmstrip go together" in capsys.readouterr().err
    tsne_path = LatentPath("t", [[0.0, 0.0], [1.0, 1.0]], view={"kind": "tsne", "key": "x"}, steps=8)
    tsne_path.save(tmp_path / "t.json")
    assert main(["figure", "--model", str(digits_vae), "--data", "digits", "--path", str(tmp_path / "t.json"),
                 "--filmstrip", str(tmp_path / "t.png")]) == 2
    assert "coordinates are needed" in capsys.readouterr().err
    np.save(tmp_path / "map.npy", np.random.default_rng(0).normal(size=(1797, 2)))
    assert main(["figure", "--model", str(digits_vae), "--data", "digits", "--path", str(tmp_path / "t.json"),
                 "--layout", str(tmp_path / "map.npy"), "--filmstrip", str(tmp_path / "t.npz")]) == 0
    with np.load(tmp_path / "t.npz") as arrays:
        assert arrays["z"].shape == (8, 4)
