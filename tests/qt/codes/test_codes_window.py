"""Codes without a model in the window: open, draw, grey out decoding, attach a model (or refuse one)."""

from __future__ import annotations

import io

import numpy as np
import pytest

from latent_explorer.core.codes_source import CodesDataset
from latent_explorer.core.models import demo_models

pyarrow = pytest.importorskip("pyarrow")


def png(value: int) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(np.full((6, 6), value, np.uint8)).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture
def foreign_parquet(tmp_path):
    """Codes written by plain pyarrow from someone else's pipeline: fixed-size list z, string labels, a layout."""
    import pyarrow.parquet as pq

    rng = np.random.default_rng(1)
    n, d = 120, 8
    z = rng.normal(size=(n, d)).astype(np.float32)
    table = pyarrow.table({
        "z": pyarrow.FixedSizeListArray.from_arrays(pyarrow.array(z.ravel()), d),
        "label": pyarrow.array(["cat", "dog", "emu"] * (n // 3)),
        "x": z[:, 0] * 3, "y": z[:, 1] * 3,
        "image": pyarrow.array([png(i % 250) for i in range(n)], pyarrow.binary()),
    })
    path = tmp_path / "theirs.parquet"
    pq.write_table(table, path)
    return path, z


def open_codes(window, qtbot, path):
    window.sources.open_codes(str(path))
    qtbot.waitUntil(lambda: window.state.codes is not None and not window.runner.is_running(), timeout=30000)


def test_codes_open_without_a_model_and_decoding_is_greyed_with_the_needed_model(main_window, qtbot,
                                                                                  foreign_parquet):
    path, z = foreign_parquet
    window, state = main_window, main_window.state
    window.show()
    open_codes(window, qtbot, path)
    assert window.last_error is None
    assert state.model is None and isinstance(state.dataset, CodesDataset)
    np.testing.assert_array_equal(state.codes.z, z)
    assert state.dataset.class_names == ["cat", "dog", "emu"]
    assert not state.decoding.available and "z_dim = 8" in state.decoding.note
    # the file's own layout is shown first, PCA is there too
    assert state.view.kind == "custom" and window.view_controller.xy.shape == (120, 2)
    np.testing.assert_allclose(window.view_controller.xy[:, 0], z[:, 0] * 3)
    assert window.pca is not None and window.pca.n_components == 8
    # the decoder and the paths grey out and say which model would enable them
    for name in ("decoder", "paths"):
        gate = window.panel(name)._decoding_gate
        assert gate.note.isVisibleTo(window.panel(name)) and "z_dim = 8" in gate.note.text()
        assert gate.gated_widgets() and not any(w.isEnabled() for w in gate.gated_widgets())
    # thumbnails come from the image column, read on the first hover
    thumb = state.dataset.display_image(7)
    assert thumb.shape == (6, 6) and thumb[0, 0] == pytest.approx(7 / 255)
    window.view_controller._on_hovered(7)  # no error with or without a thumbnail
    # colouring by label works from the string labels
    assert window.view_controller.labels()[1] == ["cat", "dog", "emu"]


def test_a_model_of_another_latent_size_is_refused_and_leaves_the_codes(main_window, qtbot, foreign_parquet,
                                                                         digits_vae):
    path, z = foreign_parquet
    window, state = main_window, main_window.state
    open_codes(window, qtbot, path)
    codes, dataset = state.codes, state.dataset
    window.open_model(str(digits_vae))  # z_dim 4, the codes have 8
    qtbot.waitUntil(lambda: window.last_error is not None, timeout=30000)
    assert "z_dim = 4" in str(window.last_error) and "z_dim = 8" in str(window.last_error)
    assert state.model is None and state.codes is codes and state.dataset is dataset
    assert not state.decoding.available


@pytest.mark.skipif("digits-conv-ae" not in demo_models(), reason="the digits AE demo is not built")
def test_attaching_a_model_of_the_same_latent_size_enables_decoding(main_window, qtbot, foreign_parquet):
    path, z = foreign_parquet
    window, state = main_window, main_window.state
    window.show()
    open_codes(window, qtbot, path)
    codes = state.codes
    window.open_model("demo:digits-conv-ae")  # z_dim 8
    qtbot.waitUntil(lambda: state.model is not None and not window.runner.is_running(), timeout=60000)
    assert window.last_error is None
    assert state.decoding.available and state.codes is codes  # attached, not re-encoded
    gate = window.panel("decoder")._decoding_gate
    assert not gate.note.isVisibleTo(window.panel("decoder")) and all(w.isEnabled() for w in gate.gated_widgets())
    state.current_index = 5
    qtbot.waitUntil(lambda: window.context.decoder.last_result is not None, timeout=20000)


def test_a_dropped_parquet_opens_as_codes_and_a_new_dataset_restores_decoding(main_window, qtbot, foreign_parquet):
    path, _ = foreign_parquet
    window, state = main_window, main_window.state
    window.open_path(str(path))
    qtbot.waitUntil(lambda: state.codes is not None and not window.runner.is_running(), timeout=30000)
    assert isinstance(state.dataset, CodesDataset)
    assert ("codes", str(path)) in window.sources.recent_files()
    window.open_dataset("digits")
    qtbot.waitUntil(lambda: not isinstance(state.dataset, CodesDataset) and not window.runner.is_running(),
                    timeout=30000)
    assert state.decoding.available
    assert all(w.isEnabled() for w in window.panel("decoder")._decoding_gate.gated_widgets())


def test_a_half_written_parquet_folder_is_refused_with_a_message(main_window, qtbot, tmp_path, foreign_parquet):
    from latent_explorer.core.parquet_dataset import STARTED

    src, _ = foreign_parquet
    folder = tmp_path / "job"
    folder.mkdir()
    (folder / "part-0.parquet").write_bytes(src.read_bytes())
    (folder / STARTED).write_text("{}")
    main_window.sources.open_codes(str(folder))
    qtbot.waitUntil(lambda: main_window.last_error is not None, timeout=30000)
    assert "half-written" in str(main_window.last_error) and main_window.state.codes is None


@pytest.mark.skipif("digits-conv-ae" not in demo_models(), reason="the digits AE demo is not built")
def test_the_command_line_opens_codes_and_attaches_the_model_given_beside_them(main_window, qtbot, foreign_parquet):
    import argparse

    from latent_explorer.cli import build_parser
    from latent_explorer.qt.app import open_codes_then_model

    path, _ = foreign_parquet
    args = build_parser().parse_args(["gui", "--codes", str(path), "--model", "demo:digits-conv-ae"])
    assert isinstance(args, argparse.Namespace) and args.codes == str(path)
    args.allow_pickle = False
    open_codes_then_model(main_window, args)
    state = main_window.state
    qtbot.waitUntil(lambda: state.model is not None and not main_window.runner.is_running(), timeout=60000)
    assert main_window.last_error is None and isinstance(state.dataset, CodesDataset)
    assert state.decoding.available and len(state.codes) == 120
