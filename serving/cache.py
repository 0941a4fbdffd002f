"""A small in-process cache for what every request shares (version pointers, popular,
trending and related lists): fresh for a few seconds, then reloaded by one caller while
the others keep answering from the previous value, which also stays as the last-known
value when the store is down.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from serving.reader import StoreUnavailableError

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


@dataclass
class _Entry(Generic[V]):
    value: V
    loaded_at: float
    refreshing: bool = False


class TtlCache(Generic[K, V]):
    """Values by key with a time to live, and stale values kept for outages.

    Args:
        ttl_s: how long a loaded value is served without asking the store again.
        max_entries: past this, the least recently loaded entry is dropped.
        clock: monotonic seconds; tests pass their own.
    """

    def __init__(
        self,
        ttl_s: float,
        *,
        max_entries: int = 1024,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ttl_s = ttl_s
        self._max_entries = max_entries
        self._clock = clock
        self._entries: dict[K, _Entry[V]] = {}
        self._lock = threading.Lock()

    def get(self, key: K, load: Callable[[], V]) -> tuple[V, bool]:
        """The value for ``key`` and whether it is a last-known value served in an outage.

        A fresh value is returned as is. A stale one is reloaded by this caller unless
        another is already at it, in which case the stale value is still good enough.
        When the reload fails the stale value is returned with True.

        Raises:
            StoreUnavailableError: the load failed and nothing was ever cached for ``key``.
        """
        now = self._clock()
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                if now - entry.loaded_at < self._ttl_s or entry.refreshing:
                    return entry.value, False
                entry.refreshing = True
        try:
            value = load()  # outside the lock: a slow store must not stall the other keys
        except StoreUnavailableError:
            if entry is None:
                raise
            with self._lock:
                entry.refreshing = False
                entry.loaded_at = now  # try again after one more ttl, not on every request
            return entry.value, True
        except BaseException:
            if entry is not None:
                entry.refreshing = False
            raise
        with self._lock:
            self._store(key, value)
        return value, False

    def get_many(
        self, keys: Sequence[K], load_many: Callable[[list[K]], Mapping[K, V]], missing: V
    ) -> tuple[dict[K, V], bool]:
        """The values of ``keys`` and whether any is a last-known value or absent because
        the store failed; the keys that need loading are loaded in one ``load_many`` call.

        A key ``load_many`` does not answer for is cached as ``missing`` (a record that
        does not exist is cached too, as :meth:`get` does). When the load fails, stale
        values are served and keys never loaded are left out.
        """
        now = self._clock()
        values: dict[K, V] = {}
        stale: dict[K, _Entry[V]] = {}
        wanted: list[K] = []
        with self._lock:
            for key in dict.fromkeys(keys):
                entry = self._entries.get(key)
                if entry is not None and (now - entry.loaded_at < self._ttl_s or entry.refreshing):
                    values[key] = entry.value
                    continue
                if entry is not None:
                    entry.refreshing = True
                    stale[key] = entry
                wanted.append(key)
        if not wanted:
            return values, False
        try:
            loaded = load_many(wanted)
        except StoreUnavailableError:
            with self._lock:
                for key, entry in stale.items():
                    entry.refreshing = False
                    entry.loaded_at = now
                    values[key] = entry.value
            return values, True
        except BaseException:
            with self._lock:
                for entry in stale.values():
                    entry.refreshing = False
            raise
        with self._lock:
            for key in wanted:
                values[key] = loaded.get(key, missing)
                self._store(key, values[key])
        return values, False

    def _store(self, key: K, value: V) -> None:
        """Keep ``value`` as the newest entry (called with the lock held)."""
        self._entries.pop(key, None)
        self._entries[key] = _Entry(value, self._clock())
        while len(self._entries) > self._max_entries:
            del self._entries[next(iter(self._entries))]

    def __len__(self) -> int:
        return len(self._entries)
