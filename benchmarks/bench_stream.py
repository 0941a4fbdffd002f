"""``make bench-stream``: freshness of the streaming lakehouse, and its catch-up speed.

Freshness (continuous mode): the local gateway, the Firehose stand-in and the streaming
job (``spark-submit``, processing-time trigger) run as separate processes on the local
platform; the bench POSTs events at a steady rate (500 readers per portal in sessions of 8
pageviews, over 300 articles per portal read by Zipf's law, as news is: a few stories take
most views) and records when each was accepted. A visit becomes visible in
``silver.pageviews`` at the Delta commit that first holds it: ``silver_at`` is stamped in
that merge, and the commit is the first in the table's history at or after it. Freshness =
that commit's time - the time ``POST /pageview`` answered 200. The job is warmed up first
with the same traffic, unmeasured, until six micro-batches have committed (and at least
``--warmup-seconds``): a long-running job is measured, not its first micro-batches, which
run before the JVM has compiled the hot paths.

The lake (``--lake disk``, the default) lies where the platform keeps its lake by default,
on local disk, under a state folder of the bench's own, ``state_dir/bench-stream/<time>``
(:mod:`benchmarks.lake`; ``NEWSLAKE_LAKE_URI`` wins); ``--lake s3`` puts it on the moto
server's S3 through s3a.

Catch-up (availableNow): G1 clicks (hourly files 0..N, over a million) bulk-loaded into a
landing prefix of their own, then the streaming job catches up into a lake of its own
(the run's lake root with ``-catchup-<time>``);
events/s = bronze rows / the job's own catch-up time (Spark start-up excluded).

The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import bisect
import itertools
import json
import os
import random
import signal
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from benchmarks import procs
from benchmarks.lake import own_lake
from benchmarks.stats import percentile
from ingestion import bulk_load, g1, session_daemon
from newslake import aws, store
from newslake.local import provision, server
from newslake.results import last_json_object
from newslake.settings import Settings, get_settings
from spark_jobs.tables import StreamPaths

REPO = Path(__file__).resolve().parent.parent
BATCH = 10
WARMUP_BATCHES = 6
# The traffic: READERS readers per portal, sessions of SESSION_VIEWS pageviews, articles
# from a catalogue of CATALOGUE articles per portal.
READERS, SESSION_VIEWS, CATALOGUE, CATALOGUE_FIRST = 500, 8, 300, 1000
_CUMULATIVE = list(itertools.accumulate(1 / i for i in range(1, CATALOGUE + 1)))


def _spawn(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    out = log.open("wb")
    return subprocess.Popen(
        args, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=REPO, start_new_session=True
    )


def _stop(proc: subprocess.Popen[bytes], sig: int = signal.SIGINT, wait_s: float = 60) -> None:
    if proc.poll() is not None:
        return
    os.killpg(proc.pid, sig)
    try:
        proc.wait(wait_s)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def _wait(cond: Any, deadline_s: float, what: str, procs: list[subprocess.Popen[bytes]]) -> None:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if cond():
            return
        for p in procs:
            if p.poll() is not None:
                raise SystemExit(
                    f"error: a helper process exited ({p.args!r}) while waiting {what}"
                )
        time.sleep(0.2)
    raise SystemExit(f"error: timed out after {deadline_s:.0f}s waiting {what}")


def _article(rng: random.Random) -> int:
    """An article of the catalogue, the i-th most read with weight 1/i (news is read the
    way Zipf's law says: a few stories take most views)."""
    return CATALOGUE_FIRST + bisect.bisect(_CUMULATIVE, rng.random() * _CUMULATIVE[-1])


def _event(portal: str, user: str, session: str, article: int, now_ms: int) -> dict[str, Any]:
    pv = str(uuid.uuid4())
    return {
        "event_id": pv, "event_type": "view", "portal": portal, "user_id": user,
        "session_id": session, "pageview_id": pv,
        "url": f"https://{portal}.globo.com/noticia/{article}.html",
        "article_id": str(article), "client_ts": now_ms,
    }  # fmt: skip


def _has_recent(ddb: Any, settings: Settings, portal: str, user: str, article: str) -> bool:
    got = ddb.get_item(
        TableName=settings.recommendations_table,
        Key={"pk": {"S": store.recent_key(portal, user)}, "sk": {"S": store.LIVE}},
    ).get("Item")
    return bool(got) and article in {i.article_id for i in store.items_of(got)}


class _Traffic:
    """The bench's readers on every portal: batches of views POSTed to the gateway at
    ``rate`` events/s, each visit's acceptance time kept by its pageview id."""

    def __init__(self, settings: Settings, rate: float) -> None:
        self.settings, self.rate = settings, rate
        self.url = f"http://{settings.serve_host}:{settings.gateway_port}/pageview"
        self.client = httpx.Client(timeout=10)
        self.accepted: dict[str, float] = {}
        self.sent, self._rng = 0, random.Random(7)

    def gateway_up(self) -> bool:
        try:
            return self.client.options(self.url).status_code < 500
        except httpx.TransportError:
            return False

    def post(self, events: list[dict[str, Any]]) -> None:
        resp = self.client.post(self.url, json={"events": events})
        if resp.status_code != 200:
            raise SystemExit(f"error: POST /pageview answered {resp.status_code}: {resp.text}")
        at = time.time()
        for e in events:
            self.accepted[e["pageview_id"]] = at

    def send(self, for_s: float) -> tuple[str, str, str]:
        """Send for ``for_s`` seconds; the last visit's (portal, user, article)."""
        portals = self.settings.portals
        started, first, last = time.monotonic(), self.sent, ("g1", "", "")
        while time.monotonic() - started < for_s:
            now_ms = int(time.time() * 1000)
            batch = []
            for _ in range(BATCH):
                n = self.sent
                portal = portals[n % len(portals)]
                user, article = f"{portal}-bench-{n % READERS}", _article(self._rng)
                session = f"s-{user}-{n // (READERS * SESSION_VIEWS)}"
                batch.append(_event(portal, user, session, article, now_ms))
                last = (portal, user, str(article))
                self.sent += 1
            self.post(batch)
            time.sleep(max(0.0, started + (self.sent - first) / self.rate - time.monotonic()))
        return last


def _warm_up(
    traffic: _Traffic, ddb: Any, procs: list[subprocess.Popen[bytes]], *, warmup_s: float
) -> None:
    """Until the streaming job runs warm; what was sent meanwhile is not measured."""
    settings = traffic.settings
    print("warming up: the first event must reach silver (Spark starts)...", file=sys.stderr)
    traffic.post([_event("g1", "warmup", "s-warmup", 1, int(time.time() * 1000))])
    _wait(lambda: _has_recent(ddb, settings, "g1", "warmup", "1"), 300, "for warm-up", procs)
    # A long-running job is measured, not its first minutes: the JVM compiles the hot
    # paths during the first micro-batches, which take several times longer. Traffic at
    # the same rate, unmeasured, until WARMUP_BATCHES micro-batches have committed
    # visits and at least ``warmup_s`` have passed.
    log_dir = Path(StreamPaths.of(settings).visits.removeprefix("file://")) / "_delta_log"

    def commits() -> int:
        return len(list(log_dir.glob("*.json"))) if log_dir.exists() else 0

    first, warm_started = commits(), time.monotonic()
    print(f"warming up: {traffic.rate:.0f} events/s until {WARMUP_BATCHES} micro-batches "
          f"have committed, not measured...", file=sys.stderr)  # fmt: skip
    while commits() - first < WARMUP_BATCHES or time.monotonic() - warm_started < warmup_s:
        if time.monotonic() - warm_started > 900:
            raise SystemExit("error: the streaming job did not warm up within 15 minutes")
        traffic.send(5)
    traffic.accepted.clear()


def freshness(
    settings: Settings, seconds: float, rate: float, warmup_s: float, logs: Path
) -> dict[str, Any]:
    env = dict(
        os.environ,
        NEWSLAKE_STREAM_TRIGGER_S="1",
        NEWSLAKE_LAKE_URI=settings.lake_root,
        PYTHONPATH=str(REPO),
    )
    traffic = _Traffic(settings, rate)
    py = sys.executable
    procs = [
        _spawn([py, "-m", "ingestion.gateway"], env, logs / "gateway.log"),
        _spawn([py, "-m", "ingestion.local_firehose", "--interval", "1", "--poll", "0.5"], env,
               logs / "firehose.log"),
        _spawn([py, "-m", "spark_jobs.submit", "spark_jobs/streaming.py"], env,
               logs / "streaming.log"),
    ]  # fmt: skip
    ddb = aws.client("dynamodb", settings)
    try:
        _wait(traffic.gateway_up, 60, "for the gateway", procs)
        _warm_up(traffic, ddb, procs, warmup_s=warmup_s)
        print(f"sending {rate:.0f} events/s for {seconds:.0f}s...", file=sys.stderr)
        cpu = CpuShare(procs, settings)
        last = traffic.send(seconds)
        cores = cpu.cores()  # while sending: the steady state, not the drain after it
        _wait(lambda: _has_recent(ddb, settings, *last), 300, "for the last event", procs)
    finally:
        for p in reversed(procs):
            _stop(p)
    return _visibility(settings, traffic.accepted) | {"cpu_cores": cores}


class CpuShare:
    """Cores each process used from now until :meth:`cores`: the gateway, the Firehose
    stand-in and the streaming job (each with its children), moto, and this bench."""

    def __init__(self, spawned: list[subprocess.Popen[bytes]], settings: Settings) -> None:
        moto = procs.moto_pid(settings)
        self.groups = dict(
            zip(("gateway", "firehose", "streaming"), (p.pid for p in spawned), strict=True)
        )
        self.single = {"moto": [moto] if moto else [], "bench": [os.getpid()]}
        self.started, self.before = time.monotonic(), self._seconds()

    def _seconds(self) -> dict[str, float]:
        pids = {name: procs.group(pgid) for name, pgid in self.groups.items()} | self.single
        return {name: procs.cpu_seconds(p) for name, p in pids.items()}

    def cores(self) -> dict[str, float]:
        elapsed, after = time.monotonic() - self.started, self._seconds()
        return {name: round((after[name] - self.before[name]) / elapsed, 2) for name in after}


def _visibility(settings: Settings, accepted: dict[str, float]) -> dict[str, Any]:
    """Seconds from acceptance to the silver commit that first held each visit."""
    from delta.tables import DeltaTable
    from pyspark.sql import functions as F

    from spark_jobs.session import get_spark

    spark = get_spark(settings, app_name="bench-stream-measure")
    try:
        path = StreamPaths.of(settings).visits
        commits = sorted(
            r.timestamp.replace(tzinfo=UTC).timestamp()
            for r in DeltaTable.forPath(spark, path).history().select("timestamp").collect()
        )
        rows = (
            spark.read.format("delta").load(path)
            .where(F.col("pageview_id").isin(list(accepted)))
            .select("pageview_id", "silver_at").collect()
        )  # fmt: skip
    finally:
        spark.stop()
    lags = []
    for r in rows:
        stamped = r.silver_at.replace(tzinfo=UTC).timestamp()
        visible = next((c for c in commits if c >= stamped - 0.001), commits[-1])
        lags.append(visible - accepted[r.pageview_id])
    return {
        "visits_sent": len(accepted),
        "visits_seen": len(rows),
        "freshness_p50_s": round(percentile(lags, 50), 2),
        "freshness_p95_s": round(percentile(lags, 95), 2),
        "freshness_max_s": round(max(lags), 2),
    }


def catch_up(settings: Settings, last_hour: int, logs: Path) -> dict[str, Any]:
    tag = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
    prefix, lake = f"bench-catchup-{tag}/pageviews", f"{settings.lake_root}-catchup-{tag}"
    local = settings.model_copy(update={"landing_prefix": prefix, "lake_uri": lake})
    total = sum(g1.hour_sizes(g1.DEFAULT_DIR)[: last_hour + 1])
    clicks = g1.read_clicks(g1.DEFAULT_DIR, last_hour=last_hour)
    bulk_load.bulk_load(local, aws.client("s3", local), map(g1.to_event, clicks), total=total)
    env = dict(
        os.environ,
        PYTHONPATH=str(REPO),
        NEWSLAKE_LANDING_PREFIX=prefix,
        NEWSLAKE_LAKE_URI=lake,
        NEWSLAKE_STREAM_PUBLISH_LIVE="false",  # landing to silver only
    )
    print(f"catching up {total} G1 events (availableNow)...", file=sys.stderr)
    log = logs / "catchup.log"
    with log.open("wb") as out:
        done = subprocess.run(
            [sys.executable, "-m", "spark_jobs.submit", "spark_jobs/streaming.py", "--",
             "--available-now"],
            env=env, stdout=subprocess.PIPE, stderr=out, cwd=REPO, check=False,
        )  # fmt: skip
        out.write(done.stdout)  # the job logs its steps to stdout, with its result last
    if done.returncode != 0:
        raise SystemExit(f"error: the catch-up job failed; see {log}")
    result = last_json_object(done.stdout.decode().splitlines())
    if result is None:
        raise SystemExit(f"error: the catch-up job printed no JSON result; see {log}")
    return {
        "catchup_events": result["bronze_rows"],
        "catchup_s": result["caught_up_s"],
        "catchup_events_per_s": round(result["bronze_rows"] / result["caught_up_s"]),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="bench-stream",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--rate", type=float, default=100, help="events per second")
    parser.add_argument(
        "--warmup-seconds",
        type=float,
        default=60,
        help="at least this long of unmeasured traffic at the same rate first (warm-up)",
    )
    parser.add_argument(
        "--catchup-last-hour",
        type=int,
        default=130,
        help="G1 hourly files 0..N for catch-up (130: 1.16 million clicks)",
    )
    parser.add_argument("--skip-catchup", action="store_true")
    parser.add_argument("--skip-freshness", action="store_true")
    parser.add_argument(
        "--lake",
        choices=["disk", "s3"],
        default="disk",
        help="where the Delta lake lives: local disk (default) or the moto server's S3 via s3a",
    )
    args = parser.parse_args(argv)
    settings = get_settings()
    logs = settings.state_dir / "bench-stream"
    logs.mkdir(parents=True, exist_ok=True)
    tag = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
    if args.lake == "disk":
        settings = settings.model_copy(update={"lake_uri": own_lake(settings, "bench-stream", tag)})
    else:
        settings = settings.model_copy(update={"lake_uri": f"s3a://{settings.lake_bucket}"})
    server.start(settings)
    session_daemon.stop(settings)  # it would read the new streams from its old positions
    server.reset(settings)
    provision.provision(settings)
    session_daemon.start(settings)
    result: dict[str, Any] = {
        "rate_events_per_s": args.rate,
        "seconds": args.seconds,
        "warmup_seconds": args.warmup_seconds,
        "lake": args.lake,
    }
    if not args.skip_freshness:
        result |= freshness(settings, args.seconds, args.rate, args.warmup_seconds, logs)
    if not args.skip_catchup:
        result |= catch_up(settings, args.catchup_last_hour, logs)
    result["load_avg_1m"] = round(os.getloadavg()[0], 2)
    result["cores"] = os.cpu_count()
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
