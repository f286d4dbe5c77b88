"""The GUI-thread cycle collector: collects cycles, and freezes the survivors of a slow full collection."""

from __future__ import annotations

import gc
import weakref

import pytest


@pytest.fixture
def collector(qtbot):
    from latent_explorer.qt.app import make_application

    app = make_application()
    collector = app._garbage_collector
    assert not gc.isenabled()  # collection happens on the timer only
    yield collector
    gc.unfreeze()


class Node:
    def __init__(self):
        self.other = self


def test_cycles_made_after_a_freeze_are_still_collected(collector):
    collector.settle()
    cycle = Node()
    alive = weakref.ref(cycle)
    del cycle
    assert alive() is not None  # only a collection frees a cycle
    collector.collect_fully()
    assert alive() is None


def test_a_slow_full_collection_freezes_its_survivors(collector, monkeypatch):
    from latent_explorer.qt import collector as module

    gc.unfreeze()
    kept = [Node() for _ in range(1000)]
    frozen_before = collector.frozen
    monkeypatch.setattr(module, "SLOW_FULL_COLLECTION_S", 0.0)  # every full collection counts as slow
    collector.collect_fully()
    assert collector.frozen == frozen_before + 1
    assert gc.get_freeze_count() >= len(kept)
    monkeypatch.setattr(module, "SLOW_FULL_COLLECTION_S", 10.0)
    collector.collect_fully()
    assert collector.frozen == frozen_before + 1


def test_the_timer_collects_once_the_thresholds_are_passed(collector, monkeypatch):
    calls = []
    monkeypatch.setattr(gc, "get_count", lambda: (10**6, 10**6, 10**6))
    monkeypatch.setattr(collector, "collect_fully", lambda: calls.append("full"))
    collector.check()
    assert calls == ["full"]
    monkeypatch.setattr(gc, "get_count", lambda: (0, 0, 0))
    collector.check()
    assert calls == ["full"]
