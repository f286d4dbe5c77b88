"""Selection commands in the window: the count, Edit ▸ All / Clear / Invert / Find, the legend and the inspector."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

from latent_explorer.core.datasets import Dataset
from latent_explorer.core.encoding import Codes
from latent_explorer.qt.features import inspector, selection


def three_classes(n: int = 90) -> tuple[Dataset, Codes]:
    rng = np.random.default_rng(1)
    labels = np.repeat(np.arange(3), n // 3)
    z = (rng.normal(size=(3, 4)) * 5)[labels] + rng.normal(size=(n, 4))
    images = rng.integers(0, 256, (n, 1, 8, 8), dtype=np.uint8)
    names = [f"{'cats' if k == 0 else 'misc'}/img_{i:03d}.png" for i, k in enumerate(labels)]
    dataset = Dataset("three", images, labels, class_names=["ring", "star", "moon"], sample_names=names,
                      source="test")
    codes = Codes(z=z.astype(np.float32), mu=None, logvar=None, labels=labels,
                  recon_error=rng.random(n).astype(np.float32))
    return dataset, codes


@pytest.fixture
def window(feature_context, qtbot):
    context = feature_context()
    panels = inspector.install(context)
    selection.install(context)
    context.parent.setCentralWidget(context.scatter)
    context.parent.resize(900, 600)
    context.parent.show()
    dataset, codes = three_classes()
    context.state.dataset = dataset
    context.state.codes = codes
    qtbot.waitUntil(lambda: context.scatter.n_points == 90)
    return context, context.selection, panels["inspector"]


def test_count_and_edit_commands(window, qtbot):
    context, commands, _ = window
    state = context.state
    assert commands.count_label.text() == "0 selected of 90"
    assert commands.count_label.isVisibleTo(context.parent)
    commands.select_all_action.trigger()
    assert len(state.selection) == 90 and commands.count_label.text() == "90 selected of 90"
    state.select(np.arange(10))
    commands.invert_action.trigger()
    assert state.selection.tolist() == list(range(10, 90))
    qtbot.keyClick(context.parent, Qt.Key.Key_Escape)
    assert len(state.selection) == 0 and commands.count_label.text() == "0 selected of 90"
    assert not commands.clear_action.isEnabled()
    state.hidden_classes = frozenset({1})  # hidden points cannot be seen: "all" and "invert" leave them out
    commands.select_all_action.trigger()
    assert state.selection.tolist() == [*range(30), *range(60, 90)]
    state.select([0])
    commands.invert_action.trigger()
    assert state.selection.tolist() == [*range(1, 30), *range(60, 90)]
    commands.clear_action.trigger()
    assert len(state.selection) == 0


def test_legend_name_selects_a_class_and_swatch_still_hides(window, qtbot):
    context, _, _ = window
    state, legend = context.state, context.scatter.legend
    assert legend.count() == 3
    name_b = legend.visualItemRect(legend.item(1)).center()
    qtbot.mouseClick(legend.viewport(), Qt.MouseButton.LeftButton, pos=name_b)
    assert state.selection.tolist() == list(range(30, 60)) and state.hidden_classes == frozenset()
    name_c = legend.visualItemRect(legend.item(2)).center()
    qtbot.mouseClick(legend.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ShiftModifier, name_c)
    assert state.selection.tolist() == list(range(30, 90))
    qtbot.mouseClick(legend.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ControlModifier,
                     legend.visualItemRect(legend.item(0)).center())
    assert len(state.selection) == 90
    qtbot.mouseClick(legend.viewport(), Qt.MouseButton.LeftButton, pos=legend.swatch_point(0))
    assert state.hidden_classes == frozenset({0}) and len(state.selection) == 90
    assert "swatch" in legend.toolTip() and "select" in legend.toolTip()


def test_search_field_finds_indices_classes_and_file_names(window, qtbot):
    context, commands, _ = window
    state, field = context.state, commands.search
    commands.find_action.trigger()
    assert field.hasFocus()
    qtbot.keyClicks(field, "10-19, 45")
    qtbot.keyClick(field, Qt.Key.Key_Return)
    assert state.selection.tolist() == [*range(10, 20), 45]
    assert context.errors.label.text().startswith("found 11 samples")
    field.clear()
    qtbot.keyClicks(field, "moon")
    qtbot.keyClick(field, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)  # adds
    assert state.selection.tolist() == [*range(10, 20), 45, *range(60, 90)]
    assert commands.find("cats/") == 30 and state.selection.tolist() == list(range(30))
    assert commands.find("name:img_08") == 10 and state.selection.tolist() == list(range(80, 90))
    assert commands.find("label:1") == 30 and state.selection.tolist() == list(range(30, 60))
    before = state.selection.copy()
    assert commands.find("500") is None  # beyond the dataset: said, and nothing changes
    assert "beyond the 90 samples" in context.errors.label.text() and field.styleSheet()
    assert commands.find("zebra") == 0
    assert "nothing matched 'zebra'" in field.toolTip()
    np.testing.assert_array_equal(state.selection, before)
    qtbot.keyClicks(field, "x")
    assert field.styleSheet() == ""  # editing again clears the warning tint


def test_inspector_shows_the_class_breakdown(window):
    context, _, panel = window
    assert "No selection" in panel.breakdown.text()
    context.state.select([*range(0, 30), *range(30, 40)])
    text = panel.breakdown.text()
    assert "40 selected</b> in 2 classes" in text
    assert "ring" in text and "75.0%" in text and "100% of class" in text
    assert "star" in text and "25.0%" in text and "33% of class" in text and "moon" not in text
