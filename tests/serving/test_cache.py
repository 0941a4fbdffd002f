"""TtlCache: fresh values, one reload when stale, last-known values in an outage."""

from __future__ import annotations

import pytest

from serving.cache import TtlCache
from serving.reader import StoreUnavailableError


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Loader:
    """Returns the values in turn; an exception in the list is raised instead."""

    def __init__(self, *results: object) -> None:
        self.results = list(results)
        self.calls = 0

    def __call__(self) -> object:
        result = self.results[self.calls]
        self.calls += 1
        if isinstance(result, Exception):
            raise result
        return result


def test_value_is_loaded_once_within_the_ttl() -> None:
    clock, load = FakeClock(), Loader("v1", "v2")
    cache: TtlCache[str, object] = TtlCache(5.0, clock=clock)

    first = cache.get("k", load)
    clock.now += 4.9
    second = cache.get("k", load)

    assert (first, second, load.calls) == (("v1", False), ("v1", False), 1)


def test_stale_value_is_reloaded() -> None:
    clock, load = FakeClock(), Loader("v1", "v2")
    cache: TtlCache[str, object] = TtlCache(5.0, clock=clock)
    cache.get("k", load)
    clock.now += 5.0

    assert cache.get("k", load) == ("v2", False)


def test_failed_reload_serves_the_last_known_value_marked() -> None:
    clock, load = FakeClock(), Loader("v1", StoreUnavailableError("down"), "v3")
    cache: TtlCache[str, object] = TtlCache(5.0, clock=clock)
    cache.get("k", load)
    clock.now += 6.0

    in_outage = cache.get("k", load)
    clock.now += 1.0
    just_after = cache.get("k", load)  # the failed reload counts as a load: no retry yet

    assert (in_outage, just_after, load.calls) == (("v1", True), ("v1", False), 2)


def test_failed_first_load_raises() -> None:
    cache: TtlCache[str, object] = TtlCache(5.0)

    with pytest.raises(StoreUnavailableError):
        cache.get("k", Loader(StoreUnavailableError("down")))


def test_missing_records_are_cached_too() -> None:
    load = Loader(None, "late")
    cache: TtlCache[str, object] = TtlCache(5.0, clock=FakeClock())
    cache.get("k", load)

    assert (cache.get("k", load), load.calls) == ((None, False), 1)


def test_oldest_entry_goes_past_max_entries() -> None:
    cache: TtlCache[str, object] = TtlCache(5.0, max_entries=2, clock=FakeClock())
    for key in ("a", "b", "c"):
        cache.get(key, Loader(key))
    reload_a = Loader("a2")

    assert (len(cache), cache.get("a", reload_a), cache.get("c", Loader("never"))) == (
        2,
        ("a2", False),
        ("c", False),
    )
