"""Selections as index arrays: set operations, selecting by class, the class breakdown, and the search query.

A selection is a sorted array of unique sample indices (``ExplorerState.selection``). Everything here is pure
numpy so the window, the API and the tests share one meaning of "select all", "invert" or the search box's
"10-20, cat".

The query language of the search box, one term per comma::

    12          the sample with index 12          #12 is the same (an index, never a class)
    10-20       indices 10 to 20, both included
    cat         the class named "cat" (case-insensitive), else every file name containing "cat"
    label:3     the class with id 3 or named "3";  class:cat is the same
    name:img_0  every sample whose file name contains "img_0" (image-folder datasets)

Terms are united. A term that matches nothing is reported (`QueryResult.unmatched`), not an error; a term that
cannot be read (a reversed range, an index beyond the dataset, a file name without file names) is a
`SelectionQueryError` that says what would have worked.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from latent_explorer.core.errors import LatentExplorerError

RANGE = re.compile(r"#?(\d+)\s*-\s*(\d+)")
INDEX = re.compile(r"#?(\d+)")
PREFIXES = {"label": "label", "class": "label", "name": "name", "file": "name", "index": "index"}


class SelectionQueryError(LatentExplorerError):
    """A search query that cannot be read against the loaded dataset."""


def empty_selection() -> np.ndarray:
    return np.zeros(0, dtype=np.int64)


def as_selection(indices: Iterable[int] | np.ndarray) -> np.ndarray:
    """Sorted unique int64 indices: the one shape a selection has."""
    return np.unique(np.asarray(list(indices) if not isinstance(indices, np.ndarray) else indices,
                                dtype=np.int64).ravel())


def visible_indices(n: int, labels: np.ndarray | None = None, hidden: Iterable[int] = ()) -> np.ndarray:
    """Every sample not in a hidden class: what "select all" selects (hidden points cannot be seen to be selected)."""
    hidden_ids = np.fromiter((int(h) for h in hidden), dtype=np.int64)
    if labels is None or len(hidden_ids) == 0:
        return np.arange(n, dtype=np.int64)
    labels = np.asarray(labels, dtype=np.int64)[:n]
    return np.flatnonzero(~np.isin(labels, hidden_ids)).astype(np.int64)


def invert(selection: np.ndarray, n: int, labels: np.ndarray | None = None, hidden: Iterable[int] = ()) -> np.ndarray:
    """The visible samples that are not selected."""
    return np.setdiff1d(visible_indices(n, labels, hidden), selection, assume_unique=True)


def combine(current: np.ndarray, picked: np.ndarray, mode: str = "replace") -> np.ndarray:
    """``picked`` replacing, added to ("add"), taken from ("subtract") or intersected with ("intersect") ``current``."""
    picked = as_selection(picked)
    if mode == "replace":
        return picked
    if mode == "add":
        return np.union1d(current, picked).astype(np.int64)
    if mode == "subtract":
        return np.setdiff1d(current, picked).astype(np.int64)
    if mode == "intersect":
        return np.intersect1d(current, picked).astype(np.int64)
    raise ValueError(f"unknown selection mode {mode!r}")


def class_members(labels: np.ndarray, classes: Iterable[int]) -> np.ndarray:
    """Indices of every sample whose class id is one of ``classes``."""
    wanted = np.fromiter((int(c) for c in classes), dtype=np.int64)
    return np.flatnonzero(np.isin(np.asarray(labels, dtype=np.int64), wanted)).astype(np.int64)


@dataclass(frozen=True)
class ClassShare:
    """One class in a selection: how many of the selected samples it holds, and of the class's own samples."""

    class_id: int
    name: str
    count: int
    fraction: float  # of the selection
    of_class: float  # of every sample of this class


def class_breakdown(selection: np.ndarray, labels: np.ndarray, names: Sequence[str]) -> list[ClassShare]:
    """Count and share per class of the selected samples, largest first (classes with none left out)."""
    labels = np.asarray(labels, dtype=np.int64)
    chosen = labels[np.asarray(selection, dtype=np.int64)]
    size = max(len(names), int(labels.max()) + 1 if len(labels) else 0)
    counts = np.bincount(chosen, minlength=size)
    totals = np.bincount(labels, minlength=size)
    total = max(len(chosen), 1)
    shares = [ClassShare(k, names[k] if k < len(names) else str(k), int(counts[k]), counts[k] / total,
                         counts[k] / totals[k] if totals[k] else 0.0) for k in np.flatnonzero(counts)]
    return sorted(shares, key=lambda s: (-s.count, s.class_id))


# ------------------------------------------------------------------------------------------ search
@dataclass
class QueryResult:
    """What a query found: the indices, how each term was read, and the terms that matched nothing."""

    indices: np.ndarray
    readings: list[str] = field(default_factory=list)  # "10-20: 11 indices", "cat: class 'cat' (700)"
    unmatched: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """One line for the status bar: "found 711 samples (10-20: 11 indices; cat: class 'cat', 700)"."""
        text = f"found {len(self.indices):,} sample{'s' if len(self.indices) != 1 else ''}"
        if self.readings:
            text += f" ({'; '.join(self.readings)})"
        if self.unmatched:
            text += f"; nothing matched {', '.join(repr(t) for t in self.unmatched)}"
        return text


def parse_query(text: str, n: int, labels: np.ndarray | None = None, class_names: Sequence[str] | None = None,
                sample_names: Sequence[str] | None = None) -> QueryResult:
    """The samples a search box query names (see the module docstring for the syntax)."""
    terms = [t.strip() for t in text.split(",") if t.strip()]
    if not terms:
        raise SelectionQueryError("the search is empty", hint="type an index (12), a range (10-20), a class name "
                                  "or part of a file name; separate several with commas")
    found: list[np.ndarray] = []
    result = QueryResult(empty_selection())
    for term in terms:
        indices, reading = _term(term, n, labels, class_names, sample_names)
        if len(indices):
            found.append(indices)
            result.readings.append(f"{term}: {reading}")
        else:
            result.unmatched.append(term)
    result.indices = as_selection(np.concatenate(found)) if found else empty_selection()
    return result


def _term(term: str, n: int, labels: np.ndarray | None, class_names: Sequence[str] | None,
          sample_names: Sequence[str] | None) -> tuple[np.ndarray, str]:
    prefix, sep, rest = term.partition(":")
    kind = PREFIXES.get(prefix.strip().lower()) if sep else None
    if kind is not None:
        term = rest.strip()
        if not term:
            raise SelectionQueryError(f"'{prefix}:' names nothing", hint=f"e.g. {prefix}:3")
    if kind in (None, "index"):
        if (match := RANGE.fullmatch(term)) is not None:
            return _range(int(match.group(1)), int(match.group(2)), n)
        if (match := INDEX.fullmatch(term)) is not None:
            return _range(int(match.group(1)), int(match.group(1)), n)
        if kind == "index":
            raise SelectionQueryError(f"'{term}' is not an index or a range", hint="e.g. index:12 or index:10-20")
    if kind in (None, "label"):
        found = _class(term, labels, class_names, by_id=kind == "label")
        if found is not None:
            return found
        if kind == "label":
            names = ", ".join(list(class_names or [])[:12])
            raise SelectionQueryError(f"no class '{term}'",
                                      hint=f"the classes are {names}" if names else "this dataset has no labels")
    if sample_names is None:
        if kind == "name":
            raise SelectionQueryError("this dataset has no file names",
                                      hint="file names exist for image-folder datasets")
        return empty_selection(), ""
    needle = term.lower()
    hits = np.fromiter((i for i, name in enumerate(sample_names[:n]) if needle in name.lower()), dtype=np.int64)
    return hits, f"{len(hits):,} file name{'s' if len(hits) != 1 else ''} containing '{term}'"


def _range(first: int, last: int, n: int) -> tuple[np.ndarray, str]:
    if first > last:
        raise SelectionQueryError(f"the range {first}-{last} runs backwards", hint=f"write {last}-{first}")
    if first >= n:
        raise SelectionQueryError(f"index {first} is beyond the {n:,} samples loaded",
                                  hint=f"indices run from 0 to {n - 1}" if n else "load a dataset first")
    last = min(last, n - 1)
    count = last - first + 1
    return np.arange(first, last + 1, dtype=np.int64), (f"index {first}" if count == 1 else f"{count:,} indices")


def _class(term: str, labels: np.ndarray | None, class_names: Sequence[str] | None,
           by_id: bool) -> tuple[np.ndarray, str] | None:
    """The class named ``term`` (case-insensitive), or with id ``term`` when ``by_id``; None when there is none."""
    if labels is None:
        return None
    names = [str(name) for name in (class_names or [])]
    lowered = [name.lower() for name in names]
    class_id: int | None = None
    if term.lower() in lowered:
        class_id = lowered.index(term.lower())
    elif by_id and term.isdigit() and int(term) < max(len(names), int(np.max(labels, initial=-1)) + 1):
        class_id = int(term)
    if class_id is None:
        return None
    members = class_members(labels, [class_id])
    name = names[class_id] if class_id < len(names) else str(class_id)
    return members, f"class '{name}' ({len(members):,})"
