"""CircuitBreaker and GuardedReader: fail fast while the store is down, probe to recover."""

from __future__ import annotations

from typing import Any

import pytest

from serving.reader import StoreUnavailableError
from serving.resilience import CircuitBreaker, GuardedReader
from tests.utils.clock import FakeClock


def _failing(reader: GuardedReader, times: int) -> None:
    for _ in range(times):
        with pytest.raises(StoreUnavailableError):
            reader.active_version("g1")


def test_circuit_opens_after_failures_in_a_row_and_stops_calling(fake_reader: Any) -> None:
    reader = GuardedReader(fake_reader, CircuitBreaker(3, 2.0, clock=FakeClock()))
    fake_reader.fail = True
    _failing(reader, 3)
    calls = fake_reader.calls

    _failing(reader, 5)

    assert (calls, fake_reader.calls, reader.breaker.is_open) == (3, 3, True)


def test_a_success_resets_the_count(fake_reader: Any) -> None:
    reader = GuardedReader(fake_reader, CircuitBreaker(3, 2.0, clock=FakeClock()))
    fake_reader.fail = True
    _failing(reader, 2)
    fake_reader.fail = False
    reader.active_version("g1")
    fake_reader.fail = True
    _failing(reader, 2)

    assert reader.breaker.is_open is False


def test_after_the_open_time_one_trial_call_goes_through(fake_reader: Any) -> None:
    clock = FakeClock()
    reader = GuardedReader(fake_reader, CircuitBreaker(1, 2.0, clock=clock))
    fake_reader.versions["g1"] = "v2"
    fake_reader.fail = True
    _failing(reader, 1)
    clock.now += 2.0
    fake_reader.fail = False

    assert (reader.active_version("g1"), reader.breaker.is_open) == ("v2", False)


def test_a_failed_trial_keeps_it_open_for_another_period(fake_reader: Any) -> None:
    clock = FakeClock()
    reader = GuardedReader(fake_reader, CircuitBreaker(1, 2.0, clock=clock))
    fake_reader.fail = True
    _failing(reader, 1)
    clock.now += 2.0
    _failing(reader, 1)  # the trial
    calls = fake_reader.calls
    clock.now += 1.0
    _failing(reader, 1)

    assert (calls, fake_reader.calls) == (2, 2)


def test_breaker_needs_at_least_one_failure() -> None:
    with pytest.raises(ValueError, match="failures >= 1"):
        CircuitBreaker(0, 1.0)
