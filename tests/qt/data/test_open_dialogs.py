"""Open Dataset… / Open Model…: built-ins beside files, load options as fields, window-phrased fixes."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QMessageBox

from latent_explorer.core.datasets import fashion_mnist_available
from latent_explorer.core.errors import DatasetError
from latent_explorer.core.load_options import DATA_OPTIONS
from latent_explorer.qt.features import data
from latent_explorer.qt.features.data.open_dialogs import OpenDatasetDialog, OpenModelDialog, builtin_datasets


@pytest.fixture
def opened(feature_context, monkeypatch):
    context = feature_context()
    data.install(context)
    calls = []
    sources = context.sources
    monkeypatch.setattr(sources, "open_dataset", lambda spec, then_model=None, **kw: calls.append(("data", spec, kw)))
    monkeypatch.setattr(sources, "open_model", lambda spec, **kw: calls.append(("model", spec)))
    monkeypatch.setattr(sources, "open_demo", lambda name: calls.append(("demo", name)))
    return context, calls


def shown(context, kind):
    dialog = context.parent.findChildren(kind)[-1]
    assert dialog.isVisible()
    return dialog


def test_builtin_datasets_are_offered_first(opened):
    context, calls = opened
    context.sources.ask_open_dataset()  # what File ▸ Open Dataset… and the pane's button call
    dialog = shown(context, OpenDatasetDialog)
    specs = [dialog.sources.item(i).data(256) for i in range(dialog.sources.count())]
    assert specs[0] == "digits" and specs[-1] == ""
    assert ("fashion-mnist" in specs) == fashion_mnist_available() == (len(builtin_datasets()) == 4)
    assert not dialog.options_box.isEnabled()  # a built-in dataset takes no file options
    dialog.accept()
    assert calls == [("data", "digits", {})]


def test_file_options_are_fields_with_defaults(opened, tmp_path):
    context, calls = opened
    context.sources.ask_open_dataset()
    dialog = shown(context, OpenDatasetDialog)
    assert set(dialog.fields) == {option.key for option in DATA_OPTIONS}  # every flag of the command line
    dialog.choose_file(str(tmp_path / "a.npz"))
    assert dialog.options_box.isEnabled()
    assert dialog.request().options == {}  # defaults: the loader decides
    dialog.fields["x_key"].setText("pixels")
    dialog.fields["y_key"].setText("target")
    dialog.fields["shape"].setText("32x24")
    dialog.fields["mode"].setCurrentText("RGB")
    dialog.fields["limit"].setValue(100)
    dialog.fields["labels"].setText("/l.npy")
    dialog.fields["attributes"].setText("/attr.txt")
    dialog.accept()
    assert calls == [("data", str(tmp_path / "a.npz"), {"x_key": "pixels", "y_key": "target", "shape": (32, 24),
                                                         "mode": "RGB", "limit": 100, "labels": "/l.npy",
                                                         "attributes": "/attr.txt"})]


def test_an_unreadable_field_keeps_the_dialog_open(opened):
    context, calls = opened
    context.sources.ask_open_dataset()
    dialog = shown(context, OpenDatasetDialog)
    dialog.choose_file("")
    dialog.accept()
    assert "no file or folder chosen" in dialog.problem.text() and dialog.isVisible()
    dialog.choose_file("/images")
    dialog.fields["shape"].setText("big")
    dialog.accept()
    assert "'big' is not a size" in dialog.problem.text() and '"Resize to"' in dialog.problem.text()
    assert dialog.isVisible() and calls == []


def test_open_model_offers_the_demos_and_files(opened, tmp_path):
    context, calls = opened
    context.sources.ask_open_model()
    dialog = shown(context, OpenModelDialog)
    assert dialog.demos.item(0).text().startswith("demo: ")
    dialog.demos.setCurrentRow(1)
    dialog.accept()
    context.sources.ask_open_model()
    dialog = shown(context, OpenModelDialog)
    dialog.choose_file(str(tmp_path / "ckpt" / "config.json"))
    dialog.accept()
    assert calls == [("demo", dialog.demos.item(1).data(256)), ("model", str(tmp_path / "ckpt"))]


def test_the_window_names_the_field_not_the_flag(opened):
    context, _ = opened
    context.errors.show_error(DatasetError("no image array found", path="a.npz",
                                           hint="name the image array (--x-key) and the labels (--y-key)"))
    box = [b for b in context.parent.findChildren(QMessageBox) if b.isVisible()][-1]
    assert "--x-key" not in box.text() and 'the "Image array" field of Open Dataset…' in box.text()
    box.close()
