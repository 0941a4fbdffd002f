"""Failing fast while the store is down: a circuit breaker around the store reader.

Timeouts bound one read; the breaker bounds an outage's cost. After a few failures in a
row it stops calling the store for a short while (every request answers at once from
what the process has), then lets one request through to see whether the store is back.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import TypeVar

from newslake.store import ScoredItem
from serving.reader import RecommendationReader, RecordKey, StoreUnavailableError

logger = logging.getLogger(__name__)

T = TypeVar("T")


class CircuitBreaker:
    """Closed, open for ``open_s`` after ``failures`` failures in a row, then half-open.

    Args:
        failures: failures in a row that open the circuit.
        open_s: how long an open circuit refuses calls before one trial call.
        clock: monotonic seconds; tests pass their own.
    """

    def __init__(
        self, failures: int, open_s: float, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if failures < 1:
            raise ValueError("a circuit breaker needs failures >= 1")
        self._threshold = failures
        self._open_s = open_s
        self._clock = clock
        self._failures = 0
        self._open_until: float | None = None
        self._lock = threading.Lock()

    @property
    def is_open(self) -> bool:
        return self._open_until is not None

    def allow(self) -> bool:
        """True when a call may go to the store now."""
        with self._lock:
            if self._open_until is None:
                return True
            now = self._clock()
            if now < self._open_until:
                return False
            # Half-open: this caller is the trial; the others keep failing fast meanwhile.
            self._open_until = now + self._open_s
            return True

    def succeeded(self) -> None:
        with self._lock:
            if self._open_until is not None:
                logger.warning("store reachable again: circuit closed")
            self._failures, self._open_until = 0, None

    def failed(self) -> None:
        with self._lock:
            self._failures += 1
            if self._failures >= self._threshold:
                if self._open_until is None:
                    logger.warning(
                        "store failed %d times in a row: circuit open for %.1f s",
                        self._failures,
                        self._open_s,
                    )
                self._open_until = self._clock() + self._open_s


class GuardedReader:
    """A RecommendationReader that consults the breaker before each read."""

    def __init__(self, reader: RecommendationReader, breaker: CircuitBreaker) -> None:
        self._reader = reader
        self.breaker = breaker
        self.blocking: bool = getattr(reader, "blocking", True)

    def active_version(self, portal: str) -> str | None:
        return self._call(lambda: self._reader.active_version(portal))

    def items(self, pk: str, sk: str) -> list[ScoredItem] | None:
        return self._call(lambda: self._reader.items(pk, sk))

    def items_many(self, keys: Sequence[RecordKey]) -> dict[RecordKey, list[ScoredItem]]:
        return self._call(lambda: self._reader.items_many(keys))

    def hot_counts(self, portal: str, since_s: int) -> dict[int, dict[str, int]]:
        return self._call(lambda: self._reader.hot_counts(portal, since_s))

    def _call(self, read: Callable[[], T]) -> T:
        if not self.breaker.allow():
            raise StoreUnavailableError("store circuit is open after repeated failures")
        try:
            result = read()
        except StoreUnavailableError:
            self.breaker.failed()
            raise
        self.breaker.succeeded()
        return result
