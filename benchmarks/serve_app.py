"""The service as ``make bench-serve`` runs it, and the data it is benchmarked on.

The driver (``benchmarks.bench_serve``) writes ``records()`` to the local DynamoDB and
starts uvicorn with one of two app factories:

* ``store_app``: the service as deployed, reading DynamoDB (moto) with its caches;
* ``memory_app``: the same app over ``MemoryReader``, the same records held in process,
  so no store call happens and what is measured is the service's own overhead (HTTP,
  token checks, fallback logic, JSON).

Both read settings from ``NEWSLAKE_*``; the driver adds the bench portal to the portals.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from fastapi import FastAPI

from newslake.store import LIVE, ScoredItem, popular_key, recent_key, trending_key, user_key
from serving.main import create_app
from serving.reader import RecordKey

PORTAL = "bench"  # a portal of its own: the bench never touches the demo's data
VERSION = "bench-v1"
KNOWN_USERS = 1_000
NEW_USERS = 50  # have tokens but no personal list: served trending, then popular
ARTICLES = 5_000
PERSONAL_ITEMS = 20
RECENT_READS = 5
SHARED_ITEMS = 50
SEED = 20261128


def known_user(i: int) -> str:
    return f"bench-u{i:04d}"


def new_user(i: int) -> str:
    return f"bench-n{i:03d}"


def records(seed: int = SEED) -> dict[RecordKey, list[ScoredItem]]:
    """Every record of the bench portal, by (pk, sk), as the nightly and streaming jobs
    would write them: personal lists and recent reads of the known users (two of each
    reader's recent reads are on their list, to be left out), trending and popular."""
    rng = random.Random(seed)

    def articles(n: int) -> list[str]:
        return [f"bench-a{a:05d}" for a in rng.sample(range(ARTICLES), n)]

    out: dict[RecordKey, list[ScoredItem]] = {}
    for i in range(KNOWN_USERS):
        user = known_user(i)
        personal = articles(PERSONAL_ITEMS)
        out[(user_key(PORTAL, user), VERSION)] = [
            ScoredItem(a, round(1.0 - rank / PERSONAL_ITEMS, 4)) for rank, a in enumerate(personal)
        ]
        read = personal[:2] + articles(RECENT_READS - 2)
        out[(recent_key(PORTAL, user), LIVE)] = [
            ScoredItem(a, 1_795_000_000.0 - k * 60) for k, a in enumerate(read)
        ]
    out[(trending_key(PORTAL), LIVE)] = [
        ScoredItem(a, float(SHARED_ITEMS - k)) for k, a in enumerate(articles(SHARED_ITEMS))
    ]
    out[(popular_key(PORTAL), VERSION)] = [
        ScoredItem(a, float(10 * (SHARED_ITEMS - k))) for k, a in enumerate(articles(SHARED_ITEMS))
    ]
    return out


class MemoryReader:
    """A RecommendationReader over records held in process: answers without any IO."""

    blocking = False

    def __init__(self, held: dict[RecordKey, list[ScoredItem]], versions: dict[str, str]) -> None:
        self._records = held
        self._versions = versions

    def active_version(self, portal: str) -> str | None:
        return self._versions.get(portal)

    def items(self, pk: str, sk: str) -> list[ScoredItem] | None:
        return self._records.get((pk, sk))

    def items_many(self, keys: Sequence[RecordKey]) -> dict[RecordKey, list[ScoredItem]]:
        return {key: self._records[key] for key in keys if key in self._records}

    def hot_counts(self, portal: str, since_s: int) -> dict[int, dict[str, int]]:
        return {}


def store_app() -> FastAPI:
    """uvicorn --factory benchmarks.serve_app:store_app"""
    return create_app()


def memory_app() -> FastAPI:
    """uvicorn --factory benchmarks.serve_app:memory_app"""
    return create_app(reader=MemoryReader(records(), {PORTAL: VERSION}))
