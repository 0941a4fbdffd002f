"""What ``make replay-ab`` sends, decided without any IO: which G1 readers and clicks, at
what replay time, whether each click is a click on the list just shown or an organic
pageview, and the settings that keep the live lists' windows in replayed time.

The orchestration (platform, nightly run, HTTP, Spark) is :mod:`demo.replay_ab`.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ingestion import g1
from ingestion.replay import TimeShift
from ingestion.schema import SERVER_TS
from newslake.experiments import Experiment, bucket
from newslake.settings import Settings

NO_VARIANT = "none"  # an answer no experiment covered (the experiment is off)


# ---- the sample ------------------------------------------------------------------------
@dataclass(frozen=True)
class Sample:
    """The window's clicks of the sampled readers and the history the nightly run needs,
    both in time order."""

    readers: frozenset[int]
    window: list[g1.Click]
    history: list[g1.Click]


def sample(
    clicks: Iterable[g1.Click],
    *,
    first_hour: int,
    readers: int,
    history_share: float,
    seed: int,
    window_ms: int,
) -> Sample:
    """Split G1 clicks at ``first_hour`` (the window's first hourly file; the clicks are of
    the window's hours and the history's before them). The window lasts ``window_ms`` from
    its first click: later clicks of its sessions are left out (a few G1 sessions go on
    for days).

    The readers are the window's readers ranked by a stable hash of ``seed`` and their id,
    the first ``readers`` of them; so a larger sample holds a smaller one. The history
    keeps the sampled readers' clicks and those of a stable ``history_share`` of the other
    readers, made before the window's first click (later clicks of sessions started
    before the window are neither: they would fall after the nightly run)."""
    window_all: list[g1.Click] = []
    before: list[g1.Click] = []
    for click in clicks:
        (window_all if click.hour >= first_hour else before).append(click)
    ranked = sorted({c.user_id for c in window_all}, key=lambda u: (_rank(seed, u), u))
    chosen = frozenset(ranked[:readers])
    start = min((c.ts for c in window_all), default=0)
    window = sorted(
        (c for c in window_all if c.user_id in chosen and c.ts < start + window_ms), key=_order
    )
    history = sorted(
        (
            c
            for c in before
            if c.ts < start
            and (
                c.user_id in chosen
                or bucket(f"replay-ab-history-{seed}", str(c.user_id)) < history_share
            )
        ),
        key=_order,
    )
    return Sample(chosen, window, history)


def _rank(seed: int, user_id: int) -> float:
    return bucket(f"replay-ab-{seed}", str(user_id))


def _order(click: g1.Click) -> tuple[int, int, int]:
    return (click.ts, click.session_id, click.article_id)


def history_shift(window_first_ms: int, end_ms: int) -> TimeShift:
    """The history in real time (no speed-up: the nightly run's day windows must hold what
    they held), ending at ``end_ms``, where the window then starts."""
    return TimeShift(start_ms=end_ms, first_ms=window_first_ms, speed_up=1.0)


# ---- one click ---------------------------------------------------------------------------
def recommended_at(answer: Mapping[str, Any], article_id: str) -> tuple[str, int] | None:
    """Where the article read next sits in the list just shown: (the answer's
    ``recommendation_id``, the item's ``position``), or None when it is not in the list (an
    organic pageview)."""
    for item in answer.get("items", []):
        if str(item["article_id"]) == article_id:
            return str(answer["recommendation_id"]), int(item["position"])
    return None


def tracked_view(
    click: g1.Click, client_ts: int, answer: Mapping[str, Any] | None
) -> dict[str, Any]:
    """The ``view`` the tracker sends for ``click`` at ``client_ts`` after the reader was
    shown ``answer``: with ``rec_id`` and ``rec_position`` when the article read is in it."""
    event = {k: v for k, v in g1.to_event(click).items() if k != SERVER_TS}
    event["client_ts"] = client_ts
    found = recommended_at(answer, event["article_id"]) if answer is not None else None
    if found is not None:
        event["rec_id"], event["rec_position"] = found
    return event


def variant_of(answer: Mapping[str, Any]) -> str:
    variant = answer.get("variant")
    return str(variant["name"]) if variant else NO_VARIANT


# ---- the replay loop -----------------------------------------------------------------------
@dataclass
class Tally:
    """What the replay sent, by variant: lists answered, the items they showed (the lake's
    impressions) and the clicks on them the collector accepted; the lake's figures
    should be these."""

    lists: Counter[str] = field(default_factory=Counter)
    items: Counter[str] = field(default_factory=Counter)  # the lake's impressions: items shown
    clicks: Counter[str] = field(default_factory=Counter)
    organic: int = 0
    list_failures: int = 0  # no 200 for the list: the click is sent as organic
    view_failures: int = 0  # the collector did not take the view
    unsent: int = 0  # clicks left when the time bound came
    behind_ms: int = 0  # the latest a click went out after its replay time

    def add(self, other: Tally) -> None:
        self.lists.update(other.lists)
        self.items.update(other.items)
        self.clicks.update(other.clicks)
        self.organic += other.organic
        self.list_failures += other.list_failures
        self.view_failures += other.view_failures
        self.unsent += other.unsent
        self.behind_ms = max(self.behind_ms, other.behind_ms)

    def as_json(self) -> dict[str, Any]:
        return {
            "lists": dict(sorted(self.lists.items())),
            "items": dict(sorted(self.items.items())),
            "clicks": dict(sorted(self.clicks.items())),
            "organic": self.organic,
            "list_failures": self.list_failures,
            "view_failures": self.view_failures,
            "unsent": self.unsent,
            "behind_ms": self.behind_ms,
        }


@dataclass(frozen=True)
class Channel:
    """How the replay talks to the platform: the reader's list (None: not answered 200)
    and the view's POST (True: accepted)."""

    fetch: Callable[[str], Mapping[str, Any] | None]
    post: Callable[[dict[str, Any]], bool]
    clock: Callable[[], float] = time.time
    sleep: Callable[[float], None] = time.sleep


def replay_clicks(
    clicks: Sequence[g1.Click],
    shift: TimeShift,
    channel: Channel,
    *,
    deadline: float = float("inf"),
    progress: Callable[[int], object] | None = None,
) -> Tally:
    """Each click in order when its replay time comes: ask for the reader's list, then
    send the view, a click on the list when the article is in it. From the first click
    due at or after ``deadline`` (the clock's seconds), the rest are counted unsent."""
    tally = Tally()
    for i, click in enumerate(clicks):
        due_ms = shift(click.ts)
        now = channel.clock()
        if max(now, due_ms / 1000) >= deadline:
            tally.unsent += len(clicks) - i
            break
        if due_ms / 1000 > now:
            channel.sleep(due_ms / 1000 - now)
        tally.behind_ms = max(tally.behind_ms, int(channel.clock() * 1000) - due_ms)
        answer = channel.fetch(str(click.user_id))
        if answer is None:
            tally.list_failures += 1
        else:
            tally.lists[variant_of(answer)] += 1
            tally.items[variant_of(answer)] += len(answer.get("items", []))
        # Running behind, the reader clicks when the list came, not before it was served.
        event = tracked_view(click, max(due_ms, int(channel.clock() * 1000)), answer)
        if not channel.post(event):
            tally.view_failures += 1
        elif answer is not None and "rec_id" in event:
            tally.clicks[variant_of(answer)] += 1
        else:
            tally.organic += 1
        if progress is not None:
            progress(1)
    return tally


def partition(clicks: Sequence[g1.Click], parts: int) -> list[list[g1.Click]]:
    """The clicks cut into ``parts`` by reader (each reader's in one part, in order), so
    parts run side by side while a reader's next list always follows their last view."""
    out: list[list[g1.Click]] = [[] for _ in range(parts)]
    for click in clicks:
        out[click.user_id % parts].append(click)
    return [p for p in out if p]


# ---- the platform's settings for the replay ---------------------------------------------
def scaled_live_settings(settings: Settings, speed_up: float) -> dict[str, float | int]:
    """The live windows that run on the wall clock, divided by the speed-up so they cover
    in replayed time what they cover in production: how long a read lends its
    co-visitation list, the hot list's half-life, bucket and keep. The bounds are the
    settings' own (a bucket of at least a second, kept at least a minute)."""
    return {
        "reader_lend_minutes": settings.reader_lend_minutes / speed_up,
        "live_hot_half_life_s": settings.live_hot_half_life_s / speed_up,
        "hot_bucket_s": max(1, round(settings.hot_bucket_s / speed_up)),
        "live_hot_keep_s": max(60, round(settings.live_hot_keep_s / speed_up)),
    }


def experiments_json(experiments: Sequence[Experiment], name: str) -> str:
    """``NEWSLAKE_EXPERIMENTS`` with experiment ``name`` enabled and the others off.

    Raises:
        KeyError: no experiment is called ``name``.
    """
    if name not in {e.name for e in experiments}:
        raise KeyError(name)
    return json.dumps(
        [
            {
                "name": e.name,
                "route": e.route,
                "enabled": e.name == name,
                "variants": [
                    {"name": v.name, "share": v.share, "overrides": dict(v.overrides)}
                    for v in e.variants
                ],
            }
            for e in experiments
        ]
    )


def environment(values: Mapping[str, object]) -> dict[str, str]:
    """Settings as the ``NEWSLAKE_*`` variables a child process reads."""
    return {f"NEWSLAKE_{k.upper()}": str(v) for k, v in values.items()}


def result_line(measured: Mapping[str, Any], tally: Tally) -> dict[str, Any]:
    """The head of the JSON line: the experiment's figures from the lake (the
    rec_performance stage's summary) and what the replay sent, side by side."""
    variants = {
        name: {
            "impressions": v["impressions"],
            "clicks": v["clicks"],
            "ctr": v["ctr"],
            "ctr_ci": [v["ctr_low"], v["ctr_high"]],
            "readers": v["readers"],
        }
        for name, v in measured.get("variants", {}).items()
    }
    keys = ("lift", "lift_ci_low", "lift_ci_high", "p_value", "srm_p_value", "srm", "control")
    return {
        "variants": variants,
        **{k: measured.get(k) for k in keys},
        "sent": tally.as_json(),
    }
