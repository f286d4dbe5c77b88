"""Selections in core: set operations, class members and breakdown, and the search query language."""

from __future__ import annotations

import numpy as np
import pytest

from latent_explorer.core.selection import (
    SelectionQueryError,
    class_breakdown,
    class_members,
    combine,
    invert,
    parse_query,
    visible_indices,
)
from latent_explorer.core.state import ExplorerState

LABELS = np.array([0, 1, 2, 0, 1, 2, 0, 1, 2, 0])  # 4 × "cat", 3 × "dog", 3 × "Frog"
NAMES = ["cat", "dog", "Frog"]
FILES = [f"{'train' if i < 5 else 'test'}/img_{i:03d}.png" for i in range(10)]


def query(text: str, **kw):
    return parse_query(text, len(LABELS), LABELS, NAMES, kw.get("files", FILES))


def test_indices_ranges_and_lists():
    assert query("3").indices.tolist() == [3]
    assert query("#3").indices.tolist() == [3]
    assert query("2-5").indices.tolist() == [2, 3, 4, 5]
    assert query("3,5, 7").indices.tolist() == [3, 5, 7]
    assert query("8-20").indices.tolist() == [8, 9]  # a range running past the end stops at the last sample
    assert query("1-3, 2-4").indices.tolist() == [1, 2, 3, 4]


def test_class_by_name_and_by_label_id():
    assert query("dog").indices.tolist() == [1, 4, 7]
    assert query("frog").indices.tolist() == [2, 5, 8]  # case-insensitive
    assert query("label:0").indices.tolist() == [0, 3, 6, 9]
    assert query("class:Frog").indices.tolist() == [2, 5, 8]
    result = query("dog, 0")
    assert result.indices.tolist() == [0, 1, 4, 7]
    assert "class 'dog' (3)" in result.summary() and result.summary().startswith("found 4 samples")


def test_file_names_by_substring():
    assert query("test/").indices.tolist() == [5, 6, 7, 8, 9]
    assert query("name:img_00").indices.tolist() == list(range(10))
    assert query("file:IMG_007").indices.tolist() == [7]


def test_unmatched_terms_are_reported_not_raised():
    result = query("dog, zebra")
    assert result.indices.tolist() == [1, 4, 7]
    assert result.unmatched == ["zebra"] and "nothing matched 'zebra'" in result.summary()
    nothing = parse_query("zebra", 10, LABELS, NAMES, None)
    assert len(nothing.indices) == 0 and nothing.summary().startswith("found 0 samples")


@pytest.mark.parametrize(("text", "words"), [
    ("", "empty"), (" , ", "empty"), ("5-2", "backwards"), ("10", "beyond the 10 samples"),
    ("label:7", "no class '7'"), ("index:cat", "not an index"), ("label:", "names nothing"),
])
def test_unreadable_queries_raise_with_a_fix(text, words):
    with pytest.raises(SelectionQueryError) as info:
        query(text)
    assert words in info.value.message and info.value.hint


def test_file_name_query_without_file_names():
    with pytest.raises(SelectionQueryError, match="no file names"):
        parse_query("name:x", 10, LABELS, NAMES, None)


def test_set_operations_and_visibility():
    current = np.array([1, 2, 3])
    assert combine(current, np.array([3, 4]), "add").tolist() == [1, 2, 3, 4]
    assert combine(current, np.array([3, 4]), "subtract").tolist() == [1, 2]
    assert combine(current, np.array([3, 4]), "intersect").tolist() == [3]
    assert combine(current, np.array([4, 4, 0]), "replace").tolist() == [0, 4]
    with pytest.raises(ValueError):
        combine(current, current, "xor")
    assert visible_indices(10).tolist() == list(range(10))
    assert visible_indices(10, LABELS, {0}).tolist() == [1, 2, 4, 5, 7, 8]
    assert invert(np.array([0, 1]), 10, LABELS, {2}).tolist() == [3, 4, 6, 7, 9]
    assert invert(np.array([0, 1]), 4).tolist() == [2, 3]


def test_class_members_and_breakdown():
    assert class_members(LABELS, [1, 2]).tolist() == [1, 2, 4, 5, 7, 8]
    shares = class_breakdown(np.array([0, 1, 3, 6, 9]), LABELS, NAMES)
    assert [(s.name, s.count) for s in shares] == [("cat", 4), ("dog", 1)]
    assert shares[0].fraction == pytest.approx(0.8) and shares[0].of_class == pytest.approx(1.0)
    assert shares[1].of_class == pytest.approx(1 / 3)


def test_state_selection_modes_emit_once():
    state = ExplorerState()
    seen = []
    state.events.selection.connect(lambda *a: seen.append(1))
    state.select([3, 1, 3])
    state.select([1, 2], mode="add")
    state.select([2], mode="add")  # unchanged: silent
    state.select([1], mode="subtract")
    assert state.selection.tolist() == [2, 3] and len(seen) == 3
    state.clear_selection()
    assert state.selection.tolist() == [] and len(seen) == 4
