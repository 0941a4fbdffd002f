"""``make bench-serve``: how many recommendation requests/s the service sustains on loopback.

1. Starts a moto server of its own (no one else's reset or load in the figures) and
   signs in the bench portal's readers with the local Cognito (real access tokens, known
   and new readers).
2. For each shape of the service, ``store`` (DynamoDB on moto, with the service's caches)
   and ``memory`` (the same records in process: the service's own overhead), writes or
   builds the records (``serve_app.records``: 1,000 readers' lists and recent reads timed
   back from that moment, so their newest reads lend their live co-visitation lists, one
   for every article read, trending, popular), starts the service with uvicorn, then runs
   the load generator (``serve_load``, a process of its own) at rising rates for a few
   seconds each, and once more for ``--seconds`` (60) at the highest rate it sustained:
   every answer a 200, none degraded, the rate kept up with, p99 under ``--p99-cap-ms``.
   Then the same load, at the same rate and for as long, on the same server's bare route
   (fixed bytes the size of an answer, no token check, no store).
   In ``store``, last, the editorial control set of ``serve_app.controls`` (20 blocks, 2
   promotions) is written to the store and, once the service's copy has read it, the
   readers' load runs again at the same rate and for as long: the cost of applying the
   controls, in the same server.
3. Prints, as its last line, one JSON object with rps, p50_ms, p99_ms and errors of both,
   the service's CPU per reader's request over its CPU per bare request, and its CPU per
   reader's request without and with the controls (``controls``).

Everything shares the machine's cores: load generator, uvicorn and, in ``store``, moto;
each line says how much CPU each of them spent per request.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from benchmarks import serve_app
from benchmarks.stats import percentile
from newslake import aws, cognito
from newslake.editorial_store import DynamoControls
from newslake.errors import NewslakeError
from newslake.local import provision, server
from newslake.local.ports import free_port
from newslake.settings import Settings, get_settings
from newslake.store import item_record

PASSWORD = "Bench-serve-Passw0rd!"
RATES = (25, 50, 100, 200, 300, 400, 500, 750, 1_000, 1_250, 1_500, 2_000, 2_500)
KEPT_UP = 0.95  # achieved / target rate below which the service did not keep up
FAR_FUTURE = 4_102_444_800
REPO_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Summary:
    """One load run: requests/s answered, latency percentiles, what went wrong."""

    target_rps: float
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int  # no answer, or a status other than 200
    degraded: int  # 200 but served from fallbacks because a store read failed
    service_cpu_ms: float | None = None  # CPU of the service per request (all workers)
    moto_cpu_ms: float | None = None  # CPU of the moto server per request
    load_cpu_ms: float | None = None  # CPU of the load generator per request


def summarize(outcomes: Sequence[Sequence[float]], elapsed_s: float, target_rps: float) -> Summary:
    """The summary of ``(status, degraded, latency_ms)`` outcomes over ``elapsed_s``."""
    latencies = [float(o[2]) for o in outcomes]
    return Summary(
        target_rps=target_rps,
        rps=round(len(outcomes) / elapsed_s, 1) if elapsed_s > 0 else 0.0,
        p50_ms=round(percentile(latencies, 50), 2) if latencies else 0.0,
        p99_ms=round(percentile(latencies, 99), 2) if latencies else 0.0,
        requests=len(outcomes),
        errors=sum(1 for o in outcomes if o[0] != 200),
        degraded=sum(1 for o in outcomes if o[0] == 200 and o[1]),
    )


def sustained(summary: Summary, p99_cap_ms: float) -> bool:
    """No error, nothing degraded, the rate kept up with and no queue building up."""
    return (
        summary.requests > 0
        and summary.errors == 0
        and summary.degraded == 0
        and summary.rps >= KEPT_UP * summary.target_rps
        and summary.p99_ms <= p99_cap_ms
    )


def cpu_ratio(reader_cpu_ms: float | None, bare_cpu_ms: float | None) -> float | None:
    """How many bare requests' CPU one reader's request costs the service (None when
    either was not measured or the bare one spent no measurable CPU)."""
    if reader_cpu_ms is None or not bare_cpu_ms:
        return None
    return round(reader_cpu_ms / bare_cpu_ms, 2)


def highest_sustained(results: Sequence[Summary], p99_cap_ms: float) -> Summary | None:
    """The run of highest target rate among the sustained ones, if any."""
    good = [s for s in results if sustained(s, p99_cap_ms)]
    return max(good, key=lambda s: s.target_rps) if good else None


# ---- the platform: records and readers --------------------------------------------------
def seed_store(settings: Settings) -> int:
    """Write the bench portal's records, then its version pointer; returns the record count."""
    ddb = aws.client("dynamodb", settings)
    requests = [
        {"PutRequest": {"Item": item_record(pk, sk, items, FAR_FUTURE)}}
        for (pk, sk), items in serve_app.records().items()
    ]
    for i in range(0, len(requests), 25):
        pending: dict[str, Any] = {settings.recommendations_table: requests[i : i + 25]}
        while pending:
            pending = ddb.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
    ddb.put_item(
        TableName=settings.versions_table,
        Item={"portal": {"S": serve_app.PORTAL}, "active_version": {"S": serve_app.VERSION}},
    )
    return len(requests)


def sign_in(settings: Settings, users: Sequence[str]) -> dict[str, str]:
    """A Cognito access token for each user (created when missing), a few at a time."""
    app = cognito.find_cognito_app(settings)

    def token(user: str) -> tuple[str, str]:
        provision.ensure_user(settings, app, user, PASSWORD)
        return user, provision.login(settings, app, user, PASSWORD)

    with ThreadPoolExecutor(4) as pool:
        return dict(pool.map(token, users))


def write_controls(settings: Settings) -> tuple[int, int]:
    """The bench's editorial control set into the store; returns (blocks, promotions)."""
    store = DynamoControls(aws.client("dynamodb", settings), settings.recommendations_table)
    held = serve_app.controls(serve_app.records(), time.time())
    for block in held.blocks:
        store.block(serve_app.PORTAL, block)
    for promotion in held.promotions:
        store.promote(serve_app.PORTAL, promotion)
    return len(held.blocks), len(held.promotions)


# ---- the service and the load -----------------------------------------------------------
@contextmanager
def own_platform(base: Settings) -> Iterator[Settings]:
    """A moto server of the bench's own on a free port, provisioned, stopped at the end:
    nobody else's reset or load (a demo, a test run, another bench) lands in the figures."""
    settings = base.model_copy(
        update={"moto_port": free_port(), "state_dir": base.state_dir / "bench-serve"}
    )
    server.start(settings)
    try:
        provision.provision(settings)
        yield settings
    finally:
        server.stop(settings)


@contextmanager
def service(
    settings: Settings, mode: str, port: int, workers: int, log: Path
) -> Iterator[tuple[str, int]]:
    """uvicorn serving ``mode`` on 127.0.0.1:``port`` until the block ends; yields its URL
    and process id."""
    env = {
        **os.environ,
        "NEWSLAKE_PORTALS": ",".join((*settings.portals, serve_app.PORTAL)),
        "NEWSLAKE_MOTO_PORT": str(settings.moto_port),
        "NEWSLAKE_STATE_DIR": str(settings.state_dir),
    }
    command = [
        sys.executable, "-m", "uvicorn", f"benchmarks.serve_app:{mode}_app", "--factory",
        "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
        "--http", "httptools", "--loop", "uvloop",  # what "auto" picks, but never h11 silently
        "--no-access-log", "--log-level", "warning",
    ]  # fmt: skip
    with log.open("ab") as out:
        proc = subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=out, stderr=out)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(url, proc, log)
        yield url, proc.pid
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _wait_ready(url: str, proc: subprocess.Popen[bytes], log: Path, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise NewslakeError(f"the service exited with {proc.returncode}; see {log}")
        try:
            with urllib.request.urlopen(f"{url}/readyz", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.25)
    raise NewslakeError(f"the service at {url} was not ready within {timeout_s:.0f}s; see {log}")


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of a process and its children so far (Linux /proc)."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone meanwhile
        if stat.parent.name == str(pid) or fields[1] == str(pid):  # fields[1]: parent pid
            total += int(fields[11]) + int(fields[12])  # utime, stime in clock ticks
    return total / os.sysconf("SC_CLK_TCK")


def load(
    url: str,
    tokens: Path,
    rate: float,
    seconds: float,
    args: argparse.Namespace,
    *,
    bare_path: str | None = None,
) -> Summary:
    """One run of the load generator in its own process (on ``bare_path`` instead of the
    readers' lists when given), with the CPU the service (and moto) spent on it."""
    out = tokens.with_name("bench-serve-outcomes.json")
    command = [
        sys.executable, "-m", "benchmarks.serve_load", "--url", url, "--tokens", str(tokens),
        "--out", str(out), "--portal", serve_app.PORTAL, "--rate", str(rate),
        "--seconds", str(seconds), "--connections", str(args.connections),
        "--known-share", str(args.known_share), "--max-requests", str(int(rate * seconds) + 1),
    ]  # fmt: skip
    if bare_path is not None:
        command += ["--bare-path", bare_path]
    watched = {"service": args.service_pid, "moto": args.moto_pid}
    before = {name: cpu_seconds(pid) for name, pid in watched.items() if pid}
    load_before = _children_cpu_s()
    subprocess.run(command, cwd=REPO_ROOT, check=True, timeout=seconds + 120)
    spent = {name: cpu_seconds(watched[name]) - cpu for name, cpu in before.items()}
    spent["load"] = _children_cpu_s() - load_before
    result = json.loads(out.read_text())
    summary = summarize(result["outcomes"], result["elapsed_s"], rate)
    per_request = {n: round(1000 * s / max(summary.requests, 1), 3) for n, s in spent.items()}
    return replace(
        summary,
        service_cpu_ms=per_request.get("service"),
        moto_cpu_ms=per_request.get("moto"),
        load_cpu_ms=per_request["load"],
    )


def _children_cpu_s() -> float:
    """CPU (user + system) of this process's waited-for children so far: the load runs."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measure(url: str, tokens: Path, args: argparse.Namespace) -> tuple[Summary, list[Summary]]:
    """Steps the rate up until the service stops keeping up, then holds the best for
    ``args.seconds``; steps down (at most twice) if the long run does not sustain it."""
    load(url, tokens, RATES[0], 3, args)  # warm-up: connections, caches, keys
    steps: list[Summary] = []
    for step in RATES:
        steps.append(load(url, tokens, step, args.step_seconds, args))
        _show(f"  step {step:>5} req/s", steps[-1], args.p99_cap_ms)
        if not sustained(steps[-1], args.p99_cap_ms):
            break
    best = highest_sustained(steps, args.p99_cap_ms)
    rate = best.target_rps if best else float(RATES[0])
    for _ in range(3):
        final = load(url, tokens, rate, args.seconds, args)
        _show(f"  held {rate:>5.0f} req/s for {args.seconds:.0f}s", final, args.p99_cap_ms)
        if sustained(final, args.p99_cap_ms) or rate <= RATES[0]:
            break
        rate = float(max(RATES[0], round(rate * 0.85)))
    return final, steps


def _show(label: str, s: Summary, p99_cap_ms: float) -> None:
    verdict = "sustained" if sustained(s, p99_cap_ms) else "NOT sustained"
    cpu = f"; CPU/request: service {s.service_cpu_ms} ms" if s.service_cpu_ms is not None else ""
    cpu += f", moto {s.moto_cpu_ms} ms" if s.moto_cpu_ms is not None else ""
    cpu += f", load generator {s.load_cpu_ms} ms" if s.load_cpu_ms is not None else ""
    print(
        f"{label}: {s.rps:.0f} req/s, p50 {s.p50_ms:.1f} ms, p99 {s.p99_ms:.1f} ms, "
        f"{s.errors} errors, {s.degraded} degraded of {s.requests} -> {verdict}{cpu}",
        flush=True,
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_serve", description=__doc__)
    parser.add_argument("--seconds", type=float, default=60.0, help="the held run")
    parser.add_argument("--step-seconds", type=float, default=8.0)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--known-share", type=float, default=0.85)
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    parser.add_argument("--p99-cap-ms", type=float, default=50.0, help="above: a queue builds")
    parser.add_argument("--modes", default="store,memory")
    args = parser.parse_args(argv)
    try:
        with own_platform(get_settings()) as settings:
            report = run(settings, args)
    except (NewslakeError, subprocess.CalledProcessError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(report))
    return 0


def run(settings: Settings, args: argparse.Namespace) -> dict[str, Any]:
    """Sign in, then seed and measure each mode; returns the report (the last line)."""
    load_before = os.getloadavg()[0]
    started = time.monotonic()
    known = [serve_app.known_user(i) for i in range(serve_app.KNOWN_USERS)]
    new = [serve_app.new_user(i) for i in range(serve_app.NEW_USERS)]
    tokens = sign_in(settings, known + new)
    token_file = settings.state_dir / "bench-serve-tokens.json"
    token_file.write_text(json.dumps({"known": known, "new": new, "tokens": tokens}))
    print(
        f"== {len(tokens)} Cognito readers ({len(known)} known, {len(new)} new) on "
        f"{settings.endpoint_url} in {time.monotonic() - started:.0f}s; "
        f"{os.cpu_count()} cores, load average {load_before:.1f}",
        flush=True,
    )
    finals = {
        mode: measure_mode(settings, mode, token_file, args) for mode in args.modes.split(",")
    }
    store = finals.get("store") or {}
    controls = store.pop("controls", None)
    return {
        "store": finals.get("store"),
        "own_overhead": finals.get("memory"),
        # The service as deployed (store): its CPU per reader's request, and over a bare one.
        "reader_cpu_ms_per_request": store.get("service_cpu_ms"),
        "bare_cpu_ms_per_request": store.get("bare_cpu_ms_per_request"),
        "reader_over_bare_cpu": store.get("reader_over_bare_cpu"),
        # The same reader's request with the editorial controls applied, and its CPU ratio.
        "controls": controls,
        "workers": args.workers,
        "cores": os.cpu_count(),
        "known_share": args.known_share,
        # Other work on the machine takes cores from the bench: read the figures with these.
        "loadavg_1m": [round(load_before, 2), round(os.getloadavg()[0], 2)],
    }


def measure_mode(
    settings: Settings, mode: str, token_file: Path, args: argparse.Namespace
) -> dict[str, Any]:
    """One mode: its records written now (so the reads lend), the readers' load, then the
    bare route's at the held rate; the held run's summary with the bare figures."""
    if mode == "store":
        started = time.monotonic()
        records = seed_store(settings)
        print(f"== {records} records written in {time.monotonic() - started:.0f}s", flush=True)
    print(f"== {mode}: uvicorn x{args.workers}", flush=True)
    log = settings.state_dir / f"bench-serve-{mode}.log"
    with service(settings, mode, free_port(), args.workers, log) as (url, pid):
        args.service_pid = pid
        args.moto_pid = int(settings.moto_pid_file.read_text()) if mode == "store" else 0
        final, _ = measure(url, token_file, args)
        rate = final.target_rps
        bare = load(url, token_file, rate, args.seconds, args, bare_path=serve_app.BARE_PATH)
        _show(f"  bare {rate:>5.0f} req/s for {args.seconds:.0f}s", bare, args.p99_cap_ms)
        controls = with_controls(settings, url, token_file, final, args) if mode == "store" else {}
    ratio = cpu_ratio(final.service_cpu_ms, bare.service_cpu_ms)
    print(f"  service CPU per reader's request over a bare one: {ratio}x", flush=True)
    return {
        **asdict(final),
        "sustained": sustained(final, args.p99_cap_ms),
        "bare_cpu_ms_per_request": bare.service_cpu_ms,
        "reader_over_bare_cpu": ratio,
        "bare": asdict(bare),
        **({"controls": controls} if controls else {}),
    }


def with_controls(
    settings: Settings, url: str, token_file: Path, without: Summary, args: argparse.Namespace
) -> dict[str, Any]:
    """The control set written, then the readers' load of ``without`` again once every
    worker's copy has read it (two refreshes); its CPU per request against ``without``'s."""
    blocks, promotions = write_controls(settings)
    time.sleep(2 * settings.editorial_refresh_s + 0.5)
    rate = without.target_rps
    run = load(url, token_file, rate, args.seconds, args)
    label = f"  with {blocks} blocks, {promotions} promotions {rate:>5.0f} req/s"
    _show(label, run, args.p99_cap_ms)
    ratio = cpu_ratio(run.service_cpu_ms, without.service_cpu_ms)
    print(
        f"  service CPU per reader's request with the controls over without: {ratio}x", flush=True
    )
    return {
        "blocks": blocks,
        "promotions": promotions,
        "without_cpu_ms_per_request": without.service_cpu_ms,
        "with_cpu_ms_per_request": run.service_cpu_ms,
        "with_over_without_cpu": ratio,
        "sustained": sustained(run, args.p99_cap_ms),
        "run": asdict(run),
    }


if __name__ == "__main__":
    sys.exit(main())
