"""The window opens on digits with a demo model and encodes in the background."""

from __future__ import annotations


def test_window_opens_on_digits_and_encodes(main_window, qtbot, digits_vae):
    main_window.show()
    main_window.open_dataset("digits", then_model=str(digits_vae))
    qtbot.waitUntil(lambda: main_window.state.codes is not None, timeout=30000)
    codes = main_window.state.codes
    assert codes.z.shape == (1797, 4)
    assert main_window.state.model.is_variational
    assert "encoded" in main_window.status_label.text()


def test_bad_dataset_reports_and_keeps_session(main_window, qtbot, tmp_path, digits_vae):
    main_window.open_dataset("digits", then_model=str(digits_vae))
    qtbot.waitUntil(lambda: main_window.state.codes is not None, timeout=30000)
    before = main_window.state.codes
    bad = tmp_path / "broken.npz"
    bad.write_bytes(b"PK\x03\x04 not really a zip")
    main_window.open_dataset(str(bad))
    qtbot.waitUntil(lambda: main_window.last_error is not None, timeout=10000)
    assert "broken.npz" in str(main_window.last_error)
    assert main_window.state.codes is before
    assert main_window.state.dataset.name == "digits"
