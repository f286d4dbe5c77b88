"""The caches' memory bound: least recently used entries go first; peeking does not count as a use."""

from latent_explorer.core.bounded_store import BoundedStore


def test_least_recently_used_entry_is_dropped():
    store = BoundedStore(2)
    store.put("a", 1)
    store.put("b", 2)
    assert store.get("a") == 1  # a is now the most recent
    store.put("c", 3)
    assert (store.peek("a"), store.peek("b"), store.peek("c")) == (1, None, 3) and len(store) == 2
    assert store.peek("a") == 1
    store.put("d", 4)  # peeking a did not make it recent: a goes, c stays
    assert (store.peek("a"), store.peek("c"), store.peek("d")) == (None, 3, 4)
