"""Long-lived objects are frozen out of full collections, now and after each one."""

from __future__ import annotations

import gc

import pytest

from newslake import gctune


@pytest.fixture()
def unfrozen():
    """Leave the interpreter as found: no freeze, no callback."""
    gc.unfreeze()
    yield
    if gctune._freeze_survivors in gc.callbacks:
        gc.callbacks.remove(gctune._freeze_survivors)
    gc.unfreeze()


class Node:
    def __init__(self) -> None:
        self.children: list[Node] = []


def test_freezes_what_exists_and_survivors_of_later_full_collections(unfrozen):
    kept = [Node() for _ in range(1000)]
    gctune.freeze_long_lived()
    frozen_at_start = gc.get_freeze_count()
    assert frozen_at_start >= 1000
    assert all(not _is_scanned(n) for n in kept[:10])

    later = [Node() for _ in range(500)]
    assert _is_scanned(later[0])  # young objects are collected as usual...
    gc.collect()  # ...and what survives a full collection is frozen after it
    # Frozen objects are still freed by reference counting, so the permanent generation
    # may also lose a few objects meanwhile: the count is a bound, not an equality.
    assert gc.get_freeze_count() >= frozen_at_start + 500 - 50
    assert not any(_is_scanned(n) for n in later[:10])


def test_installs_its_callback_once(unfrozen):
    gctune.freeze_long_lived()
    gctune.freeze_long_lived()
    assert gc.callbacks.count(gctune._freeze_survivors) == 1


def test_young_generations_do_not_freeze(unfrozen):
    gctune.freeze_long_lived()
    before = gc.get_freeze_count()
    young = [Node() for _ in range(100)]
    gc.collect(0)
    # No freeze after a young collection: the permanent generation does not grow (it may
    # shrink when reference counting frees frozen objects, as CI once saw: -2).
    assert gc.get_freeze_count() <= before
    assert all(_is_scanned(n) for n in young[:10])


def _is_scanned(obj: object) -> bool:
    """True when the collector still scans ``obj`` (it is in generation 0, 1 or 2)."""
    return any(o is obj for o in gc.get_objects())
