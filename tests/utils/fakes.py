"""Stand-ins where a test injects faults or needs no AWS: the store reader in memory."""

from __future__ import annotations

from collections.abc import Sequence

from newslake.store import ScoredItem
from serving.reader import StoreUnavailableError


class FakeReader:
    """RecommendationReader over dicts; ``fail = True`` makes it act like DynamoDB down.

    ``calls`` counts the reads, one per round trip, to check what the caches save.
    """

    def __init__(self) -> None:
        self.versions: dict[str, str] = {}
        self.records: dict[tuple[str, str], list[ScoredItem]] = {}
        self.hot: dict[str, dict[int, dict[str, int]]] = {}  # portal -> bucket start -> counts
        self.fail = False
        self.calls = 0

    def active_version(self, portal: str) -> str | None:
        self._read()
        return self.versions.get(portal)

    def items(self, pk: str, sk: str) -> list[ScoredItem] | None:
        self._read()
        return self.records.get((pk, sk))

    def items_many(
        self, keys: Sequence[tuple[str, str]]
    ) -> dict[tuple[str, str], list[ScoredItem]]:
        self._read()
        return {key: self.records[key] for key in keys if key in self.records}

    def hot_counts(self, portal: str, since_s: int) -> dict[int, dict[str, int]]:
        self._read()
        buckets = self.hot.get(portal, {})
        return {start: dict(counts) for start, counts in buckets.items() if start >= since_s}

    def _read(self) -> None:
        self.calls += 1
        if self.fail:
            raise StoreUnavailableError("fake store is down")
