"""TtlCache: fresh values, one reload when stale, last-known values in an outage."""

from __future__ import annotations

import pytest

from serving.cache import TtlCache
from serving.reader import StoreUnavailableError
from tests.utils.clock import FakeClock


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
    clock, load = FakeClock(100.0), Loader("v1", "v2")
    cache: TtlCache[str, object] = TtlCache(5.0, clock=clock)

    first = cache.get("k", load)
    clock.now += 4.9
    second = cache.get("k", load)

    assert (first, second, load.calls) == (("v1", False), ("v1", False), 1)


def test_stale_value_is_reloaded() -> None:
    clock, load = FakeClock(100.0), Loader("v1", "v2")
    cache: TtlCache[str, object] = TtlCache(5.0, clock=clock)
    cache.get("k", load)
    clock.now += 5.0

    assert cache.get("k", load) == ("v2", False)


def test_failed_reload_serves_the_last_known_value_marked() -> None:
    clock, load = FakeClock(100.0), Loader("v1", StoreUnavailableError("down"), "v3")
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
    cache: TtlCache[str, object] = TtlCache(5.0, clock=FakeClock(100.0))
    cache.get("k", load)

    assert (cache.get("k", load), load.calls) == ((None, False), 1)


def test_oldest_entry_goes_past_max_entries() -> None:
    cache: TtlCache[str, object] = TtlCache(5.0, max_entries=2, clock=FakeClock(100.0))
    for key in ("a", "b", "c"):
        cache.get(key, Loader(key))
    reload_a = Loader("a2")

    assert (len(cache), cache.get("a", reload_a), cache.get("c", Loader("never"))) == (
        2,
        ("a2", False),
        ("c", False),
    )


class ManyLoader:
    """Answers each call from a dict of values; records the keys asked; may fail."""

    def __init__(self, values: dict[str, object], *, fail: bool = False) -> None:
        self.values, self.fail = values, fail
        self.asked: list[list[str]] = []

    def __call__(self, keys: list[str]) -> dict[str, object]:
        self.asked.append(keys)
        if self.fail:
            raise StoreUnavailableError("down")
        return {k: self.values[k] for k in keys if k in self.values}


def test_get_many_loads_only_what_is_not_fresh_in_one_call() -> None:
    clock = FakeClock(100.0)
    cache: TtlCache[str, object] = TtlCache(5.0, clock=clock)
    cache.get("a", Loader("a1"))
    clock.now += 6.0
    cache.get("b", Loader("b1"))
    load = ManyLoader({"a": "a2", "c": "c1"})

    values, degraded = cache.get_many(["a", "b", "c", "d", "a"], load, missing="none")

    assert load.asked == [["a", "c", "d"]]  # a is stale, b fresh, d absent: cached as missing
    assert (values, degraded) == ({"a": "a2", "b": "b1", "c": "c1", "d": "none"}, False)
    assert cache.get_many(["c", "d"], ManyLoader({}), missing="none") == (
        {"c": "c1", "d": "none"},
        False,
    )


def test_get_many_in_an_outage_serves_stale_values_and_leaves_out_the_never_loaded() -> None:
    clock = FakeClock(100.0)
    cache: TtlCache[str, object] = TtlCache(5.0, clock=clock)
    cache.get("a", Loader("a1"))
    clock.now += 6.0
    down = ManyLoader({}, fail=True)

    assert cache.get_many(["a", "b"], down, missing="none") == ({"a": "a1"}, True)
    clock.now += 1.0  # the failed reload counts as a load for a: only b is asked again
    assert cache.get_many(["a", "b"], down, missing="none") == ({"a": "a1"}, True)
    assert down.asked == [["a", "b"], ["b"]]
