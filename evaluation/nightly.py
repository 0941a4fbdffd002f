"""What the nightly run published for each reader, replayed at every cutoff of G1.

The nightly run (``spark_jobs.portal_run.build_lists``) publishes, at its ``as_of`` and for
the readers active in the ``personal_active_days`` before it, a personal list of ``top_n``
articles made from everything read up to then:

* ``blend``: ``spark_jobs.blend.fuse`` of hot, trending, popular, co-visitation (and ALS)
  with the ``blend_w_*`` weights, by default hot alone: the list a known reader was served
  before the request-time list, less their recent reads;
* ``als``: the same fusion with ALS alone (``evaluation.als``), fresh and unread articles,
  scored ``1 / (RRF_K + rank)`` as ``fuse`` scores it: the personal list the reader's
  list takes as its ``personal`` source.

The run starts at the DAG's schedule (``airflow_dags.config.DagConfig.schedule``, 03:30
UTC): here the lists are published at that moment and served until the next run (the
run's own minutes are not counted). Sessions are those the replay loaded (capped at 20
clicks), so "everything read" is their clicks; the gate is not replayed (every night's
lists are taken as published).
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from airflow_dags.config import DagConfig
from evaluation import als, protocol1
from evaluation.protocol1 import Clicks, Params
from evaluation.signals import Ranked
from newslake.settings import Settings, setting_default

DAY = protocol1.DAY
KINDS = ("blend", "als")


def schedule_offset_ms(schedule: str | None = DagConfig.schedule) -> int:
    """Milliseconds after UTC midnight of a daily cron schedule ``"M H * * *"``.

    Raises:
        ValueError: the schedule is not one run a day at a fixed minute.
    """
    fields = (schedule or "").split()
    if len(fields) != 5 or fields[2:] != ["*", "*", "*"] or not all(map(str.isdigit, fields[:2])):
        raise ValueError(f"nightly schedule {schedule!r} is not 'M H * * *': name the run's time")
    minute, hour = int(fields[0]), int(fields[1])
    return (hour * 60 + minute) * 60_000


@dataclass(frozen=True)
class NightlyParams:
    """When the nightly run publishes, for whom, how long its lists are, and how it blends."""

    offset_ms: int = field(default_factory=schedule_offset_ms)
    top_n: int = setting_default("top_n")
    active_ms: int = setting_default("personal_active_days") * DAY
    blend: Params = field(default_factory=Params)

    @classmethod
    def from_settings(cls, settings: Settings) -> NightlyParams:
        return cls(
            top_n=settings.top_n,
            active_ms=settings.personal_active_days * DAY,
            blend=Params.from_settings(settings),
        )


@dataclass(frozen=True)
class Published:
    """One night's lists: reader ``u``'s list of kind ``k`` is row ``rows[u]`` of
    ``items[k]`` (article ids, -1 after the list's end) and ``scores[k]``."""

    cutoff: int
    rows: dict[int, int]
    items: dict[str, np.ndarray]
    scores: dict[str, np.ndarray]

    def ranked(self, kind: str, user: int) -> Ranked:
        row = self.rows.get(user)
        if row is None:
            return []
        items, scores = self.items[kind][row].tolist(), self.scores[kind][row].tolist()
        return [(a, s) for a, s in zip(items, scores, strict=True) if a >= 0]


@dataclass(frozen=True)
class Nightly:
    """Every night's lists, by cutoff; :meth:`at` is what is served at a moment."""

    nights: Sequence[Published]
    seconds: float = 0.0

    def at(self, moment: int) -> Published | None:
        """The lists of the last run at or before ``moment`` (None before the first)."""
        cutoffs = [night.cutoff for night in self.nights]
        i = int(np.searchsorted(cutoffs, moment, side="right")) - 1
        return self.nights[i] if i >= 0 else None

    def ranked(self, kind: str, user: int, moment: int) -> Ranked:
        night = self.at(moment)
        return night.ranked(kind, user) if night is not None else []


def cutoffs(first_ms: int, last_ms: int, offset_ms: int) -> list[int]:
    """The runs at ``offset_ms`` after each UTC midnight from the last one at or before
    ``first_ms`` to the last one at or before ``last_ms``."""
    start = (first_ms - offset_ms) // DAY * DAY + offset_ms
    return list(range(start, last_ms + 1, DAY))


def build(
    clicks: Clicks,
    wanted: Iterable[tuple[int, int]],
    params: NightlyParams = NightlyParams(),
    *,
    with_als: bool = True,
) -> Nightly:
    """The lists every night published for the readers that are asked about after it.

    Args:
        clicks: every click of the replay, in time order.
        wanted: ``(moment, reader)`` of the predictions to serve; each is served by the
            last run at or before its moment.
        params: the run's time, list length, active readers' window and blend.
        with_als: fit ALS each night (``implicit`` must be installed; without it the ALS
            lists are empty).
    """
    started = time.monotonic()
    asked: dict[int, set[int]] = defaultdict(set)
    pairs = list(wanted)
    if not pairs or len(clicks.ts) == 0:
        return Nightly(())
    moments = np.array([m for m, _ in pairs], dtype=np.int64)
    runs = cutoffs(int(moments.min()), int(moments.max()), params.offset_ms)
    night_of = np.searchsorted(np.array(runs), moments, side="right") - 1
    for n, (_, user) in zip(night_of.tolist(), pairs, strict=True):
        if n >= 0:
            asked[runs[n]].add(user)
    nights = [
        publish(clicks, cutoff, sorted(asked[cutoff]), params, with_als=with_als)
        for cutoff in runs
        if asked[cutoff] and clicks.until(cutoff).stop > 0
    ]
    return Nightly(nights, round(time.monotonic() - started, 1))


def publish(
    clicks: Clicks, cutoff: int, readers: Sequence[int], params: NightlyParams, *, with_als: bool
) -> Published:
    """One run's lists for ``readers`` who were active in the window before ``cutoff``."""
    upto = clicks.until(cutoff)
    recent = clicks.between(cutoff - params.active_ms, cutoff)
    active = set(np.unique(clicks.user[recent]).tolist())
    readers = [u for u in readers if u in active]
    p = replace(params.blend, k=params.top_n)
    day = protocol1.signals(clicks, cutoff, p, readers)
    als_top: dict[int, list[int]] | None = {}
    if with_als and readers:
        als_top = als.recommend(
            clicks.user[upto], clicks.item[upto], clicks.ts[upto], cutoff,
            wanted=readers, candidates=day.fresh, n=p.candidates, params=p.als,
        )  # fmt: skip
    als_top = als_top or {}
    shared = {"hot": day.hot, "trending": day.trending, "popular": day.most_viewed}
    shared_ids = {name: [a for a, _ in ranked] for name, ranked in shared.items()}
    lists: dict[str, list[Ranked]] = {kind: [] for kind in KINDS}
    empty: set[int] = set()
    for u in readers:
        read = day.reads.get(u, empty)
        covisit = [a for a, _ in protocol1.covisited(day, u, p.candidates)]
        sources = {**shared_ids, "covisit": covisit}
        sources["als"] = als_top.get(u, [])
        lists["blend"].append(protocol1.fuse(sources, p.weights, read=read, fresh=day.fresh, k=p.k))
        lists["als"].append(
            protocol1.fuse({"als": sources["als"]}, {"als": 1.0}, read=read, fresh=day.fresh, k=p.k)
        )
    return Published(
        cutoff=cutoff,
        rows={u: row for row, u in enumerate(readers)},
        items={kind: _padded(lists[kind], p.k, -1, np.int32) for kind in KINDS},
        scores={kind: _padded(lists[kind], p.k, 0.0, np.float32, score=True) for kind in KINDS},
    )


def _padded(
    lists: list[Ranked], width: int, fill: float, dtype: type, *, score: bool = False
) -> np.ndarray:
    out: np.ndarray = np.full((len(lists), width), fill, dtype=dtype)
    for row, ranked in enumerate(lists):
        values = [s if score else a for a, s in ranked[:width]]
        out[row, : len(values)] = values
    return out
