"""Protocol 1: next day per user, the nightly batch's evaluation replayed day by day on G1.

For each UTC day D whose next day lies wholly inside the hours evaluated: the models are
made at the cutoff (midnight ending D) from every click up to it, and each user with at
least one click on day D+1 is scored on the articles they clicked that day (HR, precision,
recall, NDCG and MAP at k, and catalogue coverage). This is ``spark_jobs.evaluation``'s
split (``Split.before(end, 24 h)``) and ``spark_jobs.portal_run.evaluate``'s models, in
plain Python and numpy, so that each test day is a pass over arrays instead of a Spark job
of its own; the metrics are ``spark_jobs.metrics`` itself (plain Python). The models:

* ``most_viewed``: views in the 24 h before the cutoff (``popular_window_hours``);
* ``trending``: views of the last ``trending_window_hours``, each halved every
  ``trending_half_life_minutes`` of age;
* ``hot`` (a blend source, not scored alone): the same views halved every
  ``blend_hot_half_life_minutes``, what is being read in the last minutes;
* ``covisitation``: the nightly ``covisit`` source alone, the co-visitation lists
  (``newslake.ranking.covisitation`` over ``related_window_hours``) of the reader's
  ``blend_last_reads`` latest reads, summed, fresh articles only;
* ``als``: implicit-feedback ALS on the interactions (every visit weighs 1 on G1, no dwell
  or scroll; halved per week of age) with the settings' rank, iterations, regularisation,
  alpha and seed, scored over fresh articles (see :mod:`evaluation.als`);
* ``blend``: ``spark_jobs.blend.fuse``'s reciprocal-rank fusion of hot, trending, most
  viewed, co-visitation and ALS with the settings' ``blend_w_*`` weights (what the nightly
  run uses until a search records others; by default hot alone).

Every list leaves out what the reader read before the cutoff, as the nightly's ``unread``
and ``fuse`` do; a reader a model has nothing for (a new reader, for ALS and
co-visitation) counts with an empty list. Ties are broken by article id as text.
"""

from __future__ import annotations

import heapq
import time
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np

from evaluation import als
from evaluation.data import Sessions
from newslake import ranking
from newslake.settings import Settings, setting_default
from spark_jobs import metrics
from spark_jobs.als import AlsParams

MINUTE, HOUR, DAY = 60_000, 3_600_000, 86_400_000
RRF_K = 10.0  # spark_jobs.blend.RRF_K
MODELS = ("most_viewed", "trending", "covisitation", "als", "blend")
UNCAPPED = 1 << 30  # the nightly batch reads every click of a session
Ranked = list[tuple[int, float]]
BLEND_SOURCES = ("hot", "trending", "covisit", "als", "popular")  # settings' blend_w_<source>


def _default_weights() -> dict[str, float]:
    return {source: setting_default(f"blend_w_{source}") for source in BLEND_SOURCES}


@dataclass(frozen=True)
class Params:
    """The nightly run's windows, lengths and weights (:meth:`from_settings`); each default
    is the default of the setting it comes from."""

    k: int = setting_default("eval_k")
    min_users: int = setting_default("eval_min_users")
    popular_window_ms: int = setting_default("popular_window_hours") * HOUR
    trending_window_ms: int = setting_default("trending_window_hours") * HOUR
    trending_half_life_ms: float = setting_default("trending_half_life_minutes") * MINUTE
    hot_half_life_ms: float = setting_default("blend_hot_half_life_minutes") * MINUTE
    related_window_ms: int = setting_default("related_window_hours") * HOUR
    freshness_ms: int = setting_default("freshness_horizon_hours") * HOUR
    last_reads: int = setting_default("blend_last_reads")
    candidates: int = setting_default("blend_candidates")
    weights: Mapping[str, float] = field(default_factory=_default_weights)
    als: AlsParams = field(default_factory=AlsParams)

    @classmethod
    def from_settings(cls, s: Settings) -> Params:
        return cls(
            k=s.eval_k,
            min_users=s.eval_min_users,
            popular_window_ms=s.popular_window_hours * HOUR,
            trending_window_ms=s.trending_window_hours * HOUR,
            trending_half_life_ms=s.trending_half_life_minutes * MINUTE,
            hot_half_life_ms=s.blend_hot_half_life_minutes * MINUTE,
            related_window_ms=s.related_window_hours * HOUR,
            freshness_ms=s.freshness_horizon_hours * HOUR,
            last_reads=s.blend_last_reads,
            candidates=s.blend_candidates,
            weights={
                "hot": s.blend_w_hot,
                "trending": s.blend_w_trending,
                "covisit": s.blend_w_covisit,
                "als": s.blend_w_als,
                "popular": s.blend_w_popular,
            },
            als=AlsParams(s.als_rank, s.als_max_iter, s.als_reg_param, s.als_alpha, s.als_seed),
        )


@dataclass(frozen=True)
class Clicks:
    """Every click in time order (ties keep the file's order)."""

    user: np.ndarray
    session: np.ndarray
    item: np.ndarray
    ts: np.ndarray

    @classmethod
    def of(cls, sessions: Sessions) -> Clicks:
        owner = np.repeat(np.arange(len(sessions)), sessions.lengths)
        order = np.argsort(sessions.ts, kind="stable")
        return cls(
            sessions.user[owner][order], owner[order], sessions.item[order], sessions.ts[order]
        )

    def until(self, t: int) -> slice:
        """Clicks with time <= t."""
        return slice(0, int(np.searchsorted(self.ts, t, side="right")))

    def between(self, lo: int, hi: int) -> slice:
        """Clicks with lo < time <= hi."""
        return slice(
            int(np.searchsorted(self.ts, lo, side="right")),
            int(np.searchsorted(self.ts, hi, side="right")),
        )


def test_days(first_ms: int, last_ms: int) -> list[int]:
    """Cutoffs (UTC midnights, ms) whose next 24 h lie within ``[first_ms, last_ms]``."""
    start = -(-first_ms // DAY) * DAY  # the first midnight at or after first_ms
    return list(range(start, last_ms - DAY + 1, DAY))


def _top(scores: Mapping[int, float], k: int) -> Ranked:
    """``newslake.ranking.top`` (ties by id as text, as Spark orders string ids), without
    sorting what is not kept."""
    return heapq.nsmallest(k, scores.items(), key=lambda kv: (-kv[1], str(kv[0])))


@dataclass
class Day:
    """What the nightly run knows at one cutoff (``spark_jobs.blend.signals``)."""

    cutoff: int
    reads: dict[int, set[int]]
    fresh: set[int]
    catalogue: set[int]
    most_viewed: Ranked
    trending: Ranked
    hot: Ranked
    related: dict[int, Ranked]
    last_reads: dict[int, list[int]]


def signals(clicks: Clicks, cutoff: int, p: Params, readers: Sequence[int]) -> Day:
    """The lists at ``cutoff`` from the clicks up to it; reads and last reads of
    ``readers`` only (the readers scored)."""
    upto = clicks.until(cutoff)
    items, ts = clicks.item[upto], clicks.ts[upto]
    mine = np.isin(clicks.user[upto], np.asarray(readers, dtype=np.int64))
    reads: dict[int, set[int]] = defaultdict(set)
    latest: dict[int, dict[int, int]] = defaultdict(dict)
    for u, a, t in zip(
        clicks.user[upto][mine].tolist(), items[mine].tolist(), ts[mine].tolist(), strict=True
    ):
        reads[u].add(a)
        latest[u][a] = t  # time order: the last write is the latest read
    last_reads = {
        u: [a for a, _ in sorted(seen.items(), key=lambda at: (-at[1], str(at[0])))[: p.last_reads]]
        for u, seen in latest.items()
    }
    seen_items, first = np.unique(items, return_index=True)  # time order: first = first seen
    first_seen = dict(zip(seen_items.tolist(), ts[first].tolist(), strict=True))
    horizon = cutoff - p.freshness_ms
    recent = clicks.between(horizon, cutoff)
    popular = clicks.between(cutoff - p.popular_window_ms, cutoff)
    trend = clicks.between(cutoff - p.trending_window_ms, cutoff)
    related = clicks.between(cutoff - p.related_window_ms, cutoff)
    return Day(
        cutoff=cutoff,
        reads=dict(reads),
        fresh={a for a, t in first_seen.items() if t > horizon},
        catalogue=set(clicks.item[recent].tolist()),
        most_viewed=_top(_counts(clicks.item[popular]), p.candidates),
        trending=_top(decayed(clicks, trend, cutoff, p.trending_half_life_ms), p.candidates),
        hot=_top(decayed(clicks, trend, cutoff, p.hot_half_life_ms), p.candidates),
        related=ranking.covisitation(
            zip(
                clicks.session[related].tolist(),
                clicks.item[related].tolist(),
                clicks.ts[related].tolist(),
                strict=True,
            ),
            as_of=cutoff,
            window=p.related_window_ms,
            top_k=p.candidates,
        ),
        last_reads=last_reads,
    )


def decayed(clicks: Clicks, window: slice, cutoff: int, half_life_ms: float) -> dict[int, float]:
    """Each article's views in ``window``, each halved every ``half_life_ms`` of age at
    ``cutoff`` (``spark_jobs.popularity.trending`` before its cut)."""
    out: dict[int, float] = defaultdict(float)
    ages = (cutoff - clicks.ts[window]) / half_life_ms
    for a, w in zip(clicks.item[window].tolist(), np.power(0.5, ages).tolist(), strict=True):
        out[a] += w
    return out


def _counts(items: np.ndarray) -> dict[int, float]:
    values, counts = np.unique(items, return_counts=True)
    return dict(zip(values.tolist(), counts.astype(float).tolist(), strict=True))


def unread(ranked: Iterable[int], read: set[int], k: int) -> list[int]:
    """The first ``k`` of ``ranked`` the reader has not read (``spark_jobs.blend.unread``)."""
    out = []
    for a in ranked:
        if a not in read:
            out.append(a)
            if len(out) == k:
                break
    return out


def covisited(day: Day, user: int, n: int) -> Ranked:
    """The reader's last reads' co-visitation scores, summed (``spark_jobs.blend.covisited``)."""
    scores: dict[int, float] = defaultdict(float)
    for source in day.last_reads.get(user, ()):
        for a, s in day.related.get(source, ()):
            scores[a] += s
    return _top(scores, n)


def fuse(
    sources: Mapping[str, Sequence[int]],
    weights: Mapping[str, float],
    *,
    read: set[int],
    fresh: set[int],
    k: int,
) -> Ranked:
    """``spark_jobs.blend.fuse`` for one reader, with the scores it publishes: sum of
    ``w / (RRF_K + rank)`` over the sources listing an article (ranks from 1), fresh and
    unread articles only, best ``k``."""
    scores: dict[int, float] = defaultdict(float)
    for name, ranked in sources.items():
        weight = weights.get(name, 0.0)
        if weight <= 0:
            continue
        for rank, a in enumerate(ranked, start=1):
            scores[a] += weight / (RRF_K + rank)
    kept = {a: s for a, s in scores.items() if a in fresh and a not in read}
    return _top(kept, k)


def _ids(ranked: Ranked) -> list[int]:
    return [a for a, _ in ranked]


def relevant_sets(clicks: Clicks, cutoff: int) -> dict[int, set[int]]:
    """Each reader's articles clicked in the 24 h after the cutoff."""
    test = clicks.between(cutoff, cutoff + DAY)
    out: dict[int, set[int]] = defaultdict(set)
    for u, a in zip(clicks.user[test].tolist(), clicks.item[test].tolist(), strict=True):
        out[u].add(a)
    return dict(out)


def evaluate_day(
    clicks: Clicks, cutoff: int, p: Params, *, with_als: bool = True
) -> dict[str, Any]:
    """Every model's metrics for the day after ``cutoff``; ``{"skipped": why}`` when the day
    has fewer than ``p.min_users`` readers or nothing before it."""
    started = time.monotonic()
    relevant = relevant_sets(clicks, cutoff)
    if len(relevant) < p.min_users:
        return {"skipped": f"{len(relevant)} readers on the test day (< {p.min_users})"}
    if clicks.until(cutoff).stop == 0:
        return {"skipped": "no click before the cutoff"}
    users = sorted(relevant)
    day = signals(clicks, cutoff, p, users)
    empty: set[int] = set()
    popular = [a for a, _ in day.most_viewed]
    trending = [a for a, _ in day.trending]
    hot = [a for a, _ in day.hot]
    personal = {u: [a for a, _ in covisited(day, u, p.candidates)] for u in users}
    als_top: dict[int, list[int]] = {}
    out: dict[str, Any] = {}
    if with_als:
        upto = clicks.until(cutoff)
        found = als.recommend(
            clicks.user[upto], clicks.item[upto], clicks.ts[upto], cutoff,
            wanted=users, candidates=day.fresh, n=p.candidates, params=p.als,
        )  # fmt: skip
        if found is None:
            out["als"] = {"status": "not available: pip install implicit (make bench-batch)"}
        else:
            als_top = found
    lists: dict[str, dict[int, list[int]]] = {name: {} for name in MODELS}
    for u in users:
        read = day.reads.get(u, empty)
        lists["most_viewed"][u] = unread(popular, read, p.k)
        lists["trending"][u] = unread(trending, read, p.k)
        lists["covisitation"][u] = _ids(
            fuse({"covisit": personal[u]}, {"covisit": 1.0}, read=read, fresh=day.fresh, k=p.k)
        )
        if als_top:
            lists["als"][u] = unread(als_top.get(u, ()), read, p.k)
        sources = {"hot": hot, "trending": trending, "popular": popular, "covisit": personal[u]}
        if als_top:
            sources["als"] = als_top.get(u, [])
        lists["blend"][u] = _ids(fuse(sources, p.weights, read=read, fresh=day.fresh, k=p.k))
    # spark_jobs.metrics on string ids, as the nightly run scores them
    relevant_text = {str(u): {str(a) for a in found} for u, found in relevant.items()}
    catalogue = [str(a) for a in day.catalogue]
    for name in MODELS:
        if name == "als" and not als_top:
            continue
        shown = {str(u): [str(a) for a in items] for u, items in lists[name].items()}
        out[name] = _figures(metrics.summarise(shown, relevant_text, p.k, catalogue), p.k)
    out["users"] = len(users)
    out["seconds"] = round(time.monotonic() - started, 1)
    return out


def _figures(s: metrics.Summary, k: int) -> dict[str, float]:
    return {
        f"hr_at_{k}": round(s.hr, 4),
        f"precision_at_{k}": round(s.precision, 4),
        f"recall_at_{k}": round(s.recall, 4),
        f"ndcg_at_{k}": round(s.ndcg, 4),
        f"map_at_{k}": round(s.map, 4),
        "coverage": round(s.coverage, 4),
    }


def run(
    sessions: Sessions, first_hour: int, last_hour: int, p: Params, *, with_als: bool = True
) -> dict[str, Any]:
    """Every test day within hours ``first_hour .. last_hour``; the history is every click
    of the hours loaded (0 .. last_hour) up to each cutoff."""
    started = time.monotonic()
    chosen = (sessions.hour >= first_hour) & (sessions.hour <= last_hour)
    if not chosen.any():
        raise ValueError(f"no session in hours {first_hour}..{last_hour}")
    clicks = Clicks.of(sessions)
    # The hours span from the first session start of first_hour to the last of last_hour.
    first_ms = int(sessions.session_start[chosen].min())
    last_ms = int(sessions.session_start[chosen].max())
    days: dict[str, Any] = {}
    skipped: dict[str, str] = {}
    for cutoff in test_days(first_ms, last_ms):
        label = datetime.fromtimestamp(cutoff / 1000, UTC).date().isoformat()
        result = evaluate_day(clicks, cutoff, p, with_als=with_als)
        if "skipped" in result:
            skipped[label] = result["skipped"]
        else:
            days[label] = result
    return {
        "protocol": "next day per user: models made at midnight UTC ending day D, scored on "
        "the articles each reader clicked on day D+1",
        "k": p.k,
        "test_days": days,
        "skipped_days": skipped,
        "mean": mean_over_days(days),
        "params": {**p.__dict__, "als": p.als.__dict__, "weights": dict(p.weights)},
        "seconds": round(time.monotonic() - started, 1),
    }


def mean_over_days(days: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, float]]:
    """Each model's metrics averaged over the days (every day weighs the same)."""
    sums: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for figures in days.values():
        for model, values in figures.items():
            if isinstance(values, dict) and "status" not in values:
                for metric, v in values.items():
                    sums[model][metric].append(v)
    return {
        model: {metric: round(sum(v) / len(v), 4) for metric, v in by_metric.items()}
        for model, by_metric in sums.items()
    }
