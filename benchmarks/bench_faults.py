"""make bench-faults: the serving store stopped under load, and the streaming job killed
with SIGKILL at random points of its micro-batches; counts 5xx, and what silver lost or
holds twice.

The store: on a moto server of its own, three of bench-serve's readers ask for their lists
from threads while a proxy in front of the store drops every connection for
``--store-outage-s`` (30; 0 skips it). ``store_5xx`` must be 0; ``store_degraded_down``
counts the degraded 200s while it was down, ``store_fresh_after`` the fresh ones after.

The streaming job:
lands ``--objects`` GZIP objects of ``--events`` pageviews each (every tenth object delivers
one event of the previous object again, as at-least-once collection does) under a landing
prefix of its own, with a lake of its own where the platform keeps its lake by default, on
local disk, under ``state_dir/bench-faults/<time>`` (:mod:`benchmarks.lake`; always on
disk, whatever ``NEWSLAKE_LAKE_URI`` says: the kill points are found in the checkpoint's
files). Then ``--kills`` times: starts the catch-up
(``spark_jobs/streaming.py --available-now``, ``--files-per-batch`` objects a micro-batch),
waits until a micro-batch is under way (its offsets written, its commit not), waits a
random 0 to ``--max-delay-s`` more and kills the job's whole process group with SIGKILL.
A last run catches up to the end. ``lost`` counts landed events missing from
silver.events, ``duplicated`` events held more than once; both must be 0
(``--kills 0`` skips it).

The last line on stdout is one JSON object; the exit code is 1 when a count that must be 0
is not. The tests inject the same faults for seconds, and the moto server killed under
ingest load (benchmarks/README.md#bench-faults).
"""

from __future__ import annotations

import argparse
import gzip
import json
import logging
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.lake import own_lake
from newslake import aws
from newslake.local import provision, server
from newslake.settings import Settings, get_settings
from spark_jobs.tables import StreamPaths

REPO = Path(__file__).resolve().parent.parent
T0 = 1_767_268_800_000  # 2026-01-01T12:00:00Z, the landed events' clock
JOB_DEADLINE_S = 600.0


def _event(event_id: str, n: int) -> dict[str, Any]:
    """A landed view of g1: the collector's record, ``server_ts`` included."""
    return {
        "event_id": event_id,
        "event_type": "view",
        "portal": "g1",
        "user_id": f"u{n % 50}",
        "session_id": f"s{n % 50}",
        "pageview_id": f"pv-{event_id}",
        "url": f"https://g1.globo.com/noticia/a{n % 200}.html",
        "article_id": f"a{n % 200}",
        "client_ts": T0 + n,
        "server_ts": T0 + n + 500,
    }


def land(settings: Settings, objects: int, per_object: int) -> set[str]:
    """Land the objects; returns every event id landed (each once, however often sent)."""
    s3 = aws.client("s3", settings)
    ids: set[str] = set()
    for o in range(objects):
        events = [_event(f"o{o}-e{i}", o * per_object + i) for i in range(per_object)]
        if o % 10 == 9:  # delivered again by the collector
            events.append(_event(f"o{o - 1}-e0", (o - 1) * per_object))
        ids |= {e["event_id"] for e in events}
        body = gzip.compress("".join(json.dumps(e) + "\n" for e in events).encode())
        key = f"{settings.landing_prefix}/portal=g1/year=2026/month=01/day=01/hour=12/o{o}.json.gz"
        s3.put_object(Bucket=settings.landing_bucket, Key=key, Body=body)
    return ids


def _batches(checkpoint: Path, kind: str) -> set[int]:
    folder = checkpoint / kind
    return {int(p.name) for p in folder.iterdir() if p.name.isdigit()} if folder.exists() else set()


def batch_under_way(checkpoint: Path) -> int | None:
    """The micro-batch whose offsets are written and whose commit is not, if any."""
    pending = _batches(checkpoint, "offsets") - _batches(checkpoint, "commits")
    return max(pending) if pending else None


def _spawn(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "spark_jobs.submit", "spark_jobs/streaming.py", "--"]
    with log.open("ab") as out:
        return subprocess.Popen(
            [*command, "--available-now"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=REPO,
            start_new_session=True,  # its own group: spark-submit, the JVM and Python
        )


def kill_mid_batch(
    env: dict[str, str], checkpoint: Path, log: Path, delay_s: float
) -> dict[str, Any]:
    """Start the job, SIGKILL it ``delay_s`` after a micro-batch is seen under way."""
    proc = _spawn(env, log)
    deadline = time.monotonic() + JOB_DEADLINE_S
    batch = None
    while batch is None and proc.poll() is None and time.monotonic() < deadline:
        batch = batch_under_way(checkpoint)
        time.sleep(0.05)
    if proc.poll() is not None:
        return {"killed": False, "exit_code": proc.returncode}  # done before a batch was seen
    time.sleep(delay_s)
    under_way = batch_under_way(checkpoint)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    return {"killed": True, "batch": batch, "delay_s": round(delay_s, 2), "mid": under_way}


def silver_event_ids(settings: Settings) -> list[str]:
    """Every event id silver.events holds, repeats included (a SparkSession of our own)."""
    from spark_jobs.session import get_spark

    spark = get_spark(settings, app_name="bench-faults-check")
    try:
        rows = spark.read.format("delta").load(StreamPaths.of(settings).events).collect()
        return [r.event_id for r in rows]
    finally:
        spark.stop()


def stream_kills(settings: Settings, args: argparse.Namespace, logs: Path) -> dict[str, Any]:
    landed = land(settings, args.objects, args.events)
    env = dict(
        os.environ,
        PYTHONPATH=str(REPO),
        NEWSLAKE_LANDING_PREFIX=settings.landing_prefix,
        NEWSLAKE_LAKE_URI=settings.lake_root,
        NEWSLAKE_STREAM_PUBLISH_LIVE="false",  # landing to silver only
        NEWSLAKE_STREAM_MAX_FILES_PER_TRIGGER=str(args.files_per_batch),
    )
    checkpoint = Path(StreamPaths.of(settings).checkpoint.removeprefix("file://"))
    rng = random.Random(args.seed)
    kills = []
    for k in range(args.kills):
        print(f"run {k + 1}: kill within a micro-batch...", file=sys.stderr)
        kills.append(
            kill_mid_batch(env, checkpoint, logs / "stream.log", rng.uniform(0, args.max_delay_s))
        )
    print("last run: catch up to the end...", file=sys.stderr)
    final = _spawn(env, logs / "stream.log")
    if final.wait(JOB_DEADLINE_S) != 0:
        raise SystemExit(f"error: the last catch-up failed; see {logs / 'stream.log'}")
    held = Counter(silver_event_ids(settings))
    return {
        "landed_events": len(landed),
        "kills": sum(k["killed"] for k in kills),
        "killed_mid_batch": sum(k.get("mid") is not None for k in kills),
        "kill_points": kills,
        "silver_events": sum(held.values()),
        "lost": len(landed - set(held)),
        "duplicated": sum(n - 1 for n in held.values() if n > 1),
    }


def store_outage(base: Settings, outage_s: float) -> dict[str, Any]:
    """Readers' lists under load while the store is stopped for ``outage_s``."""
    from starlette.testclient import TestClient

    from benchmarks import serve_app
    from benchmarks.bench_serve import own_platform, seed_store, sign_in
    from newslake.local.fault_load import ReaderLoad, stop_the_store
    from newslake.local.fault_proxy import SlowProxy
    from serving.main import create_app

    url = f"/v1/portals/{serve_app.PORTAL}/users/{{user}}/recommendations"
    with own_platform(base) as platform:
        settings = platform.model_copy(update={"portals": (*platform.portals, serve_app.PORTAL)})
        seed_store(settings)
        tokens = sign_in(settings, [serve_app.known_user(i) for i in range(3)])
        readers = {user: {"Authorization": f"Bearer {t}"} for user, t in tokens.items()}
        with SlowProxy(settings.moto_port) as proxy:
            via = settings.model_copy(update={"moto_port": proxy.port, "serving_access_log": False})
            print(f"store stopped for {outage_s:.0f} s under load...", file=sys.stderr)
            app = create_app(via, impressions=logging.NullHandler())  # answers are not data here
            with TestClient(app) as client, ReaderLoad(client, url, readers) as load:
                stop_the_store(load, proxy, outage_s, via.serving_breaker_open_s + 2.0, 3.0)
    statuses = load.statuses()
    return {
        "store_outage_s": outage_s,
        "store_requests": sum(statuses.values()),
        "store_statuses": {str(s): n for s, n in sorted(statuses.items())},
        "store_5xx": sum(n for s, n in statuses.items() if s >= 500),
        "store_degraded_down": load.degraded("down")[True],
        "store_fresh_after": load.degraded("after")[False],
        "store_degraded_after": load.degraded("after")[True],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="bench-faults",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--store-outage-s", type=float, default=30.0, help="the store stopped this long (0: skip)"
    )
    parser.add_argument("--kills", type=int, default=5, help="SIGKILLs of the streaming job")
    parser.add_argument("--objects", type=int, default=24, help="landing objects")
    parser.add_argument("--events", type=int, default=100, help="events per object")
    parser.add_argument("--files-per-batch", type=int, default=4, help="objects a micro-batch")
    parser.add_argument(
        "--max-delay-s",
        type=float,
        default=20.0,
        help="kill within this long of seeing a batch under way (about a batch's time)",
    )
    parser.add_argument("--seed", type=int, default=None, help="the kill points' seed")
    args = parser.parse_args(argv)
    args.seed = random.SystemRandom().randrange(2**32) if args.seed is None else args.seed
    settings = get_settings()
    tag = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
    logs = (settings.state_dir / "bench-faults" / f"{tag}-logs").resolve()
    logs.mkdir(parents=True, exist_ok=True)
    settings = settings.model_copy(
        update={
            "lake_uri": own_lake(
                settings.model_copy(update={"lake_uri": None}), "bench-faults", tag
            ),
            "landing_prefix": f"bench-faults-{tag}/pageviews",
        }
    )
    server.start(settings)
    provision.provision(settings)
    result: dict[str, Any] = {"seed": args.seed}
    if args.store_outage_s > 0:
        result |= store_outage(settings, args.store_outage_s)
    if args.kills > 0:
        result |= stream_kills(settings, args, logs)
    result["load_avg_1m"] = round(os.getloadavg()[0], 2)
    result["cores"] = os.cpu_count()
    print(json.dumps(result))
    must_be_0 = ("store_5xx", "lost", "duplicated")
    return 1 if any(result.get(name, 0) for name in must_be_0) else 0


if __name__ == "__main__":
    sys.exit(main())
