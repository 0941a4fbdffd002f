"""Replay G1 clicks as pageviews: through the real ``POST /pageview`` API, or bulk-loaded.

Each click becomes the ``view`` event of ``ingestion.g1.to_event`` (portal ``g1``, the
reader's user id, the article URL built from the article id, no dwell time), with its
time moved to the replay:

    event time = replay start + (click time - first click time) / speed-up

(milliseconds, rounded down). The API refuses events more than 3 days old or 5 minutes
ahead of its clock, so the clicks of 2017 cannot be sent as they are; moved this way they
are sent when their event time comes, as a reader's browser would. Event ids stay those of
the original clicks, so replaying twice deduplicates in the lake.

* ``api``: events are sent in time order to the local gateway (``make gateway``), in
  requests of the events due together (at most ``--batch``), paced by the speed-up;
  progress on stderr. Then the retry queue is drained into Kinesis, the Firehose stand-in
  delivers (stop ``make firehose`` first, or pass ``--no-drain``) and the replay's event
  ids are counted in the landing zone. Last line: ``{"sent", "accepted", "landed", ...}``.
* ``bulk``: the same events, same times, written straight to the landing zone as Firehose
  would (``ingestion.bulk_load``); no pacing. Last line: ``{"events", "objects", ...}``.

Both give the same silver rows, but for the replay start (``--start``; default now), which
``tests/ingestion/test_replay.py`` checks through the streaming catch-up.

    python -m ingestion.replay api --first-hour 1 --last-hour 1 --speed-up 60
    python -m ingestion.replay bulk --first-hour 1 --last-hour 24 --speed-up 60
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from tqdm import tqdm

from ingestion import bulk_load, g1, local_firehose, retry_worker
from ingestion.schema import SERVER_TS
from ingestion.validation import MAX_BATCH
from newslake import aws
from newslake.cli import run_command
from newslake.errors import NewslakeError
from newslake.settings import Settings, get_settings

REQUEST_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class TimeShift:
    """Maps a click time to the replay's: ``start + (t - first) // speed_up`` (ms)."""

    start_ms: int
    first_ms: int
    speed_up: float

    def __call__(self, t_ms: int) -> int:
        return self.start_ms + int((t_ms - self.first_ms) // self.speed_up)


def replay_events(clicks: Sequence[g1.Click], shift: TimeShift) -> Iterator[dict[str, Any]]:
    """The pageview events of ``clicks`` (in time order), times moved by ``shift``."""
    for click in sorted(clicks, key=lambda c: (c.ts, c.session_id, c.article_id)):
        event = g1.to_event(click)
        event["client_ts"] = event[SERVER_TS] = shift(click.ts)
        yield event


def load_clicks(data: Path, first_hour: int, last_hour: int) -> list[g1.Click]:
    sizes = g1.hour_sizes(data)
    if not 0 <= first_hour <= last_hour < len(sizes):
        raise NewslakeError(
            f"hours must satisfy 0 <= first <= last <= {len(sizes) - 1}, "
            f"not {first_hour}..{last_hour}"
        )
    clicks = list(g1.read_clicks(data, first_hour=first_hour, last_hour=last_hour))
    if not clicks:
        raise NewslakeError(f"hourly files {first_hour}..{last_hour} hold no clicks")
    return clicks


@dataclass
class SendStats:
    sent: int = 0
    accepted: int = 0
    requests: int = 0
    errors: int = 0  # requests answered other than 200, or not at all
    behind_ms: int = 0  # how late the last request went out, against its events' time


def send(
    events: Iterable[dict[str, Any]],
    post: Callable[[list[dict[str, Any]]], int | None],
    *,
    batch: int = MAX_BATCH,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
    progress: tqdm | None = None,
) -> SendStats:
    """POST the events when their time comes; each request holds the events due by then.

    Args:
        events: in time order, ``client_ts`` in epoch ms (already moved to the replay).
        post: sends one request; returns the number accepted (None: not answered 200).
        batch: at most this many events a request.
        clock: epoch seconds.
        sleep: waits (tests pass a fake clock's).
        progress: a bar to advance by the events sent.
    """
    stats = SendStats()
    pending: list[dict[str, Any]] = []

    def flush() -> None:
        accepted = post(pending)
        stats.requests += 1
        stats.sent += len(pending)
        if accepted is None:
            stats.errors += 1
        else:
            stats.accepted += accepted
        stats.behind_ms = max(0, int(clock() * 1000) - int(pending[-1]["client_ts"]))
        if progress is not None:
            progress.update(len(pending))
        pending.clear()

    for event in events:
        wait_s = event["client_ts"] / 1000 - clock()
        if pending and (wait_s > 0 or len(pending) >= batch):
            flush()
            wait_s = event["client_ts"] / 1000 - clock()
        if wait_s > 0:
            sleep(wait_s)
        pending.append(event)
    if pending:
        flush()
    return stats


def http_poster(client: httpx.Client, url: str) -> Callable[[list[dict[str, Any]]], int | None]:
    """Sends a batch as the tracker does (``text/plain`` beacon body)."""

    def post(events: list[dict[str, Any]]) -> int | None:
        body = json.dumps({"events": [_api_event(e) for e in events]})
        try:
            answer = client.post(url, content=body, headers={"Content-Type": "text/plain"})
        except httpx.HTTPError:
            return None
        if answer.status_code != 200:
            return None
        return int(answer.json()["accepted"])

    return post


def _api_event(event: dict[str, Any]) -> dict[str, Any]:
    """The event as a tracker sends it: the collector stamps ``server_ts`` itself."""
    return {k: v for k, v in event.items() if k != SERVER_TS}


def count_landed(settings: Settings, s3: Any, event_ids: set[str], since: datetime) -> int:
    """How many of ``event_ids`` are in landing objects written at or after ``since``."""
    found: set[str] = set()
    prefix = f"{settings.landing_prefix}/portal=g1/"
    pages = s3.get_paginator("list_objects_v2").paginate(
        Bucket=settings.landing_bucket, Prefix=prefix
    )
    for page in pages:
        for obj in page.get("Contents", []):
            if obj["LastModified"] < since:
                continue
            body = s3.get_object(Bucket=settings.landing_bucket, Key=obj["Key"])["Body"].read()
            for line in gzip.decompress(body).splitlines():
                event_id = str(json.loads(line).get("event_id"))
                if event_id in event_ids:
                    found.add(event_id)
    return len(found)


def run_api(args: argparse.Namespace, settings: Settings) -> dict[str, Any]:
    clicks = load_clicks(args.data, args.first_hour, args.last_hour)
    started = time.time()
    since = datetime.fromtimestamp(int(started), UTC)
    shift = TimeShift(int(started * 1000), min(c.ts for c in clicks), args.speed_up)
    events = list(replay_events(clicks, shift))
    url = args.url or f"http://{settings.serve_host}:{settings.gateway_port}/pageview"
    span_s = (events[-1]["client_ts"] - events[0]["client_ts"]) / 1000
    print(
        f"replaying {len(events)} clicks of hourly files {args.first_hour}..{args.last_hour} "
        f"to {url} at {args.speed_up:g}x ({span_s:.0f} s)",
        file=sys.stderr,
    )
    with (
        httpx.Client(timeout=REQUEST_TIMEOUT_S) as client,
        tqdm(total=len(events), desc="replay", unit="ev", file=sys.stderr) as bar,
    ):
        stats = send(events, http_poster(client, url), batch=args.batch, progress=bar)
    out: dict[str, Any] = {
        "mode": "api",
        "sent": stats.sent,
        "accepted": stats.accepted,
        "requests": stats.requests,
        "errors": stats.errors,
        "seconds": round(time.time() - started, 1),
        "speed_up": args.speed_up,
        "start_ms": shift.start_ms,
        "first_click_ms": shift.first_ms,
    }
    if not args.no_drain:
        sqs, kinesis, s3 = (aws.client(n, settings) for n in ("sqs", "kinesis", "s3"))
        queue_url = sqs.get_queue_url(QueueName=settings.retry_queue_name)["QueueUrl"]
        retry_worker.poll(sqs, queue_url, kinesis, settings, wait_s=1, once=True)
        local_firehose.deliver(settings, kinesis, s3)
        out["landed"] = count_landed(settings, s3, {e["event_id"] for e in events}, since)
    return out


def run_bulk(args: argparse.Namespace, settings: Settings) -> dict[str, Any]:
    clicks = load_clicks(args.data, args.first_hour, args.last_hour)
    start_ms = args.start if args.start is not None else int(time.time() * 1000)
    shift = TimeShift(start_ms, min(c.ts for c in clicks), args.speed_up)
    stats = bulk_load.bulk_load(
        settings,
        aws.client("s3", settings),
        replay_events(clicks, shift),
        total=len(clicks),
    )
    return {
        "mode": "bulk",
        "events": stats.events,
        "objects": stats.objects,
        "speed_up": args.speed_up,
        "start_ms": start_ms,
        "first_click_ms": shift.first_ms,
    }


def _speed_up(value: str) -> float:
    number = float(value)
    if not number > 0:
        raise argparse.ArgumentTypeError(f"must be above 0, not {value}")
    return number


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ingestion.replay",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("path", choices=["api", "bulk"], help="through the API, or bulk-loaded")
    parser.add_argument("--data", type=Path, default=g1.DEFAULT_DIR, help="G1 data folder")
    parser.add_argument("--first-hour", type=int, default=1, help="first hourly file (1)")
    parser.add_argument("--last-hour", type=int, default=1, help="last hourly file (1)")
    parser.add_argument("--speed-up", type=_speed_up, default=60.0, help="time factor (60)")
    parser.add_argument("--batch", type=int, default=MAX_BATCH, help="events a request, at most")
    parser.add_argument("--url", help="POST /pageview URL (default: the local gateway's)")
    parser.add_argument("--no-drain", action="store_true", help="api: do not count landed")
    parser.add_argument("--start", type=int, help="bulk: replay start, epoch ms (default now)")
    args = parser.parse_args(argv)
    if not 1 <= args.batch <= MAX_BATCH:
        parser.error(f"--batch must be 1..{MAX_BATCH}")
    settings = get_settings()
    return run_command(
        lambda: run_api(args, settings) if args.path == "api" else run_bulk(args, settings),
        failures={httpx.HTTPError: "{}; is the gateway running (make gateway)?"},
    )


if __name__ == "__main__":
    sys.exit(main())
