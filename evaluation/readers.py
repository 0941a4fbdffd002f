"""The reader's list and its baselines as protocol 2 models: what the reader's page shows.

* ``reader``: ``newslake.ranking.reader_list``, the function serving calls, on the lists the
  replay built for the moment: the reader's recent reads (``Context.recent``, newest
  first), the live co-visitation lists of the newest ``last_reads`` of them, the live hot
  list, trending, the nightly personal list (ALS, ``evaluation.nightly``) and popular.
* ``nightly``: the reader's page before the request-time list: the personal list the
  nightly run published (its blend, hot alone by default), less the recent reads, topped
  up from trending, then popular (``serving.recommender.Recommender.nightly_for_user``,
  an experiment's ``nightly`` variant).
* ``trending``: live trending less the recent reads, topped up from popular: what a reader
  with no history gets.

Every list leaves out the reader's recent reads and holds ``Config.k`` articles.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace

import numpy as np

from evaluation import nightly, protocol1
from evaluation.nightly import KINDS, Nightly
from evaluation.protocol2 import Config, Context, Engine, Mode, Model
from evaluation.signals import Ranked
from evaluation.targets import Queries
from newslake import ranking
from newslake.ranking import ReaderParams

PERSONAL = "als"  # the nightly list the reader's list takes as its personal source


def reader_lists(
    ctx: Context, params: ReaderParams, *, lend_ms: int, personal: str = PERSONAL
) -> ranking.ReaderLists[int]:
    """The lists the reader's list is fused from, as serving would read them now: the
    co-visitation lists of the newest ``params.last_reads`` reads made ``lend_ms`` or less
    before (serving reads only those)."""
    newest = zip(ctx.recent[: params.last_reads], ctx.read_at, strict=False)
    lending = [a for a, at in newest if at >= ctx.at - lend_ms]
    return ranking.ReaderLists(
        recent=ctx.recent,
        covisited={a: ctx.covisited(a) for a in lending},
        hot=ctx.hot(),
        trending=ctx.trending(),
        personal=ctx.nightly(personal),
        popular=ctx.popular(),
    )


def reader_model(params: ReaderParams, k: int, *, lend_ms: int, personal: str = PERSONAL) -> Model:
    """The reader's list with ``params`` (``k`` articles), the co-visitation of reads of the
    last ``lend_ms``, its personal source the nightly list of kind ``personal``
    (``evaluation.nightly.KINDS``)."""
    if personal not in KINDS:
        raise ValueError(f"personal list {personal!r}: choose one of {', '.join(KINDS)}")
    params = replace(params, limit=k)

    def reader(prefix: Sequence[int], ctx: Context) -> list[int]:
        lists = reader_lists(ctx, params, lend_ms=lend_ms, personal=personal)
        return [pick.article for pick in ranking.reader_list(lists, params)]

    return reader


def _unread(lists: Iterable[Ranked], read: set[int], k: int) -> list[int]:
    """The first ``k`` articles of ``lists`` in turn, each once, none of ``read``."""
    out: list[int] = []
    taken = set(read)
    for ranked in lists:
        for article, _ in ranked:
            if len(out) >= k:
                return out
            if article not in taken:
                taken.add(article)
                out.append(article)
    return out


def models(config: Config) -> dict[str, Model]:
    """The reader's list with the configured parameters and its two baselines."""
    k = config.k

    def nightly(prefix: Sequence[int], ctx: Context) -> list[int]:
        lists = (ctx.nightly("blend"), ctx.trending(), ctx.popular())
        return _unread(lists, set(ctx.recent), k)

    def trending(prefix: Sequence[int], ctx: Context) -> list[int]:
        return _unread((ctx.trending(), ctx.popular()), set(ctx.recent), k)

    return {
        "reader": reader_model(config.reader, k, lend_ms=config.lend_ms),
        "nightly": nightly,
        "trending": trending,
    }


def nightly_lists(
    engine: Engine, asked: Iterable[tuple[Queries, Mode]], *, with_als: bool = True
) -> Nightly:
    """The nightly lists of every reader the queries ask about, at the moments they are
    asked (each query in its mode), from the engine's clicks and settings."""
    s = engine.sessions
    moments = [engine.query_times(queries, mode) for queries, mode in asked]
    users = [s.user[queries.session] for queries, _ in asked]
    wanted = zip(np.concatenate(moments).tolist(), np.concatenate(users).tolist(), strict=True)
    return nightly.build(protocol1.Clicks.of(s), wanted, engine.config.nightly, with_als=with_als)


def known_share(engine: Engine, queries: Queries, mode: Mode) -> float:
    """The share of ``queries`` whose reader had a nightly list published (a known reader)."""
    if engine.nightly is None or len(queries) == 0:
        return 0.0
    moments = engine.query_times(queries, mode).tolist()
    users = engine.sessions.user[queries.session].tolist()
    known = 0
    for moment, user in zip(moments, users, strict=True):
        night = engine.nightly.at(moment)
        known += night is not None and user in night.rows
    return round(known / len(queries), 4)
