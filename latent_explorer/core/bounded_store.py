"""A store that keeps only the most recently used entries: the layout, affinity and model caches' memory bound.

Layouts are small, but a 70k-point affinity matrix is about 100 MB and a fitted UMAP holds its training graph, so
every cache of projections keeps a few of each and drops the least recently used. Not thread-safe by itself: the
caches that hold stores take their own lock around each use.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable
from typing import Any


class BoundedStore:
    """At most ``limit`` entries; `put` and `get` mark an entry as recently used, `peek` does not."""

    def __init__(self, limit: int):
        self.limit = limit
        self._entries: OrderedDict[Hashable, Any] = OrderedDict()

    def get(self, key: Hashable) -> Any:
        value = self._entries.get(key)
        if value is not None:
            self._entries.move_to_end(key)
        return value

    def peek(self, key: Hashable) -> Any:
        return self._entries.get(key)

    def put(self, key: Hashable, value: Any) -> None:
        self._entries[key] = value
        self._entries.move_to_end(key)
        while len(self._entries) > self.limit:
            self._entries.popitem(last=False)

    def clear(self) -> None:
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
