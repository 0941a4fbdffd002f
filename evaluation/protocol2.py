"""Protocol 2: session next click on G1, hour by hour (Moreira et al., RecSys 2021).

* Hour h is the hourly file a session started in; its start is the earliest session
  start in the file. The **strict** variant learns only from the sessions of earlier
  hours, whole (their clicks after the hour's start included, as a model trained on the
  earlier hourly files would), with its windows ending at the hour's start. The **online**
  variant knows what the live system knows when it answers: every click made before the
  prediction (other sessions of the same hour included, later clicks of earlier sessions
  not), each list as fresh as the streaming job would have it (related lists refreshed
  every ``covisit_refresh_ms``, trending every ``trending_refresh_ms``).
* Each hour's sessions are split 50:50 into validation and test with a fixed seed, and the
  targets are chosen in them (``evaluation.targets``).
* Sessions are capped at their first 20 clicks (``evaluation.data``). Every model ranks
  over all articles and never shows an article already in the session (the engine
  removes any it returns; for arrivals, also the reader's recent reads).
* NDCG@k and HR@k (k: ``Config.k``, 20 as in the paper) are averaged within each hour,
  then over hours.

The models evaluated are functions of the prefix and of the lists the streaming job would
have published (:class:`Context`); ``newslake`` is the article page as served
(``newslake.ranking.blend``).
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal, NamedTuple

import numpy as np

from evaluation import metrics
from evaluation.data import Sessions
from evaluation.history import ReaderClicks, ReadQueries, ReadsShape
from evaluation.nightly import Nightly, NightlyParams
from evaluation.signals import Covisitation, HotShape, Ranked, Views, text_order
from evaluation.targets import Queries
from evaluation.vsknn import VSkNN, VSkNNParams
from newslake.ranking import (
    ARTICLE_PAGE,
    PAIR_WEIGHTS,
    READER,
    ArticlePageParams,
    PairWeights,
    ReaderParams,
    blend,
)
from newslake.settings import Settings, setting_default

Mode = Literal["strict", "online"]
MINUTE, HOUR = 60_000, 3_600_000


@dataclass(frozen=True)
class Config:
    """The lists' windows, lengths and refresh periods; :meth:`from_settings` takes them
    from what the streaming job is configured with, so the lists scored are the lists
    served. The defaults are those settings' defaults, except the related lists' refresh
    (5 minutes here; :meth:`from_settings` takes ``related_refresh_s``). Trending is
    refreshed every minute here (the streaming job: every micro-batch)."""

    seed: int = 2021
    k: int = metrics.K
    covisit_window_ms: int = setting_default("covisit_window_hours") * HOUR
    covisit_refresh_ms: int = 5 * MINUTE
    list_length: int = setting_default("top_n")
    trending_window_ms: int = setting_default("trending_window_minutes") * MINUTE
    trending_refresh_ms: int = MINUTE
    popular_window_ms: int = setting_default("popular_window_hours") * HOUR
    blend: ArticlePageParams = ARTICLE_PAGE
    pairs: PairWeights = PAIR_WEIGHTS
    vsknn: VSkNNParams = field(default_factory=VSkNNParams)
    hot: HotShape = field(default_factory=HotShape)
    hot_refresh_ms: int = int(setting_default("serving_cache_ttl_s") * 1000)
    reads: ReadsShape = field(default_factory=ReadsShape)
    reader: ReaderParams = READER
    lend_ms: int = int(setting_default("reader_lend_minutes") * MINUTE)
    nightly: NightlyParams = field(default_factory=NightlyParams)

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: Any) -> Config:
        """covisit_window_hours, related_refresh_s, top_n, trending_window_minutes,
        popular_window_hours, the live hot list's, the recent reads' and the reader's
        list's settings, and how long serving caches a shared list; ``overrides`` win."""
        values: dict[str, Any] = {
            "covisit_window_ms": settings.covisit_window_hours * HOUR,
            "covisit_refresh_ms": settings.related_refresh_s * 1000,
            "list_length": settings.top_n,
            "trending_window_ms": settings.trending_window_minutes * MINUTE,
            "popular_window_ms": settings.popular_window_hours * HOUR,
            "hot": HotShape.from_settings(settings),
            "hot_refresh_ms": max(1, int(settings.serving_cache_ttl_s * 1000)),
            "reads": ReadsShape.from_settings(settings),
            "reader": ReaderParams.from_settings(settings, limit=cls.k),
            "lend_ms": int(settings.reader_lend_minutes * MINUTE),
            "nightly": NightlyParams.from_settings(settings),
        }
        return cls(**{**values, **overrides})


class Context:
    """What a model may know for one prediction: the lists at the right moment and, when
    the sweep replays readers, the reader's recent reads and nightly lists."""

    def __init__(self, engine: Engine) -> None:
        self._e = engine
        self.session = self.user = self.at = 0
        self.hour: int | None = None  # strict: the hour predicted (lists of earlier hours)
        self.at_related = self.at_trending = self.at_popular = 0
        self.related: dict[int, Ranked] = {}
        self.recent: list[int] = []  # the reader's reads, newest first (reader sweeps)
        self.read_at: list[int] = []  # when each was read

    def covisited(self, article: int) -> Ranked:
        return self.related.get(article, [])

    def hot(self) -> Ranked:
        """The live hot list as serving reads it (refreshed every ``hot_refresh_ms``)."""
        config = self._e.config
        return self._e.hot(self.at - self.at % config.hot_refresh_ms, self.hour)

    def nightly(self, kind: str) -> Ranked:
        """The reader's list of ``kind`` (``evaluation.nightly.KINDS``) published by the last
        nightly run before this moment; empty without one."""
        nightly = self._e.nightly
        return nightly.ranked(kind, self.user, self.at) if nightly is not None else []

    def trending(self, window_ms: int | None = None) -> Ranked:
        window = window_ms or self._e.config.trending_window_ms
        return self._e.most_viewed(self.at_trending, window, self.hour)

    def popular(self) -> Ranked:
        return self._e.most_viewed(self.at_popular, self._e.config.popular_window_ms, self.hour)

    @property
    def vsknn(self) -> VSkNN:
        return self._e.vsknn


Model = Callable[[Sequence[int], Context], Sequence[int]]


def top_up(items: list[int], more: Ranked, k: int) -> list[int]:
    seen = set(items)
    for article, _ in more:
        if len(items) >= k:
            break
        if article not in seen:
            seen.add(article)
            items.append(article)
    return items


def models(config: Config) -> dict[str, Model]:
    """The models every run reports. Each list is topped up from popular (last 24 h), as
    serving tops every answer up; the engine then leaves out the session's articles."""

    def room(prefix: Sequence[int]) -> int:
        return config.k + len(prefix)  # the session's own articles are taken out after

    def newslake(prefix: Sequence[int], ctx: Context) -> list[int]:
        # serving.recommender.Recommender.related: the same function on the same lists,
        # then (no nightly list in this protocol) the rest of trending, then popular.
        trending = ctx.trending()
        ranked = blend(ctx.covisited(prefix[-1]), trending, leave_out=prefix, params=config.blend)
        k = room(prefix)
        return top_up(top_up([a for a, _ in ranked], trending, k), ctx.popular(), k)

    def covisited_then_trending(prefix: Sequence[int], ctx: Context) -> list[int]:
        items = [a for a, _ in ctx.covisited(prefix[-1])]
        k = room(prefix)
        return top_up(top_up(items, ctx.trending(), k), ctx.popular(), k)

    def trending(prefix: Sequence[int], ctx: Context) -> list[int]:
        return top_up([a for a, _ in ctx.trending()], ctx.popular(), room(prefix))

    def previous_hour(prefix: Sequence[int], ctx: Context) -> list[int]:
        return top_up([a for a, _ in ctx.trending(HOUR)], ctx.popular(), room(prefix))

    def vsknn(prefix: Sequence[int], ctx: Context) -> list[int]:
        items = ctx.vsknn.recommend(prefix, config.k, session=ctx.session)
        return top_up(items, ctx.popular(), room(prefix))

    return {
        "newslake": newslake,
        "covisited_then_trending": covisited_then_trending,
        "trending": trending,
        "most_clicked_previous_hour": previous_hour,
        "vsknn": vsknn,
    }


@dataclass
class SweepResult:
    """Per model, the target's rank (0: not in the list) and the top-k shown, per query."""

    hour: np.ndarray
    last: np.ndarray  # the query is the session's last click
    ranks: dict[str, np.ndarray]
    shown: dict[str, np.ndarray]  # (queries, k) article ids, -1 padded (last clicks only)
    targets: np.ndarray
    seconds: float
    k: int  # the lists' length (Config.k): what the metrics are "at"


class _Query(NamedTuple):
    """One prediction in plain Python values."""

    place: int  # in the timeline, and so in SweepResult's arrays
    session: int
    user: int
    prefix: list[int]  # the clicks before the target
    target: int
    at: int
    trending_at: int
    popular_at: int
    shown_row: int  # its row in SweepResult.shown; -1: not the session's last click


@dataclass(frozen=True)
class _Timeline:
    """The queries in the order they are answered (by time, ties in query order), each
    with the moment every list it reads was last refreshed: in strict the hour's start, as
    the lists are frozen there; online the streaming job's last refresh before it."""

    session: np.ndarray
    user: np.ndarray
    position: np.ndarray
    start: np.ndarray  # the session's first click in Sessions.item
    target: np.ndarray
    last: np.ndarray
    shown_row: np.ndarray
    at: np.ndarray
    related_at: np.ndarray
    trending_at: np.ndarray
    popular_at: np.ndarray

    def refresh_groups(self) -> Iterator[tuple[int, int]]:
        """``(first, end)`` of each run of queries that read the same related lists."""
        moments = self.related_at
        bounds = np.flatnonzero(np.r_[True, moments[1:] != moments[:-1], True])
        return itertools.pairwise(bounds.tolist())

    def queries(self, first: int, end: int, items: list[int]) -> Iterator[_Query]:
        """Queries ``first .. end - 1``; ``items`` is ``Sessions.item`` as a list (indexing
        Python lists per query is several times cheaper than indexing numpy arrays)."""
        columns = [self.session, self.user, self.start, self.position, self.target]
        columns += [self.at, self.trending_at, self.popular_at, self.shown_row]
        rows = zip(*(column[first:end].tolist() for column in columns), strict=True)
        for place, row in enumerate(rows, first):
            session, user, start, position, target, at, trending_at, popular_at, shown = row
            prefix = items[start : start + position]
            yield _Query(place, session, user, prefix, target, at, trending_at, popular_at, shown)


class _ClickFeed:
    """Hands V-SkNN the clicks in replay order, up to the moment of each prediction."""

    def __init__(self, vsknn: VSkNN, key: list[int], owner: list[int], item: list[int]) -> None:
        self._vsknn = vsknn
        self._key, self._owner, self._item = key, owner, item
        self._next = 0

    def feed_until(self, moment: int) -> None:
        """Adds every click whose key (a time, or a session hour) is before ``moment``."""
        key, i = self._key, self._next
        while i < len(key) and key[i] < moment:
            self._vsknn.add(self._owner[i], self._item[i])
            i += 1
        self._next = i


class _Scores:
    """Each model's rank of the target per query and, for last clicks, the list it showed."""

    def __init__(
        self, models: Iterable[str], queries: int, last_clicks: int, k: int, *, reads: bool
    ) -> None:
        self.k = k
        self.ranks = {name: np.zeros(queries, dtype=np.int32) for name in models}
        self.shown = {name: np.full((last_clicks, k), -1, dtype=np.int64) for name in models}
        self.reads = reads

    def record(self, query: _Query, chosen: dict[str, Model], ctx: Context) -> None:
        """Asks every model; the session's own articles (with ``reads``, the reader's recent
        reads) are left out, whatever it returns."""
        read = set(query.prefix)
        if self.reads:
            read.update(ctx.recent)
        for name, model in chosen.items():
            kept = [x for x in model(query.prefix, ctx) if x not in read][: self.k]
            self.ranks[name][query.place] = metrics.target_rank(kept, query.target)
            if query.shown_row >= 0:
                self.shown[name][query.shown_row, : len(kept)] = kept


class Engine:
    """Replays the clicks in time order and answers queries at their moment."""

    def __init__(
        self, sessions: Sessions, config: Config = Config(), nightly: Nightly | None = None
    ) -> None:
        self.sessions = sessions
        self.config = config
        self.nightly = nightly
        tie = text_order(sessions.item)
        self.covisitation = Covisitation.of(sessions, tie, config.pairs)
        self.views = Views.of(sessions, tie)
        self.hour_start = sessions.hour_starts()
        self.vsknn = VSkNN(config.vsknn)
        self._owner = np.repeat(np.arange(len(sessions)), sessions.lengths)[
            np.argsort(sessions.ts, kind="stable")
        ]
        self._cache: dict[tuple[int, int, int | None], Ranked] = {}
        # Strict replays the clicks session hour by session hour (later clicks included).
        self._strict_order = np.lexsort((self.views.ts, self.views.hour))

    @cached_property
    def readers(self) -> ReaderClicks:
        """The clicks by reader (built on the first sweep that replays readers)."""
        return ReaderClicks(self.sessions)

    def most_viewed(self, at: int, window: int, hour: int | None = None) -> Ranked:
        key = (at, window, hour)
        found = self._cache.get(key)
        if found is None:
            if len(self._cache) > 4096:
                self._cache.clear()
            found = self._cache[key] = self.views.most_viewed(
                at, window, self.config.list_length, hour
            )
        return found

    def hot(self, at: int, hour: int | None = None) -> Ranked:
        key = (at, -1, hour)  # window -1: the hot list's entries in the same cache
        found = self._cache.get(key)
        if found is None:
            if len(self._cache) > 4096:
                self._cache.clear()
            found = self._cache[key] = self.views.hot(
                at, self.config.hot, self.config.list_length, hour
            )
        return found

    def query_times(self, queries: Queries, mode: Mode) -> np.ndarray:
        """Strict: the hour's start. Online: the last click before the target, or the
        target's own time for a session's first click (an arrival)."""
        s = self.sessions
        if mode == "strict":
            starts = np.array([self.hour_start[int(h)] for h in s.hour[queries.session]])
            return starts.astype(np.int64)
        start = s.offsets[queries.session]
        return s.ts[start + np.maximum(queries.position - 1, 0)]

    def sweep(
        self,
        queries: Queries,
        mode: Mode,
        chosen: dict[str, Model],
        *,
        vsknn: bool = True,
        related_depth: int = 1,
        reads: int = 0,
        leave_out_reads: bool = False,
    ) -> SweepResult:
        """Every model's answer to every query, with the state of its moment.

        Args:
            queries: what to predict.
            mode: strict or online (module docstring).
            chosen: the models, by name.
            vsknn: replay the clicks into V-SkNN (only needed when a model uses it).
            related_depth: how many of the session's latest articles need their
                co-visitation lists (1: the article being read).
            reads: how many of the reader's newest reads need their co-visitation lists;
                above 0, each query's recent reads are found (``evaluation.history``) and
                handed to the models as ``Context.recent``.
            leave_out_reads: leave the reader's recent reads out of every model's list
                (arrivals), not only the session's articles.
        """
        started = time.monotonic()
        self.vsknn = VSkNN(self.config.vsknn)
        timeline = self._timeline(queries, mode)
        recent = self._recent_reads(timeline, mode) if reads or leave_out_reads else None
        clicks = self._click_feed(mode) if vsknn else None
        last_clicks = int(timeline.last.sum())
        k = self.config.k
        scores = _Scores(chosen, len(timeline.at), last_clicks, k, reads=leave_out_reads)
        items = self.sessions.item.tolist()
        ctx = Context(self)
        depth = (related_depth, reads)
        for first, end in timeline.refresh_groups():
            ctx.hour, ctx.related = self._related_lists(timeline, first, end, mode, depth, recent)
            for query in timeline.queries(first, end, items):
                if clicks is not None:
                    clicks.feed_until(query.at if ctx.hour is None else ctx.hour)
                ctx.session, ctx.user, ctx.at = query.session, query.user, query.at
                ctx.at_trending, ctx.at_popular = query.trending_at, query.popular_at
                known = recent[query.place] if recent is not None else []
                ctx.recent, ctx.read_at = [a for a, _ in known], [t for _, t in known]
                scores.record(query, chosen, ctx)
        return SweepResult(
            hour=self.sessions.hour[timeline.session],
            last=timeline.last,
            ranks=scores.ranks,
            shown=scores.shown,
            targets=timeline.target,
            seconds=time.monotonic() - started,
            k=self.config.k,
        )

    def _timeline(self, queries: Queries, mode: Mode) -> _Timeline:
        """The queries by the moment they are answered, and the moments of their lists."""
        s, config = self.sessions, self.config
        at = self.query_times(queries, mode)
        order = np.argsort(at, kind="stable")
        at = at[order]
        session, position = queries.session[order], queries.position[order]

        def refreshed(period: int) -> np.ndarray:
            return at if mode == "strict" else at - at % period

        start = s.offsets[session]
        last = position == s.lengths[session] - 1
        return _Timeline(
            session=session,
            user=s.user[session],
            position=position,
            start=start,
            target=s.item[start + position],
            last=last,
            shown_row=np.where(last, np.cumsum(last) - 1, -1),
            at=at,
            related_at=refreshed(config.covisit_refresh_ms),
            trending_at=refreshed(config.trending_refresh_ms),
            popular_at=refreshed(HOUR),
        )

    def _click_feed(self, mode: Mode) -> _ClickFeed:
        """Strict feeds by session hour (every click of each earlier hour's sessions),
        online by time (every click before the prediction)."""
        if mode == "strict":
            order = self._strict_order
            key = self.views.hour[order].tolist()
        else:
            order = np.arange(len(self.views.ts))
            key = self.views.ts.tolist()
        return _ClickFeed(
            self.vsknn, key, self._owner[order].tolist(), self.views.item[order].tolist()
        )

    def _recent_reads(self, timeline: _Timeline, mode: Mode) -> list[list[tuple[int, int]]]:
        """Each query's recent reads (article, time), newest first, in timeline order."""
        queries = ReadQueries(timeline.session, timeline.position, timeline.at)
        found = self.readers.recent(queries, self.config.reads, strict=mode == "strict")
        return list(found)

    def _related_lists(
        self,
        timeline: _Timeline,
        first: int,
        end: int,
        mode: Mode,
        depth: tuple[int, int],
        recent: list[list[tuple[int, int]]] | None,
    ) -> tuple[int | None, dict[int, Ranked]]:
        """The hour predicted (strict; None online) and the co-visitation lists of the
        articles that queries ``first .. end - 1`` read last (``depth``: how far back in
        the session, and among the reader's recent reads), as refreshed at the moment they
        share."""
        s, config = self.sessions, self.config
        position = timeline.position[first:end]
        ends = timeline.start[first:end] + position
        read = [s.item[ends - back][position >= back] for back in range(1, depth[0] + 1)]
        if recent is not None and depth[1]:
            newest = [a for reads in recent[first:end] for a, _ in reads[: depth[1]]]
            read.append(np.array(newest, dtype=np.int64))
        sources = np.unique(np.concatenate(read))
        at = int(timeline.related_at[first])
        window, length = config.covisit_window_ms, config.list_length
        if mode == "online":
            return None, self.covisitation.lists(at, window, length, sources)
        hour = int(s.hour[timeline.session[first]])
        return hour, self.covisitation.lists_of_earlier_hours(at, window, length, sources, hour)


def summarise(result: SweepResult, *, last_only: bool) -> dict[str, dict[str, object]]:
    """Per model: NDCG@k and HR@k over hours (k: the sweep's ``Config.k``), the hourly
    figures, and how many predictions."""
    keep = result.last if last_only else np.ones(len(result.last), dtype=bool)
    hours = result.hour[keep]
    k = result.k
    out: dict[str, dict[str, object]] = {}
    for name, ranks in result.ranks.items():
        r = ranks[keep]
        ndcg = metrics.per_hour(hours, metrics.ndcg_array(r, k))
        hr = metrics.per_hour(hours, metrics.hit_array(r, k))
        out[name] = {
            f"ndcg_at_{k}": round(metrics.over_hours(ndcg), 4),
            f"hr_at_{k}": round(metrics.over_hours(hr), 4),
            "predictions": int(keep.sum()),
            "hours": len(ndcg),
            "per_hour": {h: [round(ndcg[h], 4), round(hr[h], 4)] for h in ndcg},
        }
    return out


def exposure(result: SweepResult, clicks: np.ndarray) -> dict[str, dict[str, float]]:
    """Per model, over its last-click lists: coverage (distinct articles shown / distinct
    articles clicked as targets) and popularity bias (mean clicks of the articles shown /
    mean clicks of the articles clicked next; 1 is as popular as what readers click).

    Args:
        result: a sweep.
        clicks: clicks per article id over the evaluated hours.
    """
    targets = result.targets[result.last]
    clicked = np.unique(targets)
    target_pop = float(clicks[targets].mean()) if len(targets) else 0.0
    out: dict[str, dict[str, float]] = {}
    for name, shown in result.shown.items():
        flat = shown[shown >= 0]
        out[name] = {
            "coverage": round(len(np.unique(flat)) / len(clicked), 4) if len(clicked) else 0.0,
            "popularity_bias": round(float(clicks[flat].mean()) / target_pop, 3)
            if len(flat) and target_pop
            else 0.0,
        }
    return out
