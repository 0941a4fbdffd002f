"""The erasure stage: every pending erasure request carried out, checked, and completed.

``python -m spark_jobs.submit spark_jobs/erasure.py`` (or the nightly run's ``--stage
erase``, a task of the Airflow DAG before the training) takes every pending request of
``newslake.privacy.ErasureRequests`` and, for all of them at once:

1. removes their readers' rows from every Delta table that holds readers
   (:mod:`spark_jobs.reader_rows` finds them by listing the lake), one commit per table,
   so the next ALS fit sees neither their interactions nor their id;
2. rewrites the landed objects holding their lines without them;
3. deletes their items in the serving store (personal lists of every version, recent
   reads), last, since the streaming job's publisher rebuilds recent reads from silver;
4. checks every readable place (:func:`spark_jobs.erasure_check.readable`): a request
   whose reader is found nowhere completes with the date its retained history is gone;
   one found again (the streaming job wrote while the stage ran) stays pending for the
   next run.

Each place done is recorded on the request as it is done; a run killed halfway and run
again skips those places, and a Delta commit made but not recorded is found again by its
tag (:func:`spark_jobs.erase_delta.erased_before`), so no row is counted twice. A run
after a check that found the reader again is a new round and goes through every place
again. Logs name requests by their subject, a keyed hash, never by the reader's id.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError
from pyspark.sql import SparkSession

from newslake import aws, privacy
from newslake.errors import SetupError
from newslake.privacy import ErasureRequest, ErasureRequests
from newslake.settings import Settings
from spark_jobs import delta_history, erase_delta, erase_landing, erase_store
from spark_jobs.reader_rows import Reader, ReaderTable, reader_tables
from spark_jobs.reader_scan import LANDING, STORE, delta_place, readable

log = logging.getLogger("newslake.erasure")

CHECK = "check"  # the step recording what a round's check still found
STARTED = "started"  # the step recording that a round began: a later run may resume it


@dataclass(frozen=True)
class Work:
    """A pending request in this run: its reader, round and the places it has done."""

    request: ErasureRequest
    reader: Reader
    round: int

    @classmethod
    def of(cls, request: ErasureRequest) -> Work:
        assert request.user_id is not None  # a pending request keeps its reader's id
        checks = sum(1 for place in request.steps if place.split("@")[0] == CHECK)
        return cls(request, Reader(request.portal, request.user_id), checks + 1)

    def place(self, name: str) -> str:
        """A place's step name in this round (a later round does every place again)."""
        return name if self.round == 1 else f"{name}@{self.round}"

    def done(self, name: str) -> bool:
        return self.place(name) in self.request.steps

    @property
    def resumed(self) -> bool:
        """Whether an earlier run began this round (and may have been killed in it)."""
        return self.place(STARTED) in self.request.steps

    @property
    def mark(self) -> str:
        """This round of this request, as Delta commits name it (no reader id)."""
        return f"{self.request.subject}:{int(self.request.asked_at * 1000)}:{self.round}"


@dataclass
class Outcome:
    """What a run did, for its JSON line."""

    requests: int = 0
    rows_removed: int = 0
    removed: dict[str, int] = field(default_factory=dict)
    completed: list[str] = field(default_factory=list)
    pending: dict[str, dict[str, int]] = field(default_factory=dict)
    seconds_by_step: dict[str, float] = field(default_factory=dict)

    def timed(self, step: str, started: float) -> None:
        """Wall seconds of one step of the run since ``started`` (monotonic)."""
        self.seconds_by_step[step] = round(time.monotonic() - started, 2)

    def add(self, place: str, n: int) -> None:
        self.rows_removed += n
        self.removed[place] = self.removed.get(place, 0) + n


@dataclass
class Context:
    """What the places need: the session, settings, clients and the request record."""

    spark: SparkSession
    settings: Settings
    requests: ErasureRequests
    s3: Any
    ddb: Any
    now: Callable[[], float] = time.time
    # Called after each place is done and recorded (tests kill a run there).
    after_place: Callable[[str], None] = lambda place: None
    _tables: list[ReaderTable] | None = None
    _retention: dict[str, timedelta] = field(default_factory=dict)

    def tables(self) -> list[ReaderTable]:
        """The lake's tables that hold readers, found once per run."""
        if self._tables is None:
            self._tables = reader_tables(self.spark, self.settings)
        return self._tables

    def retention(self, table: ReaderTable) -> timedelta:
        if table.name not in self._retention:
            self._retention[table.name] = delta_history.retention(
                self.spark, table.path, self.settings
            )
        return self._retention[table.name]


def _record(ctx: Context, work: Work, name: str, removed: int, out: Outcome) -> None:
    ctx.requests.record_step(work.request.subject, work.place(name), removed=removed, at=ctx.now())
    work.request.steps[work.place(name)] = {"removed": float(removed), "at": ctx.now()}
    out.add(name, removed)


def erase_delta_tables(ctx: Context, works: list[Work], out: Outcome) -> None:
    """Every table: the rows of the requests that have not done it, one commit."""
    for table in ctx.tables():
        name = delta_place(table.name)
        todo = [w for w in works if not w.done(name)]
        if not todo:
            continue
        # Only a round begun by an earlier run can have commits its steps do not record.
        resumed = {w.mark for w in todo if w.resumed}
        before = erase_delta.erased_before(ctx.spark, table.path, resumed) if resumed else {}
        for w in [w for w in todo if w.mark in before]:  # committed, not recorded: killed
            _record(ctx, w, name, before[w.mark], out)
        todo = [w for w in todo if w.mark not in before]
        if todo:
            removed = erase_delta.erase_table(ctx.spark, table, {w.reader: w.mark for w in todo})
            for w in todo:
                _record(ctx, w, name, removed[w.mark], out)
        ctx.after_place(name)


def erase_landing_objects(ctx: Context, works: list[Work], out: Outcome) -> None:
    todo = [w for w in works if not w.done(LANDING)]
    if todo:
        landing = erase_landing.Landing.of(ctx.settings)
        lines = erase_landing.scan(ctx.s3, landing, [w.reader for w in todo], rewrite=True)
        for w in todo:
            _record(ctx, w, LANDING, lines[w.reader], out)
        ctx.after_place(LANDING)


def erase_store_items(ctx: Context, works: list[Work], out: Outcome) -> None:
    for w in works:
        if not w.done(STORE):
            n = erase_store.erase_items(ctx.ddb, ctx.settings.recommendations_table, w.reader)
            _record(ctx, w, STORE, n, out)
    ctx.after_place(STORE)


def unreadable_by(ctx: Context, work: Work) -> str:
    """When the last retained copy of what this request removed from Delta is gone: each
    table's own retention from its last removal, plus how long storage keeps what Delta
    deleted (the versioned lake bucket in AWS); today when nothing was removed there."""
    today = datetime.fromtimestamp(ctx.now(), UTC).date()
    latest: date = today
    for table in ctx.tables():
        steps = [
            s
            for place, s in work.request.steps.items()
            if place.split("@")[0] == delta_place(table.name) and s["removed"] > 0
        ]
        if steps:
            at = max(s["at"] for s in steps)
            keep = ctx.retention(table) + privacy.storage_delay(ctx.settings)
            day = delta_history.unreadable_date(int(at * 1000), keep, datetime.now(UTC))
            settings_day = date.fromisoformat(privacy.unreadable_by(at, ctx.settings))
            latest = max(latest, day, settings_day)
    return latest.isoformat()


def finish(ctx: Context, works: list[Work], out: Outcome) -> None:
    """The check; complete what it finds nowhere, keep the rest pending for the next run."""
    readers = [w.reader for w in works]
    found = readable(ctx.spark, ctx.settings, readers, s3=ctx.s3, ddb=ctx.ddb, tables=ctx.tables())
    for w in works:
        left = {place: n for place, n in found[w.reader].items() if n}
        subject = w.request.subject
        if left:
            ctx.requests.record_step(
                subject, w.place(CHECK), removed=sum(left.values()), at=ctx.now()
            )
            out.pending[subject] = left
            log.warning("request %s: found again in %s; stays pending", subject, sorted(left))
            continue
        ctx.requests.complete(subject, done_at=ctx.now(), unreadable_by=unreadable_by(ctx, w))
        out.completed.append(subject)
        log.info("request %s: erased and checked", subject)


def run(ctx: Context) -> Outcome:
    """Carry out every pending request (module docstring)."""
    works = [Work.of(r) for r in ctx.requests.pending() if r.user_id is not None]
    out = Outcome(requests=len(works))
    if not works:
        return out
    log.info("erasing %d requests: %s", len(works), ", ".join(w.request.subject for w in works))
    for w in works:
        if not w.resumed:  # recorded before any commit; kept in memory as not resumed
            ctx.requests.record_step(w.request.subject, w.place(STARTED), removed=0, at=ctx.now())
    for step, do in (
        ("delta", erase_delta_tables),
        (LANDING, erase_landing_objects),
        (STORE, erase_store_items),
        (CHECK, finish),
    ):
        started = time.monotonic()
        do(ctx, works, out)
        out.timed(step, started)
    return out


def run_stage(spark: SparkSession, settings: Settings) -> dict[str, Any]:
    """The stage with the platform's clients: its JSON result."""
    started = time.monotonic()
    ctx = Context(
        spark,
        settings,
        ErasureRequests.of(settings),
        s3=aws.client("s3", settings),
        ddb=aws.client("dynamodb", settings),
    )
    try:
        out = run(ctx)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
            raise
        raise SetupError(
            f"the erasure requests table {settings.privacy_requests_table} does not exist: "
            "provision it (make up locally, the CDK app in AWS)"
        ) from None
    return {**out.__dict__, "seconds": round(time.monotonic() - started, 2)}


__all__ = ["Context", "Outcome", "run", "run_stage"]
