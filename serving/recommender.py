"""Choosing what a reader sees, down a chain of sources, so every request gets an answer.

* a reader: their list fused at request time (``newslake.ranking.reader_list``, the
  function the offline evaluation scores) from the co-visitation lists of what they just
  read, hot, trending, their nightly personal list (at the weight the nightly gate earned
  for it) and popular, never an article they read;
* an article page: the live co-visitation list blended with trending
  (``newslake.ranking.blend``, the function the offline evaluation scores), then the
  nightly related list, then the rest of trending and popular, never the article itself;
* trending (topped up from popular) and popular.

Shared lists and version pointers come through a short-lived in-process cache; what it
last read stays as the last-known list when the store is down. Any read that fails
marks the answer ``degraded``; the store failing never fails the request.

Kept free of HTTP: it reads through a RecommendationReader and is tested with a fake one.
"""

from __future__ import annotations

import copy
import logging
import time
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, replace
from typing import Any, Literal, TypeVar, cast

from newslake import ranking
from newslake.settings import Settings, setting_default
from newslake.store import (
    LIVE,
    ScoredItem,
    hot_key,
    popular_key,
    recent_key,
    related_key,
    trending_key,
    user_key,
    weights_key,
)
from serving.cache import TtlCache
from serving.reader import RecommendationReader, StoreUnavailableError

logger = logging.getLogger(__name__)

Source = Literal["personal", "covisited", "related", "hot", "trending", "popular", "editorial"]
"""Where an item came from: ``covisited`` is the live co-visitation list, ``related``
the nightly model's related list, ``editorial`` a newsroom's promotion (serving/editorial.py)."""

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
_Items = tuple[ScoredItem, ...]
# Components passes the configured values; these serve a Recommender built alone.
CACHE_TTL_S: float = setting_default("serving_cache_ttl_s")
CACHE_MAX_ENTRIES: int = setting_default("serving_cache_max_entries")


@dataclass(frozen=True)
class Recommendation:
    article_id: str
    score: float
    source: Source


@dataclass(frozen=True)
class Answer:
    """One list for one request; ``degraded`` says some source could not be read."""

    model_version: str | None
    items: tuple[Recommendation, ...]
    degraded: bool = False


@dataclass(frozen=True)
class HotParams:
    """How the live hot list is made from the session-state consumer's hot counts."""

    bucket_s: int = setting_default("hot_bucket_s")
    half_life_s: float = setting_default("live_hot_half_life_s")
    keep_s: int = setting_default("live_hot_keep_s")
    top_n: int = setting_default("top_n")

    @classmethod
    def from_settings(cls, s: Settings) -> HotParams:
        return cls(s.hot_bucket_s, s.live_hot_half_life_s, s.live_hot_keep_s, s.top_n)


class _Picker:
    """Collects up to ``limit`` items across sources, each article once, some left out."""

    def __init__(self, limit: int, leave_out: Iterable[str] = ()) -> None:
        self._limit = limit
        self._seen = set(leave_out)
        self.items: list[Recommendation] = []

    @property
    def full(self) -> bool:
        return len(self.items) >= self._limit

    def add(self, items: Iterable[ScoredItem], source: Source) -> None:
        for item in items:
            if self.full:
                return
            if item.article_id not in self._seen:
                self._seen.add(item.article_id)
                self.items.append(Recommendation(item.article_id, item.score, source))


def _blended(
    live: Iterable[ScoredItem], trending: Iterable[ScoredItem], article_id: str, limit: int
) -> list[ScoredItem]:
    """The article page's blend of the two live lists; each item keeps its own list's score
    (the co-visitation score if it has one), so answers stay comparable across requests."""
    own = {i.article_id: i for i in trending} | {i.article_id: i for i in live}
    ranked = ranking.blend(
        [(i.article_id, i.score) for i in live],
        [(i.article_id, i.score) for i in trending],
        leave_out=(article_id,),
        params=replace(ranking.ARTICLE_PAGE, limit=limit),
    )
    return [own[article] for article, _ in ranked]


def _pairs(items: Iterable[ScoredItem]) -> list[tuple[str, float]]:
    return [(i.article_id, i.score) for i in items]


class _Request:
    """What one request read; remembers whether any read failed."""

    def __init__(self, what: str) -> None:
        self.what = what
        self.degraded = False

    def failed(self, exc: Exception) -> None:
        if not self.degraded:
            logger.warning("degraded answer for %s: %s", self.what, exc)
        self.degraded = True


class Recommender:
    """The fallback chains above, over a reader, with a cache of shared lists.

    Args:
        reader: the store (usually a GuardedReader over DynamoDB).
        ttl_s: how long pointers and shared lists are served from memory.
        max_entries: cap of the per-article related cache.
        clock: monotonic seconds; tests pass their own.
        reader_params: how the reader's list fuses its sources.
        hot_params: how the live hot list is made from the hot counts.
        lend_minutes: only reads this recent lend their co-visitation lists.
        wall_clock: epoch seconds, to age the reads; tests pass their own.
    """

    def __init__(
        self,
        reader: RecommendationReader,
        *,
        ttl_s: float = CACHE_TTL_S,
        max_entries: int = CACHE_MAX_ENTRIES,
        clock: Callable[[], float] = time.monotonic,
        reader_params: ranking.ReaderParams = ranking.READER,
        hot_params: HotParams | None = None,
        lend_minutes: float = setting_default("reader_lend_minutes"),
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self._reader = reader
        self._reader_params = reader_params
        self._hot_params = hot_params or HotParams()
        self._lend_s = lend_minutes * 60
        self._wall_clock = wall_clock
        # Readers do network IO unless they say otherwise (an in-process reader does not).
        self.blocking: bool = getattr(reader, "blocking", True)
        self._personal_fixed = False  # a variant's own personal weight (with_reader_params)
        self._versions: TtlCache[str, str | None] = TtlCache(ttl_s, clock=clock)
        self._lists: TtlCache[tuple[str, str], _Items] = TtlCache(ttl_s, clock=clock)
        self._related: TtlCache[tuple[str, str, str | None], tuple[_Items, _Items]] = TtlCache(
            ttl_s, max_entries=max_entries, clock=clock
        )

    # ---- the four answers ---------------------------------------------------------------
    def for_user(self, portal: str, user_id: str, limit: int) -> Answer:
        """The reader's list fused now (``newslake.ranking.reader_list``, the function the
        offline evaluation scores) from their recent reads and personal list (one round
        trip), the cached co-visitation lists of their newest reads, trending and popular."""
        request = _Request(f"{portal} reader list")  # privacy: the access line names the reader
        version = self._version(portal, request)
        personal, recent = self._read_personal(portal, user_id, version, request)
        reads = sorted(recent, key=lambda i: (-i.score, i.article_id))  # newest first
        lists = ranking.ReaderLists(
            recent=[i.article_id for i in reads],
            covisited=self._covisited(portal, self._lending_reads(reads), version, request),
            hot=_pairs(self._hot(portal, request)),
            trending=_pairs(self._trending(portal, request)),
            personal=_pairs(personal),
            popular=_pairs(self._popular(portal, version, request)),
        )
        params = replace(
            self._reader_params,
            limit=limit,
            personal=self._personal_weight(portal, version, request),
        )
        picks = ranking.reader_list(lists, params)
        if len(picks) < limit and not lists.hot:  # short (no model yet): hot tops it up
            lists = replace(lists, hot=_pairs(self._hot(portal, request, top_up=True)))
            picks = ranking.reader_list(lists, params)
        items = tuple(Recommendation(p.article, p.score, cast(Source, p.source)) for p in picks)
        return Answer(version, items, request.degraded)

    def related(self, portal: str, article_id: str, limit: int) -> Answer:
        request = _Request(f"{portal} article {article_id}")
        version = self._version(portal, request)
        live, nightly = self._cached(
            self._related,
            (portal, article_id, version),
            lambda: self._read_related(portal, article_id, version),
            request,
            default=((), ()),
        )
        picker = _Picker(limit, leave_out=(article_id,))
        trending = self._trending(portal, request) if live else ()
        for item in _blended(live, trending, article_id, limit):
            picker.add((item,), "covisited" if item in live else "trending")
        picker.add(nightly, "related")
        self._top_up(picker, portal, version, request)
        return Answer(version, tuple(picker.items), request.degraded)

    def trending(self, portal: str, limit: int) -> Answer:
        request = _Request(f"{portal} trending")
        version = self._version(portal, request)
        picker = _Picker(limit)
        self._top_up(picker, portal, version, request)
        return Answer(version, tuple(picker.items), request.degraded)

    def popular(self, portal: str, limit: int) -> Answer:
        request = _Request(f"{portal} popular")
        version = self._version(portal, request)
        picker = _Picker(limit)
        picker.add(self._popular(portal, version, request), "popular")
        return Answer(version, tuple(picker.items), request.degraded)

    # ---- what experiments compare -----------------------------------------------------
    def nightly_for_user(self, portal: str, user_id: str, limit: int) -> Answer:
        """The reader's list as served before it was fused at request time (an
        experiment's ``nightly`` variant): their nightly personal list less their recent
        reads, topped up with trending, then popular."""
        request = _Request(f"{portal} reader list (nightly)")
        version = self._version(portal, request)
        personal, recent = self._read_personal(portal, user_id, version, request)
        picker = _Picker(limit, leave_out=(i.article_id for i in recent))
        picker.add(personal, "personal")
        self._top_up(picker, portal, version, request)
        return Answer(version, tuple(picker.items), request.degraded)

    def with_reader_params(
        self, params: ranking.ReaderParams, *, personal_fixed: bool = False
    ) -> Recommender:
        """This recommender fusing the reader's list with ``params`` (an experiment's
        variant), sharing the store, the caches and the clocks: a variant reads nothing
        more than the default list would. ``personal_fixed``: the variant sets the
        personal lists' weight, which then wins over the weight the gate earned."""
        variant = copy.copy(self)
        variant._reader_params = params
        variant._personal_fixed = personal_fixed
        return variant

    # ---- sources --------------------------------------------------------------------------
    def _top_up(self, picker: _Picker, portal: str, version: str | None, req: _Request) -> None:
        if not picker.full:
            picker.add(self._trending(portal, req), "trending")
        if not picker.full:
            picker.add(self._popular(portal, version, req), "popular")

    def _version(self, portal: str, request: _Request) -> str | None:
        return self._cached(
            self._versions, portal, lambda: self._reader.active_version(portal), request, None
        )

    def _trending(self, portal: str, request: _Request) -> _Items:
        key = (trending_key(portal), LIVE)
        return self._cached(self._lists, key, lambda: self._read(key), request, default=())

    def _hot(self, portal: str, request: _Request, *, top_up: bool = False) -> _Items:
        """The live hot list: read when it has weight or a short list needs topping up
        (it costs a Query, once per cache period)."""
        if self._reader_params.hot <= 0 and not top_up:
            return ()
        key = (hot_key(portal), LIVE)
        return self._cached(self._lists, key, lambda: self._read_hot(portal), request, ())

    def _read_hot(self, portal: str) -> _Items:
        h = self._hot_params
        now = self._wall_clock()
        buckets = self._reader.hot_counts(portal, int(now - h.keep_s) // h.bucket_s * h.bucket_s)
        ranked = ranking.hot_list(
            buckets, as_of=now, bucket_s=h.bucket_s, half_life_s=h.half_life_s, top_n=h.top_n
        )
        return tuple(ScoredItem(article, score) for article, score in ranked)

    def _popular(self, portal: str, version: str | None, request: _Request) -> _Items:
        if version is None:
            return ()
        key = (popular_key(portal), version)
        return self._cached(self._lists, key, lambda: self._read(key), request, default=())

    def _personal_weight(self, portal: str, version: str | None, request: _Request) -> float:
        """The weight the nightly gate earned for the version's personal lists (cached);
        the settings' ``reader_w_personal`` for a version published without one."""
        if version is None or self._personal_fixed:
            return self._reader_params.personal
        key = (weights_key(portal), version)
        earned = self._cached(self._lists, key, lambda: self._read(key), request, default=())
        return next(
            (i.score for i in earned if i.article_id == "personal"), self._reader_params.personal
        )

    def _read_personal(
        self, portal: str, user_id: str, version: str | None, request: _Request
    ) -> tuple[list[ScoredItem], list[ScoredItem]]:
        """The personal list (none without a model) and the recent reads, in one round trip."""
        if version is None and request.degraded:
            return [], []  # the store has just failed us; the fallbacks answer
        recent = (recent_key(portal, user_id), LIVE)
        personal = (user_key(portal, user_id), version) if version is not None else None
        try:
            found = self._reader.items_many([recent] if personal is None else [recent, personal])
        except StoreUnavailableError as exc:
            request.failed(exc)
            return [], []
        return (found.get(personal, []) if personal else []), found.get(recent, [])

    def _read(self, key: tuple[str, str]) -> _Items:
        return tuple(self._reader.items(*key) or ())

    def _read_related(
        self, portal: str, article_id: str, version: str | None
    ) -> tuple[_Items, _Items]:
        pk = related_key(portal, article_id)
        keys = [(pk, LIVE)] + ([(pk, version)] if version is not None else [])
        found = self._reader.items_many(keys)
        nightly = found.get((pk, version), []) if version is not None else []
        return tuple(found.get((pk, LIVE), ())), tuple(nightly)

    def _lending_reads(self, reads: list[ScoredItem]) -> list[str]:
        """The newest reads whose co-visitation lists the reader's list uses: at most
        ``last_reads``, none older than ``lend_minutes`` (the score is the read time)."""
        since = self._wall_clock() - self._lend_s
        fresh = [i.article_id for i in reads if i.score >= since]
        return fresh[: self._reader_params.last_reads]

    def _covisited(
        self, portal: str, articles: list[str], version: str | None, request: _Request
    ) -> dict[str, list[tuple[str, float]]]:
        """The live co-visitation lists of ``articles`` from the related cache; those not
        cached are read in one round trip."""
        if not articles:
            return {}
        keys = [(portal, article, version) for article in articles]

        def load(missing: list[tuple[str, str, str | None]]) -> dict[Any, tuple[_Items, _Items]]:
            return self._read_related_many(portal, [a for _, a, _ in missing], version)

        found, degraded = self._related.get_many(keys, load, missing=((), ()))
        if degraded:
            request.failed(StoreUnavailableError("co-visitation lists of recent reads"))
        return {a: _pairs(found[(p, a, v)][0]) for p, a, v in keys if (p, a, v) in found}

    def _read_related_many(
        self, portal: str, articles: list[str], version: str | None
    ) -> dict[tuple[str, str, str | None], tuple[_Items, _Items]]:
        sks = [LIVE] + ([version] if version is not None else [])
        found = self._reader.items_many(
            [(related_key(portal, a), sk) for a in articles for sk in sks]
        )
        return {
            (portal, a, version): (
                tuple(found.get((related_key(portal, a), LIVE), ())),
                tuple(found.get((related_key(portal, a), version), ())) if version else (),
            )
            for a in articles
        }

    @staticmethod
    def _cached(
        cache: TtlCache[K, V], key: K, load: Callable[[], V], request: _Request, default: V
    ) -> V:
        try:
            value, stale = cache.get(key, load)
        except StoreUnavailableError as exc:
            request.failed(exc)
            return default
        if stale:
            request.failed(StoreUnavailableError("served a last-known value from memory"))
        return value
