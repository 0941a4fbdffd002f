"""``make bench-fresh``: how soon a reader's own read shows in their next answer.

1. Starts a moto server of its own (nobody else's reset or load in the figures), seeds
   each portal's trending and popular lists (so every reader's list has a top article)
   and signs in the probe readers with its Cognito (real access tokens).
2. Starts, as processes of their own on that platform, the pageview gateway
   (``ingestion.gateway``), the session-state poller (``ingestion.session_poller``) and
   the recommendation API (``serving.main``).
3. Sends background pageviews through ``POST /pageview`` at ``--rate`` events/s (readers
   in sessions, articles by Zipf's law) for ``--seconds``, and meanwhile, ``--probes``
   times spread over that time, a probe reader asks for their list, POSTs a view of its
   top article and asks again every ``POLL_S`` until the article is gone from the answer.
   A probe's freshness runs from the 200 of its POST to the arrival of the first answer
   without the article (so it includes one answer's latency); a probe is ``seen`` when
   that happens within ``--bound``.

A warm-up probe runs first, unmeasured: it checks that the whole path works and warms the
service's caches and token checks. Progress goes to stderr; the last line is one JSON
object: ``reader_freshness_p50_s``, ``reader_freshness_p95_s``, ``sent``, ``seen``, with
the background load and the cores each process used.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from benchmarks import bench_serve, procs
from benchmarks.stats import percentile
from ingestion.session_daemon import environment
from newslake import aws, store
from newslake.errors import NewslakeError
from newslake.local.ports import free_port
from newslake.settings import Settings, get_settings

REPO = Path(__file__).resolve().parent.parent
VERSION = "bench-fresh-v1"
CATALOGUE, CATALOGUE_FIRST = 300, 1000  # articles per portal, read by Zipf's law
SEEDED = 100  # trending and popular hold the catalogue's first articles
READERS, SESSION_VIEWS = 500, 8  # background readers per portal, pageviews per session
BATCH = 5  # background events per request
LIMIT = 50  # a probe looks for its article in the whole answer, not just the top
POLL_S = 0.1
READY_S = 90.0
FAR_FUTURE = 4_102_444_800
_WEIGHTS = [1 / rank for rank in range(1, CATALOGUE + 1)]


# ---- arithmetic (tests/benchmarks/test_bench_fresh.py) ------------------------------------
@dataclass(frozen=True)
class Probe:
    """One probe: the article a reader read, when the read was accepted, when it showed."""

    reader: str
    article: str
    accepted_at: float  # monotonic seconds, at the 200 of POST /pageview
    seen_at: float | None  # at the first answer without the article; None: never

    @property
    def freshness_s(self) -> float | None:
        return None if self.seen_at is None else self.seen_at - self.accepted_at


def summarize(probes: Sequence[Probe], bound_s: float) -> dict[str, Any]:
    """Freshness percentiles over the probes seen within ``bound_s``; ``sent`` counts all."""
    lags = [p.freshness_s for p in probes if p.freshness_s is not None]
    seen = [lag for lag in lags if lag <= bound_s]
    return {
        "reader_freshness_p50_s": round(percentile(seen, 50), 2) if seen else None,
        "reader_freshness_p95_s": round(percentile(seen, 95), 2) if seen else None,
        "reader_freshness_max_s": round(max(seen), 2) if seen else None,
        "sent": len(probes),
        "seen": len(seen),
    }


def view(portal: str, domain: str, user: str, article: str, *, session: str) -> dict[str, Any]:
    """A tracker's ``view`` event of ``article``, now."""
    pageview = str(uuid.uuid4())
    return {
        "event_id": pageview,
        "event_type": "view",
        "portal": portal,
        "user_id": user,
        "session_id": session,
        "pageview_id": pageview,
        "url": f"https://{domain}/noticia/{article}.ghtml",
        "article_id": article,
        "client_ts": int(time.time() * 1000),
    }


def article_ids(answer: dict[str, Any]) -> list[str]:
    """The articles of a recommendations answer, best first."""
    return [str(item["article_id"]) for item in answer.get("items", [])]


def seed_records(portals: Sequence[str]) -> list[dict[str, Any]]:
    """Trending (live) and popular (the bench's version) of every portal: the first
    ``SEEDED`` articles of the catalogue, best first."""
    articles = [str(CATALOGUE_FIRST + i) for i in range(SEEDED)]
    ranked = [store.ScoredItem(a, float(SEEDED - i)) for i, a in enumerate(articles)]
    records = []
    for portal in portals:
        records.append(
            store.item_record(store.trending_key(portal), store.LIVE, ranked, FAR_FUTURE)
        )
        records.append(store.item_record(store.popular_key(portal), VERSION, ranked, FAR_FUTURE))
    return records


# ---- the platform and its processes -----------------------------------------------------


@contextmanager
def own_platform(base: Settings) -> Iterator[Settings]:
    """A provisioned moto server of the bench's own (``make bench-serve``'s), with the
    gateway and the service on free ports; stopped at the end."""
    with bench_serve.own_platform(base) as platform:
        yield platform.model_copy(
            update={
                "serve_port": free_port(),
                "gateway_port": free_port(),
                "serve_host": "127.0.0.1",
            }
        )


def seed(settings: Settings) -> None:
    ddb = aws.client("dynamodb", settings)
    for record in seed_records(settings.portals):
        ddb.put_item(TableName=settings.recommendations_table, Item=record)
    for portal in settings.portals:
        ddb.put_item(
            TableName=settings.versions_table,
            Item={"portal": {"S": portal}, "active_version": {"S": VERSION}},
        )


class Processes:
    """The gateway, the poller and the service, each in a process group of its own."""

    def __init__(self, settings: Settings, logs: Path, gateway_workers: int) -> None:
        env = {
            **environment(settings),
            "PYTHONPATH": str(REPO),
            "NEWSLAKE_SERVE_HOST": settings.serve_host,
            "NEWSLAKE_SERVE_PORT": str(settings.serve_port),
            "NEWSLAKE_GATEWAY_PORT": str(settings.gateway_port),
            "NEWSLAKE_SERVING_ACCESS_LOG": "false",
        }
        py = sys.executable
        commands = {
            "gateway": [py, "-m", "ingestion.gateway", f"--workers={gateway_workers}",
                        "--no-access-log"],
            "poller": [py, "-m", "ingestion.session_poller"],
            "serving": [py, "-m", "serving.main"],
        }  # fmt: skip
        logs.mkdir(parents=True, exist_ok=True)
        self.logs = {name: logs / f"{name}.log" for name in commands}
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        for name, command in commands.items():
            with self.logs[name].open("wb") as out:
                self.procs[name] = subprocess.Popen(
                    command,
                    cwd=REPO,
                    env=env,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,  # its workers stop with it
                )

    def check(self) -> None:
        for name, proc in self.procs.items():
            if proc.poll() is not None:
                raise NewslakeError(f"the {name} exited; see {self.logs[name]}")

    def cpu_seconds(self) -> dict[str, float]:
        return {name: procs.cpu_seconds(procs.group(p.pid)) for name, p in self.procs.items()}

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGINT)
        for proc in self.procs.values():
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def wait_ready(settings: Settings, processes: Processes) -> None:
    """Until the gateway answers (400 to an empty event) and the service is ready."""
    gateway = f"http://{settings.serve_host}:{settings.gateway_port}/pageview"
    ready = f"http://{settings.serve_host}:{settings.serve_port}/readyz"
    deadline = time.monotonic() + READY_S
    while time.monotonic() < deadline:
        processes.check()
        try:
            posted = httpx.post(gateway, content="{}", headers={"content-type": "application/json"})
            if posted.status_code == 400 and httpx.get(ready).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.25)
    raise NewslakeError(f"the gateway or the service was not ready within {READY_S:.0f}s")


# ---- the load and the probes -------------------------------------------------------------
class Background(threading.Thread):
    """Pageviews of the background readers at ``rate`` events/s until :meth:`stop`."""

    def __init__(self, settings: Settings, rate: float) -> None:
        super().__init__(name="background", daemon=True)
        self.settings, self.rate = settings, rate
        self.url = f"http://{settings.serve_host}:{settings.gateway_port}/pageview"
        self.sent = self.refused = 0
        self.elapsed_s = 0.0
        self._halt = threading.Event()
        self._rng = random.Random(7)

    def _batch(self) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = []
        for _ in range(BATCH):
            n = self.sent + len(events)
            portal = self.settings.portals[n % len(self.settings.portals)]
            user = f"bg-{portal}-{n // len(self.settings.portals) % READERS}"
            article = str(
                self._rng.choices(range(CATALOGUE), weights=_WEIGHTS)[0] + CATALOGUE_FIRST
            )
            session = f"s-{user}-{n // (READERS * SESSION_VIEWS)}"
            domain = self.settings.portal_domains[portal][0]
            events.append(view(portal, domain, user, article, session=session))
        return events

    def run(self) -> None:
        started = time.monotonic()
        with httpx.Client(timeout=10) as client:
            while not self._halt.is_set():
                events = self._batch()
                try:
                    ok = client.post(self.url, json={"events": events}).status_code == 200
                except httpx.HTTPError:
                    ok = False
                self.refused += 0 if ok else len(events)
                self.sent += len(events)
                due = started + self.sent / self.rate
                self._halt.wait(max(0.0, due - time.monotonic()))
        self.elapsed_s = time.monotonic() - started

    def stop(self) -> None:
        self._halt.set()
        self.join()


def probe(settings: Settings, portal: str, reader: str, token: str, bound_s: float) -> Probe:
    """Read the top article of ``reader``'s list, then wait for it to leave the list."""
    base = f"http://{settings.serve_host}"
    answers = f"{base}:{settings.serve_port}/v1/portals/{portal}/users/{reader}/recommendations"
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(timeout=10, headers=headers) as client:
        top = article_ids(client.get(answers, params={"limit": LIMIT}).json())
        if not top:
            raise NewslakeError(f"{reader} on {portal} was answered no list: nothing to read")
        event = view(portal, settings.portal_domains[portal][0], reader, top[0], session=reader)
        posted = client.post(f"{base}:{settings.gateway_port}/pageview", json=event)
        if posted.status_code != 200:
            raise NewslakeError(f"POST /pageview answered {posted.status_code}: {posted.text}")
        accepted = time.monotonic()
        while time.monotonic() - accepted <= bound_s:
            answer = client.get(answers, params={"limit": LIMIT})
            if answer.status_code == 200 and top[0] not in article_ids(answer.json()):
                return Probe(reader, top[0], accepted, time.monotonic())
            time.sleep(POLL_S)
    return Probe(reader, top[0], accepted, None)


def run_probes(settings: Settings, tokens: dict[str, str], args: argparse.Namespace) -> list[Probe]:
    """``args.probes`` probes, started evenly over ``args.seconds``, a few at a time."""
    interval = args.seconds / max(args.probes, 1)
    started = time.monotonic()
    readers = sorted(tokens)

    def scheduled(i: int) -> Probe:
        time.sleep(max(0.0, started + i * interval - time.monotonic()))
        portal = settings.portals[i % len(settings.portals)]
        return probe(settings, portal, readers[i], tokens[readers[i]], args.bound)

    with ThreadPoolExecutor(max_workers=4) as pool:
        return list(pool.map(scheduled, range(args.probes)))


def warm_up(settings: Settings, reader: str, token: str, bound_s: float) -> float:
    """One probe, unmeasured: the whole path works, the service's caches are warm."""
    warm = probe(settings, settings.portals[0], reader, token, bound_s)
    if warm.freshness_s is None:
        raise NewslakeError(f"the warm-up read did not show within {bound_s:.0f}s")
    return warm.freshness_s


def measure(settings: Settings, args: argparse.Namespace) -> dict[str, Any]:
    """Seed, start everything, run the load and the probes; the report's figures."""
    seed(settings)
    readers = [f"probe-{i:03d}" for i in range(args.probes + 1)]
    tokens = bench_serve.sign_in(settings, readers)
    logs = settings.state_dir.parent / "bench-fresh"
    processes = Processes(settings, logs, args.gateway_workers)
    moto = procs.moto_pid(settings)

    def cpu_now() -> dict[str, float]:
        return {
            **processes.cpu_seconds(),
            "moto": procs.cpu_seconds([moto] if moto else []),
            "bench": procs.cpu_seconds([os.getpid()]),
        }

    try:
        wait_ready(settings, processes)
        warm_s = warm_up(settings, readers[-1], tokens.pop(readers[-1]), args.bound)
        print(
            f"== warm-up probe {warm_s:.2f}s; {args.rate:.0f} events/s for "
            f"{args.seconds:.0f}s with {args.probes} probes",
            file=sys.stderr,
            flush=True,
        )
        before = cpu_now()
        background = Background(settings, args.rate)
        background.start()
        try:
            probes = run_probes(settings, tokens, args)
        finally:
            background.stop()
        processes.check()
        after = cpu_now()
    finally:
        processes.stop()
    elapsed = max(background.elapsed_s, 1e-9)
    return {
        **summarize(probes, args.bound),
        "background_events": background.sent,
        "background_refused": background.refused,
        "background_events_per_s": round(background.sent / elapsed, 1),
        "cpu_cores": {name: round((after[name] - before[name]) / elapsed, 2) for name in after},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.bench_fresh",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--seconds", type=float, default=60.0, help="background load time (60)")
    parser.add_argument("--rate", type=float, default=100.0, help="background events/s (100)")
    parser.add_argument("--probes", type=int, default=40, help="probe readers (40)")
    parser.add_argument("--bound", type=float, default=30.0, help="a read shows within (30 s)")
    parser.add_argument("--gateway-workers", type=int, default=2)
    args = parser.parse_args(argv)
    load_before = os.getloadavg()[0]
    try:
        with own_platform(get_settings()) as settings:
            report = measure(settings, args)
    except NewslakeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    report |= {
        "seconds": args.seconds,
        "rate_events_per_s": args.rate,
        "bound_s": args.bound,
        "cores": os.cpu_count(),
        # Other work on the machine takes cores from the bench: read the figures with these.
        "load_avg_1m": [round(load_before, 2), round(os.getloadavg()[0], 2)],
    }
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
