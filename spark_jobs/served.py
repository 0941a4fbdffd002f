"""The reader's list as the service will fuse it, made at a split's cutoff for the gate.

The nightly gate judges what readers will be served: ``newslake.ranking.reader_list`` (the
function the service calls) for each test reader, on the lists known at the cutoff, with a
personal list at some weight or none. The lists are the Spark twins of what the service
reads: the co-visitation of the last hours and the hot and trending lists of
:func:`spark_jobs.blend.signals`, and the popular list. A reader's recent reads are those of
the ``recent_reads_hours`` before the cutoff, newest first (at most ``recent_reads_limit``),
and only those of the last ``reader_lend_minutes`` lend their co-visitation, as in serving.

The inputs are gathered on the driver once; each list is then a plain Python call, so
trying several personal weights costs no Spark job.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from newslake import ranking
from newslake.settings import Settings
from spark_jobs import columns as C
from spark_jobs.blend import Signals

Ranked = list[tuple[str, float]]


@dataclass(frozen=True)
class Reads:
    """A reader's recent reads at the cutoff, newest first, and those that lend."""

    recent: tuple[str, ...]
    lending: tuple[str, ...]


@dataclass
class ServedInputs:
    """Everything the test readers' lists are fused from, gathered on the driver."""

    reads: dict[str, Reads]
    covisited: dict[str, Ranked]
    shared: dict[str, Ranked]  # hot, trending, popular
    params: ranking.ReaderParams

    def lists_of(
        self, personal: Mapping[str, Sequence[tuple[str, float]]], weight: float
    ) -> dict[str, list[str]]:
        """Each reader's list (article ids, best first) with ``personal`` at ``weight``."""
        params = replace(self.params, personal=weight)
        out = {}
        for user, reads in self.reads.items():
            lists = ranking.ReaderLists(
                recent=reads.recent,
                covisited={a: self.covisited.get(a, []) for a in reads.lending},
                personal=personal.get(user, ()) if weight > 0 else (),
                **self.shared,
            )
            out[user] = [pick.article for pick in ranking.reader_list(lists, params)]
        return out


def gather(
    sig: Signals, users: DataFrame, visits: DataFrame, *, settings: Settings, k: int
) -> ServedInputs:
    """The inputs of ``users``' lists at ``sig.cutoff`` (``visits``: the portal's)."""
    reads = _recent_reads(visits, users, sig.cutoff, settings)
    lending = {a for r in reads.values() for a in r.lending}
    related = sig.related.where(F.col(C.SOURCE_ARTICLE).isin(sorted(lending))) if lending else None
    return ServedInputs(
        reads={u: reads.get(u, Reads((), ())) for u in _ids(users)},
        covisited=_grouped(related, C.SOURCE_ARTICLE) if related is not None else {},
        shared={
            "hot": _ranked(sig.hot),
            "trending": _ranked(sig.trending),
            "popular": _ranked(sig.popular),
        },
        params=ranking.ReaderParams.from_settings(settings, limit=k),
    )


def personal_lists(top: DataFrame | None) -> dict[str, Ranked]:
    """Per-reader ranked lists (user_id, rank, article_id, score) gathered on the driver."""
    return {} if top is None else _grouped(top, C.USER_ID)


def _recent_reads(
    visits: DataFrame, users: DataFrame, cutoff: datetime, settings: Settings
) -> dict[str, Reads]:
    since = cutoff - timedelta(hours=settings.recent_reads_hours)
    lend_since = cutoff - timedelta(minutes=settings.reader_lend_minutes)
    rows = (
        visits.where(F.col(C.VISIT_START) > F.lit(since).cast("timestamp"))
        .where(F.col(C.VISIT_START) <= F.lit(cutoff).cast("timestamp"))
        .join(users.select(C.USER_ID).distinct(), C.USER_ID, "left_semi")
        .groupBy(C.USER_ID, C.ARTICLE_ID)
        .agg(F.max(C.VISIT_START).alias(C.LAST_SEEN))
        .groupBy(C.USER_ID)
        .agg(F.collect_list(F.struct(C.LAST_SEEN, C.ARTICLE_ID)).alias("r"))
        .collect()
    )
    out = {}
    for row in rows:
        newest = sorted(row["r"], key=lambda r: (r[0], r[1]), reverse=True)
        newest = newest[: settings.recent_reads_limit]
        lending = [r[1] for r in newest if _naive(r[0]) >= _naive(lend_since)]
        out[row[C.USER_ID]] = Reads(tuple(r[1] for r in newest), tuple(lending))
    return out


def _naive(moment: datetime) -> datetime:
    """Spark hands timestamps back naive in the session's zone (UTC in newslake)."""
    return moment.replace(tzinfo=None)


def _ranked(df: DataFrame) -> Ranked:
    rows = df.select(C.RANK, C.ARTICLE_ID, C.SCORE).orderBy(C.RANK, C.ARTICLE_ID).collect()
    return [(r[C.ARTICLE_ID], float(r[C.SCORE])) for r in rows]


def _grouped(df: DataFrame, key: str) -> dict[str, Ranked]:
    rows = (
        df.groupBy(key)
        .agg(F.sort_array(F.collect_list(F.struct(C.RANK, C.ARTICLE_ID, C.SCORE))).alias("l"))
        .collect()
    )
    return {r[key]: [(x[C.ARTICLE_ID], float(x[C.SCORE])) for x in r["l"]] for r in rows}


def _ids(users: DataFrame) -> list[str]:
    return [r[0] for r in users.select(C.USER_ID).distinct().collect()]
