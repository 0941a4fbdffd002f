"""Readers asking for their lists while a fault is injected: each answer kept with the
phase of the fault its request began in, for the counts (5xx, degraded) per phase."""

from __future__ import annotations

import threading
import time
from collections import Counter
from typing import Any


class ReaderLoad:
    """One thread per reader asking ``url`` (``{user}`` in it) until the ``with`` ends.

    Args:
        client: an HTTP client of the service (``get(url, headers=...)``), e.g. a TestClient.
        url: the reader's route, with ``{user}`` for the reader's id.
        headers: each reader's request headers (their token), by reader id.
    """

    def __init__(self, client: Any, url: str, headers: dict[str, dict[str, str]]) -> None:
        self.client, self.url, self.headers = client, url, headers
        self.phase = "before"
        self.answers: list[tuple[str, int, bool | None]] = []
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._ask, args=(u,)) for u in headers]

    def _ask(self, user: str) -> None:
        while not self._stop.is_set():
            phase = self.phase
            response = self.client.get(self.url.format(user=user), headers=self.headers[user])
            degraded = response.json().get("degraded") if response.status_code == 200 else None
            self.answers.append((phase, response.status_code, degraded))

    def statuses(self, phase: str | None = None) -> Counter[int]:
        return Counter(s for p, s, _ in self.answers if phase in (None, p))

    def degraded(self, phase: str) -> Counter[bool | None]:
        return Counter(d for p, _, d in self.answers if p == phase)

    def __enter__(self) -> ReaderLoad:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join()


def stop_the_store(
    load: ReaderLoad, proxy: Any, outage_s: float, settle_s: float, calm_s: float = 1.0
) -> None:
    """The store's outage under ``load``, phase by phase: ``before`` (``calm_s``), ``down``
    (``outage_s``: ``proxy`` drops every connection to the store), ``recovering``
    (``settle_s``: the store answers again, the service may not know yet), ``after``
    (``calm_s``)."""
    time.sleep(calm_s)
    load.phase = "down"
    proxy.cut()
    time.sleep(outage_s)
    proxy.restore()
    load.phase = "recovering"
    time.sleep(settle_s)
    load.phase = "after"
    time.sleep(calm_s)
