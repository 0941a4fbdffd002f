"""The load generator of ``make bench-ingest``: browser-tracker batches over HTTP.

It runs as a process of its own (``python -m benchmarks.ingest_load``, started by
``benchmarks.bench_ingest``), so that its CPU is not the gateway's. Requests go over at most
``--connections`` keep-alive connections, paced at ``--rate`` events/s (0: each connection
sends its next batch as soon as the last is answered), until ``--seconds`` pass or
``--max-requests`` are sent. Every request's outcome, and the CPU time the load took, are
written to ``--out`` as JSON; a line of progress goes to stderr every few seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from benchmarks import http1
from benchmarks.stats import percentile
from ingestion.synthetic import SECTIONS
from ingestion.validation import MAX_BATCH
from newslake.settings import get_settings

READERS = 100_000  # distinct user ids, the Kinesis partition keys
ARTICLES = 5_000
EVENT_SPACING_MS = 2_000  # a tracker's queued events are this far apart in client time
REQUEST_TIMEOUT_S = 10.0
PROGRESS_EVERY_S = 5.0
HEADERS = {"Content-Type": "text/plain;charset=UTF-8"}  # what the tracker's beacons send


def event_id(run: str, seq: int) -> str:
    return f"{run}-e{seq}"


def tracker_batch(
    rng: random.Random,
    *,
    run: str,
    first_seq: int,
    size: int,
    portal: str,
    domain: str,
    now_ms: int,
) -> list[dict[str, Any]]:
    """One request of a browser tracker: ``size`` events of one reader on one portal.

    Page views alternate with the engagement event of the page just viewed (same
    ``pageview_id``); event ids are ``event_id(run, first_seq + i)``; client times are
    ``EVENT_SPACING_MS`` apart, the last one ``now_ms``.
    """
    user = f"{run}-u{rng.randrange(READERS)}"
    session = f"{run}-s{rng.getrandbits(48):012x}"
    referrer = "https://www.google.com/"
    url = pageview = ""
    events: list[dict[str, Any]] = []
    for i in range(size):
        seq = first_seq + i
        common = {
            "event_id": event_id(run, seq),
            "portal": portal,
            "user_id": user,
            "session_id": session,
            "client_ts": now_ms - (size - 1 - i) * EVENT_SPACING_MS,
        }
        if i % 2 == 0:
            article = rng.randrange(ARTICLES)
            url = f"https://{domain}/{rng.choice(SECTIONS)}/noticia/{article}.html"
            pageview = f"{run}-p{seq}"
            events.append(
                {
                    **common,
                    "event_type": "view",
                    "pageview_id": pageview,
                    "url": url,
                    "referrer": referrer,
                    "article_id": str(article),
                }
            )
        else:
            clicks = rng.randrange(3)
            events.append(
                {
                    **common,
                    "event_type": "engagement",
                    "pageview_id": pageview,
                    "url": url,
                    "referrer": referrer,
                    "article_id": url.rsplit("/", 1)[1].split(".")[0],
                    "dwell_ms": rng.randrange(1_000, 300_000),
                    "scroll_depth": rng.randrange(101),
                    "clicks": clicks,
                    "clicked_urls": [f"https://{domain}/"] * clicks,
                }
            )
            referrer = url
    return events


@dataclass(frozen=True)
class Sent:
    """One request: its events' sequence numbers, the answer and how long it took."""

    first_seq: int
    events: int
    status: int  # 0: no HTTP answer (connection error or timeout)
    accepted: int
    latency_ms: float

    @property
    def ok(self) -> bool:
        """200 for the whole batch: anything else is an error (the handler is all or none)."""
        return self.status == 200 and self.accepted == self.events


class Connection(http1.Connection):
    """A keep-alive connection that POSTs tracker batches to the gateway."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.head = (
            f"POST {urlsplit(url).path} HTTP/1.1\r\nHost: {self.netloc}\r\n"
            + "".join(f"{name}: {value}\r\n" for name, value in HEADERS.items())
            + "Content-Length: "
        ).encode()

    async def post(self, body: bytes) -> tuple[int, bytes]:
        return await self.request(self.head + b"%d\r\n\r\n" % len(body) + body)


async def _post_batch(client: Connection, body: bytes) -> tuple[int, int]:
    """POST one batch: the HTTP status (0 without an answer) and the events accepted."""
    status = accepted = 0
    try:
        async with asyncio.timeout(REQUEST_TIMEOUT_S):
            status, content = await client.post(body)
        if status == 200:
            accepted = int(json.loads(content)["accepted"])
    except (OSError, asyncio.IncompleteReadError, ValueError, KeyError, TypeError):
        pass  # an error: no answer (status 0; timeouts too), or a 200 off contract
    return status, accepted


async def _report_progress(sent: list[Sent], start: float) -> None:
    """A line on stderr every PROGRESS_EVERY_S: totals, and the rate and p99 since the last."""
    shown = 0
    while True:
        await asyncio.sleep(PROGRESS_EVERY_S)
        recent, shown = sent[shown:], len(sent)
        p99 = f"{percentile([s.latency_ms for s in recent], 99):.0f}" if recent else "-"
        print(
            f"[{time.perf_counter() - start:5.1f}s] {len(sent)} requests, "
            f"{sum(s.events for s in sent)} events, {sum(not s.ok for s in sent)} errors; "
            f"last {PROGRESS_EVERY_S:.0f}s: "
            f"{sum(s.events for s in recent if s.ok) / PROGRESS_EVERY_S:.0f} events/s, "
            f"p99 {p99} ms",
            file=sys.stderr,
            flush=True,
        )


async def drive(
    url: str,
    *,
    seconds: float,
    rate: float,
    connections: int,
    batch: tuple[int, int],
    max_requests: int,
    seed: int,
    run: str,
    domains: dict[str, str],
) -> tuple[list[Sent], float]:
    """Send tracker batches until ``seconds`` pass or ``max_requests`` are sent.

    With ``rate`` > 0, request k is due when the events before it have been sent at ``rate``
    events/s; it waits for a free connection, and its latency counts from when it was due.
    Returns every request and the seconds from the first send to the last answer.
    """
    rng = random.Random(seed)
    portals = sorted(domains)
    sent: list[Sent] = []
    state = {"requests": 0, "events": 0}
    start = time.perf_counter()
    deadline = start + seconds

    async def connection() -> None:
        client = Connection(url)
        while state["requests"] < max_requests:
            due = start + state["events"] / rate if rate > 0 else time.perf_counter()
            if due >= deadline or time.perf_counter() >= deadline:
                return
            # Everything random is drawn before the first await: request k's batch depends
            # on the seed alone, whichever connection sends it.
            size, portal = rng.randint(*batch), rng.choice(portals)
            first_seq = state["events"]
            state["requests"] += 1
            state["events"] += size
            events = tracker_batch(
                rng,
                run=run,
                first_seq=first_seq,
                size=size,
                portal=portal,
                domain=domains[portal],
                now_ms=int(time.time() * 1000),
            )
            body = json.dumps({"events": events}).encode()
            if rate > 0:
                await asyncio.sleep(max(0.0, due - time.perf_counter()))
            else:
                due = time.perf_counter()
            status, accepted = await _post_batch(client, body)
            latency_ms = (time.perf_counter() - due) * 1000
            sent.append(Sent(first_seq, size, status, accepted, latency_ms))
        client.close()

    reporter = asyncio.create_task(_report_progress(sent, start))
    await asyncio.gather(*(connection() for _ in range(connections)))
    reporter.cancel()
    return sent, time.perf_counter() - start


def batch_range(value: str) -> tuple[int, int]:
    low, _, high = value.partition("-")
    lo, hi = int(low), int(high or low)
    if not 1 <= lo <= hi <= MAX_BATCH:
        raise argparse.ArgumentTypeError(f"LOW-HIGH events, 1 <= LOW <= HIGH <= {MAX_BATCH}")
    return lo, hi


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.ingest_load", description=__doc__)
    parser.add_argument("--url", required=True, help="the gateway's POST /pageview URL")
    parser.add_argument("--out", type=Path, required=True, help="where the outcomes go (JSON)")
    parser.add_argument("--run", required=True, help="prefix of this run's ids")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--rate", type=float, default=0.0, help="events/s; 0: as answered")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--batch", type=batch_range, default=(10, 20), help="LOW-HIGH events")
    parser.add_argument("--max-requests", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    settings = get_settings()
    cpu_started = time.process_time()
    sent, elapsed_s = asyncio.run(
        drive(
            args.url,
            seconds=args.seconds,
            rate=args.rate,
            connections=args.connections,
            batch=args.batch,
            max_requests=args.max_requests,
            seed=args.seed,
            run=args.run,
            domains={p: settings.portal_domains[p][0] for p in settings.portals},
        )
    )
    result = {
        "sent": [asdict(s) for s in sent],
        "elapsed_s": elapsed_s,
        "cpu_s": time.process_time() - cpu_started,  # the load's, not the interpreter's start
    }
    args.out.write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
