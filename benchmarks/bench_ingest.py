"""``make bench-ingest``: events/s and latency of ``POST /pageview`` over HTTP, and no loss.

The platform of ``make up`` (its moto server) is reset and provisioned, so every count is
exact. The gateway (``python -m ingestion.gateway --workers N``) and the load generator
(``python -m benchmarks.ingest_load``) run as processes of their own. The load generator
sends tracker batches (10 to 20 valid events of one reader on one portal, current
``client_ts``, unique event ids) over at most ``--connections`` keep-alive connections for
``--seconds``, offered at ``--rate`` events/s (``--rate 0``: as fast as the gateway answers).
A request's latency runs from the moment it was due, so a gateway that falls behind the rate
shows it in p99 instead of quietly slowing the load down (no coordinated omission).

Afterwards the retry queue is drained into Kinesis, the Firehose stand-in delivers once and
the landing objects are read back: ``landed`` counts the distinct event ids found there,
``lost`` those answered 200 that did not land, ``duplicates`` the extra copies.

Progress goes to stderr; the last line on stdout is one JSON object.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from benchmarks import procs
from benchmarks.ingest_load import (
    HEADERS,
    REQUEST_TIMEOUT_S,
    Sent,
    batch_range,
    event_id,
    tracker_batch,
)
from benchmarks.stats import percentile
from ingestion import local_firehose, retry_worker, session_daemon
from newslake import aws
from newslake.local import provision, server
from newslake.local.ports import free_port
from newslake.settings import Settings, get_settings

REPO = Path(__file__).resolve().parent.parent
READY_TIMEOUT_S = 60.0


# ---- arithmetic (tests/benchmarks/test_bench_helpers.py) --------------------------------


def summarize(sent: Sequence[Sent], elapsed_s: float) -> dict[str, Any]:
    """The load's figures: accepted events per second of ``elapsed_s``, the latency of every
    request (errors included: the tracker waited for those too), and the counts.

    Raises:
        ValueError: no requests, or no time.
    """
    if not sent or elapsed_s <= 0:
        raise ValueError("no requests were sent")
    latencies = [s.latency_ms for s in sent]
    events = sum(s.events for s in sent)
    accepted = sum(s.events for s in sent if s.ok)
    return {
        "events_per_s": round(accepted / elapsed_s, 1),
        "p50_ms": round(percentile(latencies, 50), 1),
        "p99_ms": round(percentile(latencies, 99), 1),
        "errors": sum(not s.ok for s in sent),
        "sent": events,
        "accepted": accepted,
        "requests": len(sent),
        "events_per_request": round(events / len(sent), 1),
    }


def accepted_ids(sent: Iterable[Sent], run: str) -> set[str]:
    """The event ids of every batch answered 200."""
    return {event_id(run, s.first_seq + i) for s in sent if s.ok for i in range(s.events)}


def landing_check(landed: Iterable[str], accepted: set[str], run: str) -> dict[str, int]:
    """Compare the event ids found in the landing zone with the accepted ones.

    Returns ``landed`` (distinct ids of this run), ``lost`` (accepted, not landed),
    ``duplicates`` (copies beyond the first) and ``unexpected`` (landed without a 200, e.g.
    from a request that timed out after the handler had stored it).
    """
    counts = Counter(i for i in landed if i.startswith(f"{run}-e"))
    found = set(counts)
    return {
        "landed": len(found),
        "lost": len(accepted - found),
        "duplicates": sum(counts.values()) - len(found),
        "unexpected": len(found - accepted),
    }


# ---- IO: platform, gateway, landing zone ------------------------------------------------


def landed_event_ids(settings: Settings, s3: Any) -> Iterator[str]:
    """The event id of every line of every landing object."""
    pages = s3.get_paginator("list_objects_v2").paginate(
        Bucket=settings.landing_bucket, Prefix=f"{settings.landing_prefix}/"
    )
    for page in pages:
        for obj in page.get("Contents", []):
            body = s3.get_object(Bucket=settings.landing_bucket, Key=obj["Key"])["Body"].read()
            for line in gzip.decompress(body).splitlines():
                yield str(json.loads(line)["event_id"])


def _wait_ready(url: str, proc: subprocess.Popen[bytes], log: Path, workers: int) -> None:
    """Every worker has started its app and the handler answers (400 to an empty event)."""
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"error: the gateway exited:\n{log.read_text()[-3000:]}")
        if log.read_text().count("Application startup complete") >= workers:
            try:
                if httpx.post(url, content="{}", headers=HEADERS, timeout=2).status_code == 400:
                    return
            except httpx.HTTPError:
                pass
        time.sleep(0.1)
    raise SystemExit(
        f"error: the gateway was not ready in {READY_TIMEOUT_S:.0f}s:\n{log.read_text()[-3000:]}"
    )


def _warm_up(url: str, domains: dict[str, str], workers: int) -> None:
    """A few valid batches on fresh connections, so that every worker has built its clients.
    Their ids (run ``warmup``) are not counted."""
    rng = random.Random(0)
    for n in range(8 * workers):
        portal = sorted(domains)[n % len(domains)]
        events = tracker_batch(
            rng,
            run="warmup",
            first_seq=2 * n,
            size=2,
            portal=portal,
            domain=domains[portal],
            now_ms=int(time.time() * 1000),
        )
        body = json.dumps({"events": events})
        httpx.post(url, content=body, headers=HEADERS, timeout=REQUEST_TIMEOUT_S)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """Stop the gateway and its workers (their own process group)."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def _portal_domains(settings: Settings) -> dict[str, str]:
    missing = [p for p in settings.portals if not settings.portal_domains.get(p)]
    if missing:
        raise SystemExit(f"error: no domain for portals {missing}: set NEWSLAKE_PORTAL_DOMAINS")
    return {p: settings.portal_domains[p][0] for p in settings.portals}


def _env(**extra: str) -> dict[str, str]:
    """This environment (NEWSLAKE_* included) for a child process, with the repo importable."""
    env = {**os.environ, **extra}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    return env


@contextmanager
def _gateway(workers: int, domains: dict[str, str]) -> Iterator[tuple[str, list[int]]]:
    """``python -m ingestion.gateway`` on a free port, ready and warmed up, stopped on exit.

    Yields its URL and the process ids of the gateway and its workers.
    """
    port = free_port()
    url = f"http://127.0.0.1:{port}/pageview"
    env = _env(NEWSLAKE_SERVE_HOST="127.0.0.1", NEWSLAKE_GATEWAY_PORT=str(port))
    command = [sys.executable, "-m", "ingestion.gateway", f"--workers={workers}", "--no-access-log"]
    with tempfile.TemporaryDirectory(prefix="bench-ingest-gateway-") as tmp:
        log = Path(tmp) / "gateway.log"
        with log.open("wb") as out:
            # Its own process group, so that its workers stop with it.
            proc = subprocess.Popen(
                command,
                cwd=REPO,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            _wait_ready(url, proc, log, workers)
            _warm_up(url, domains, workers)
            yield url, procs.group(proc.pid)
        finally:
            _stop(proc)


def _load(
    args: argparse.Namespace, url: str, run: str, watched: dict[str, list[int]]
) -> tuple[dict[str, Any], dict[str, float]]:
    """Run the load generator's process. Returns what it wrote, and the CPU seconds that it
    and each group of ``watched`` processes spent on the load."""
    before = {name: procs.cpu_seconds(pids) for name, pids in watched.items()}
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
        out = Path(tmp) / "sent.json"
        command = [
            sys.executable,
            "-m",
            "benchmarks.ingest_load",
            f"--url={url}",
            f"--out={out}",
            f"--run={run}",
            f"--seconds={args.seconds}",
            f"--rate={args.rate}",
            f"--connections={args.connections}",
            f"--batch={args.batch[0]}-{args.batch[1]}",
            f"--max-requests={args.max_requests}",
            f"--seed={args.seed}",
        ]
        if subprocess.run(command, cwd=REPO, env=_env(), timeout=args.seconds + 120).returncode:
            raise SystemExit("error: the load generator failed (its error is above)")
        result = dict(json.loads(out.read_text()))
    cpu = {name: procs.cpu_seconds(pids) - before[name] for name, pids in watched.items()}
    return result, {**cpu, "load_generator": float(result["cpu_s"])}


def bench(args: argparse.Namespace) -> dict[str, Any]:
    """Reset the platform, run the load through a gateway, then check the landing zone."""
    settings = get_settings()
    if settings.profile != "local" or not server.is_running(settings):
        raise SystemExit(f"error: no local platform at {settings.endpoint_url}: run `make up`")
    domains = _portal_domains(settings)
    load_before = os.getloadavg()
    print(f"== resetting the local platform at {settings.endpoint_url}", file=sys.stderr)
    session_daemon.stop(settings)  # it would read the new streams from its old positions
    server.reset(settings)
    provision.provision(settings)
    session_daemon.start(settings)

    run = secrets.token_hex(4)
    with _gateway(args.workers, domains) as (url, gateway_pids):
        offered = f"{args.rate:.0f} events/s" if args.rate else "full speed"
        print(
            f"== {args.seconds:.0f}s of {args.batch[0]}-{args.batch[1]}-event batches at "
            f"{offered}, {args.connections} connections, {args.workers} gateway worker(s)",
            file=sys.stderr,
            flush=True,
        )
        moto = procs.moto_pid(settings)  # known when `make up` started it
        watched = {"gateway": gateway_pids, **({"moto": [moto]} if moto else {})}
        result, cpu = _load(args, url, run, watched)
        load_avg = os.getloadavg()
    sent = [Sent(**s) for s in result["sent"]]

    print("== retry queue -> Kinesis; Firehose stand-in -> S3; reading back", file=sys.stderr)
    started = time.monotonic()
    sqs, kinesis, s3 = (aws.client(name, settings) for name in ("sqs", "kinesis", "s3"))
    queue_url = sqs.get_queue_url(QueueName=settings.retry_queue_name)["QueueUrl"]
    retried = retry_worker.poll(sqs, queue_url, kinesis, settings, wait_s=1, once=True)
    local_firehose.deliver(settings, kinesis, s3)
    check = landing_check(landed_event_ids(settings, s3), accepted_ids(sent, run), run)
    verdict = "every accepted event landed once" if not check["lost"] else "EVENTS WERE LOST"
    print(f"== {verdict}: {json.dumps(check)}", file=sys.stderr)
    return {
        **summarize(sent, result["elapsed_s"]),
        **check,
        "retried": retried.put_back,
        "seconds": round(result["elapsed_s"], 1),
        "gateway_workers": args.workers,
        "rate": args.rate,
        "connections": args.connections,
        # CPU per request of each process: on n cores, n x 1000 ms / their sum bounds requests/s.
        "cpu_ms_per_request": {name: round(1000 * sec / len(sent), 2) for name, sec in cpu.items()},
        "load_avg": [round(x, 2) for x in load_avg],
        "load_avg_before": [round(x, 2) for x in load_before],
        "verify_s": round(time.monotonic() - started, 1),
    }


def _positive_int(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {number}")
    return number


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.bench_ingest",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--seconds", type=float, default=60.0, help="load time (60)")
    parser.add_argument(
        "--rate", type=float, default=2100.0, help="events/s offered; 0: as fast as answered"
    )
    parser.add_argument("--connections", type=_positive_int, default=16, help="at most in flight")
    parser.add_argument(
        "--workers",
        type=_positive_int,
        default=3,
        help="gateway processes (3); each takes one request at a time, as a Lambda instance does",
    )
    parser.add_argument("--batch", type=batch_range, default=(10, 20), help="LOW-HIGH events")
    parser.add_argument("--max-requests", type=_positive_int, default=100_000, help="a bound")
    parser.add_argument("--seed", type=int, default=1, help="of the generated traffic")
    args = parser.parse_args(argv)
    print(json.dumps(bench(args)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
