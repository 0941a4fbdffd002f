"""The service as ``make bench-serve`` runs it, and the data it is benchmarked on.

The driver (``benchmarks.bench_serve``) writes ``records()`` to the local DynamoDB and
starts uvicorn with one of two app factories:

* ``store_app``: the service as deployed, reading DynamoDB (moto) with its caches;
* ``memory_app``: the same app over ``MemoryReader``, the same records held in process,
  so no store call happens and what is measured is the service's own overhead (HTTP,
  token checks, fusion, JSON).

Both also answer ``BARE_PATH``: fixed bytes the size of a reader's answer, with no token
check and no store, so the driver can weigh a reader's request against the least a
request costs in the same server.

Both read settings from ``NEWSLAKE_*``; the driver adds the bench portal to the portals.

``controls()`` is the editorial control set the driver writes to the store for a last run,
to weigh what applying the controls costs a reader's request.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Mapping, Sequence

from fastapi import FastAPI, Response

from benchmarks.serve_load import LIMIT
from newslake.editorial import Block, Controls, Promote
from newslake.store import (
    LIVE,
    ScoredItem,
    popular_key,
    recent_key,
    related_key,
    trending_key,
    user_key,
)
from serving.main import create_app
from serving.reader import RecordKey

PORTAL = "bench"  # a portal of its own: the bench never touches the demo's data
VERSION = "bench-v1"
KNOWN_USERS = 1_000
NEW_USERS = 50  # have tokens but no personal list: served trending, then popular
ARTICLES = 5_000
# A portal's reads gather on the articles of the day: readers read from this many, so
# their co-visitation lists are shared through the related cache as they are in service.
READ_POOL = 500
PERSONAL_ITEMS = 20
RECENT_READS = 5
READ_GAP_S = 60  # between a reader's reads, newest at the time the records are built
RELATED_ITEMS = 20
SHARED_ITEMS = 50
SEED = 20261128
BARE_PATH = "/bench/bare"


def known_user(i: int) -> str:
    return f"bench-u{i:04d}"


def new_user(i: int) -> str:
    return f"bench-n{i:03d}"


def article(a: int) -> str:
    return f"bench-a{a:05d}"


def records(seed: int = SEED, *, now: float | None = None) -> dict[RecordKey, list[ScoredItem]]:
    """Every record of the bench portal, by (pk, sk), as the nightly job and the live
    writers would write them: the known readers' personal lists and recent reads (two of
    the reads are on the reader's list, to be left out), a live co-visitation list for
    every article read, trending and popular.

    The reads are timed back from ``now`` (default: the clock), ``READ_GAP_S`` apart, so
    the newest lend their co-visitation lists to the reader's list; everything else is
    drawn from ``seed`` alone, the same at any ``now``.
    """
    rng = random.Random(seed)
    read_at = time.time() if now is None else now

    def articles(n: int, among: int = ARTICLES, leave_out: Sequence[str] = ()) -> list[str]:
        drawn = [article(a) for a in rng.sample(range(among), n + len(leave_out))]
        return [a for a in drawn if a not in leave_out][:n]

    out: dict[RecordKey, list[ScoredItem]] = {}
    read_somewhere: set[str] = set()
    for i in range(KNOWN_USERS):
        user = known_user(i)
        read = articles(RECENT_READS, among=READ_POOL)
        personal = read[:2] + articles(PERSONAL_ITEMS - 2, leave_out=read[:2])
        out[(user_key(PORTAL, user), VERSION)] = [
            ScoredItem(a, round(1.0 - rank / PERSONAL_ITEMS, 4)) for rank, a in enumerate(personal)
        ]
        out[(recent_key(PORTAL, user), LIVE)] = [
            ScoredItem(a, read_at - k * READ_GAP_S) for k, a in enumerate(read)
        ]
        read_somewhere.update(read)
    for a in sorted(read_somewhere):
        out[(related_key(PORTAL, a), LIVE)] = [
            ScoredItem(b, float(RELATED_ITEMS - k))
            for k, b in enumerate(articles(RELATED_ITEMS, leave_out=(a,)))
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


# ---- editorial: the control set whose cost the bench weighs ----
BLOCKED_PER_LIST = 10  # the first articles of trending and of popular, so answers lose some
CONTROLS_BY = "bench"


def controls(held: Mapping[RecordKey, list[ScoredItem]], now: float) -> Controls:
    """20 blocks and 2 promotions on the bench portal, in effect at ``now``: the first
    ``BLOCKED_PER_LIST`` articles of trending and of popular blocked (the lists new readers
    get, and some known readers' answers blend, so those drop some and refill), one
    article no list holds promoted to position 1 and another first in half the answers."""
    blocked: list[str] = []
    for key in ((trending_key(PORTAL), LIVE), (popular_key(PORTAL), VERSION)):
        fresh = [i.article_id for i in held[key] if i.article_id not in blocked]
        blocked += fresh[:BLOCKED_PER_LIST]
    start, end = int(now) - 60, int(now) + 86_400
    return Controls(
        tuple(Block(a, "bench", None, CONTROLS_BY, int(now)) for a in blocked),
        (
            Promote(article(ARTICLES), 1, None, start, end, (), CONTROLS_BY, int(now)),
            Promote(article(ARTICLES + 1), None, 0.5, start, end, (), CONTROLS_BY, int(now)),
        ),
    )


def bare_body(limit: int = LIMIT) -> bytes:
    """A reader's answer of ``limit`` items as the service encodes it (compact JSON), with
    made-up values: what the bare route sends, so both answers cost the same to send."""
    items = [
        {
            "article_id": article(k),
            "score": round(1.0 - k / limit, 6),
            "source": "covisited",
            "position": k + 1,
        }
        for k in range(limit)
    ]
    body = {
        "portal": PORTAL,
        "model_version": VERSION,
        "recommendation_id": "0" * 32,
        "variant": None,
        "items": items,
        "degraded": False,
        "user_id": known_user(0),
    }
    return json.dumps(body, separators=(",", ":")).encode()


def with_bare_route(app: FastAPI) -> FastAPI:
    """``app`` with ``BARE_PATH`` added: fixed bytes behind the same middleware, with no
    token check and no store (the bench's own route, never the service's)."""
    body = bare_body()

    async def bare() -> Response:
        return Response(body, media_type="application/json")

    app.add_api_route(BARE_PATH, bare, methods=["GET"], include_in_schema=False)
    return app


def store_app() -> FastAPI:
    """uvicorn --factory benchmarks.serve_app:store_app"""
    return with_bare_route(create_app())


def memory_app() -> FastAPI:
    """uvicorn --factory benchmarks.serve_app:memory_app"""
    return with_bare_route(create_app(reader=MemoryReader(records(), {PORTAL: VERSION})))
