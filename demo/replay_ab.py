"""``make replay-ab``: the reader-list experiment replayed end to end on G1 readers.

1. Samples readers among those clicking in the window's hourly files, and the history
   the nightly list needs (:func:`demo.ab_plan.sample`).
2. Resets the local platform (as ``make demo`` does), bulk-loads the history in real time
   ending now, and runs the nightly chain as of now for portal g1 in this process's Spark
   session (``spark_jobs.nightly.run``, what ``spark-submit spark_jobs/nightly.py`` runs):
   silver, ALS, the gate, and the personal lists published for the readers of the last
   days.
3. Starts the gateway and the service with the experiment enabled, signs the readers in
   with Cognito, and replays the window at the speed-up: before each click the reader's
   list in their variant (``GET .../users/{id}/recommendations``), then the click's
   ``view`` through ``POST /pageview``, as a click on the list (``rec_id``,
   ``rec_position``) when the article read is in it, else organic.
4. Lands what was sent (the retry queue, the Firehose stand-in, the impressions' shipper),
   runs the streaming catch-up and the ``rec_performance`` stage, and prints its
   experiment's figures as the last line (one JSON object).

Time: the live lists that run on the wall clock are scaled by the speed-up for the
replay's service and session-state poller (``scaled_settings`` in the JSON); the rest is
in demo/README.md ("make replay-ab").
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import shutil
import sys
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
from tqdm import tqdm

from demo import ab_plan
from demo.servers import running_gateway, running_service
from ingestion import (
    bulk_load,
    g1,
    local_firehose,
    local_impressions,
    replay,
    retry_worker,
    session_daemon,
)
from newslake import aws
from newslake.cli import run_command
from newslake.cognito import CognitoApp
from newslake.errors import NewslakeError
from newslake.local import keep, provision, server
from newslake.local.ports import free_port
from newslake.settings import Settings, get_settings

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

PORTAL = "g1"  # the G1 clicks are portal g1's pageviews (ingestion.g1)
PASSWORD = "Replay-ab-password-1"  # the sampled readers' (local Cognito only)
REQUEST_TIMEOUT_S = 10.0
HOUR_MS = 3_600_000


def _log(message: str) -> None:
    print(f"[replay-ab] {message}", file=sys.stderr, flush=True)


@contextlib.contextmanager
def patched_environ(values: Mapping[str, str]) -> Iterator[None]:
    """``values`` in this process's environment (so its children read them), restored after."""
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, old in saved.items():
            if old is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = old


class Phases:
    """Wall seconds of each step, for the JSON line."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextlib.contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        _log(f"{name} ...")
        started = time.monotonic()
        yield
        self.seconds[name] = round(time.monotonic() - started, 1)
        _log(f"{name} done in {self.seconds[name]}s")


# ---- steps --------------------------------------------------------------------------------
def load_sample(args: argparse.Namespace) -> ab_plan.Sample:
    sizes = g1.hour_sizes(args.data)
    last = args.first_hour + args.hours - 1
    if last >= len(sizes):
        raise NewslakeError(
            f"the window {args.first_hour}..{last} passes G1's last hourly file {len(sizes) - 1}"
        )
    clicks = g1.read_clicks(
        args.data, first_hour=max(0, args.first_hour - args.history_hours), last_hour=last
    )
    found = ab_plan.sample(
        clicks,
        first_hour=args.first_hour,
        readers=args.readers,
        history_share=args.history_share,
        seed=args.seed,
        window_ms=args.hours * HOUR_MS,
    )
    if not found.window:
        raise NewslakeError(f"hourly files {args.first_hour}..{last} hold no clicks")
    return found


def fresh_platform(settings: Settings) -> CognitoApp:
    """The local platform emptied and provisioned; the session-state poller restarted with
    this process's environment (the replay's scaled settings)."""
    server.start(settings)
    session_daemon.stop(settings)  # it would read the new streams from its old positions
    server.reset(settings)
    keep.forget(settings)  # the lake on disk and the kept tables too
    app = provision.provision(settings)
    session_daemon.start(settings)
    return app


def nightly_before(spark: SparkSession, settings: Settings, as_of: datetime) -> dict[str, Any]:
    """The nightly chain as of the window's start (``spark_jobs.nightly.run``, what
    ``spark-submit spark_jobs/nightly.py`` runs), for the replay's portal; its outcome."""
    from spark_jobs import nightly

    report = nightly.run(spark, settings, as_of=as_of, portals=(PORTAL,))
    outcome: dict[str, Any] = report.portals.get(PORTAL, {})
    return {"stages_s": report.stages_s} | {k: outcome.get(k) for k in ("status", "reason")}


def measure_after(spark: SparkSession, settings: Settings, as_of: datetime) -> dict[str, Any]:
    """The streaming catch-up, then the ``rec_performance`` stage as of ``as_of``; the
    stage's result. The catch-up publishes no live lists: nothing serves after the replay."""
    from spark_jobs import landing_query, nightly

    landing_query.catch_up(spark, settings.model_copy(update={"stream_publish_live": False}))
    measured: dict[str, Any] = nightly.measure(spark, settings, as_of)
    return measured


def sign_in(settings: Settings, app: CognitoApp, readers: Sequence[str]) -> dict[str, str]:
    """An access token for each reader (created in the pool), a few at a time, each thread
    with its own Cognito client."""
    local = threading.local()

    def token(reader: str) -> tuple[str, str]:
        if not hasattr(local, "cognito"):
            local.cognito = aws.client("cognito-idp", settings)
        cognito = local.cognito
        cognito.admin_create_user(UserPoolId=app.pool_id, Username=reader, MessageAction="SUPPRESS")
        cognito.admin_set_user_password(
            UserPoolId=app.pool_id, Username=reader, Password=PASSWORD, Permanent=True
        )
        answer = cognito.initiate_auth(
            ClientId=app.client_id,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": reader, "PASSWORD": PASSWORD},
        )
        return reader, str(answer["AuthenticationResult"]["AccessToken"])

    with (
        ThreadPoolExecutor(4) as pool,
        tqdm(total=len(readers), desc="sign in", unit="reader", file=sys.stderr) as bar,
    ):
        tokens = {}
        for reader, tok in pool.map(token, readers):
            tokens[reader] = tok
            bar.update(1)
    return tokens


def http_channel(
    client: httpx.Client, urls: Mapping[str, str], tokens: Mapping[str, str], limit: int
) -> ab_plan.Channel:
    """The reader's list with their own token, the view as the tracker's beacon."""

    def fetch(reader: str) -> Mapping[str, Any] | None:
        url = urls["list"].format(reader=reader)
        try:
            answer = client.get(
                url,
                params={"limit": limit},
                headers={"Authorization": f"Bearer {tokens[reader]}"},
            )
        except httpx.HTTPError:
            return None
        return answer.json() if answer.status_code == 200 else None

    post = replay.http_poster(client, urls["pageview"])
    return ab_plan.Channel(fetch, lambda event: post([event]) == 1)


def send(
    settings: Settings,
    clicks: Sequence[g1.Click],
    tokens: Mapping[str, str],
    args: argparse.Namespace,
) -> tuple[ab_plan.Tally, replay.TimeShift]:
    """The window's clicks through the service and the gateway, ``args.workers`` readers'
    clicks side by side; the tally and the replay's time shift."""
    base = f"http://{settings.serve_host}"
    urls = {
        "list": f"{base}:{settings.serve_port}/v1/portals/{PORTAL}/users/{{reader}}"
        "/recommendations",
        "pageview": f"{base}:{settings.gateway_port}/pageview",
    }
    started = time.time() + 1.0  # a second for the workers to start
    shift = replay.TimeShift(int(started * 1000), clicks[0].ts, args.speed_up)
    deadline = started + args.max_seconds
    tally = ab_plan.Tally()
    lock = threading.Lock()
    with tqdm(total=len(clicks), desc="replay", unit="click", file=sys.stderr) as bar:

        def progress(n: int) -> None:
            with lock:
                bar.update(n)

        def work(part: list[g1.Click]) -> ab_plan.Tally:
            with httpx.Client(timeout=REQUEST_TIMEOUT_S) as client:
                channel = http_channel(client, urls, tokens, args.limit)
                return ab_plan.replay_clicks(
                    part, shift, channel, deadline=deadline, progress=progress
                )

        with ThreadPoolExecutor(args.workers) as pool:
            for part in pool.map(work, ab_plan.partition(clicks, args.workers)):
                tally.add(part)
    return tally, shift


def land(settings: Settings, impressions_state: Path) -> dict[str, int]:
    """What was sent, into the landing bucket: the retry queue put back into Kinesis, the
    Firehose stand-in's delivery, and the service's impression lines."""
    sqs, kinesis, s3 = (aws.client(n, settings) for n in ("sqs", "kinesis", "s3"))
    queue_url = sqs.get_queue_url(QueueName=settings.retry_queue_name)["QueueUrl"]
    retry_worker.poll(sqs, queue_url, kinesis, settings, wait_s=1, once=True)
    delivered = local_firehose.deliver(settings, kinesis, s3)
    shipped = local_impressions.ship(
        settings.model_copy(update={"state_dir": impressions_state}), s3
    )
    return {"pageview_records": delivered.records, "impression_lines": shipped.lines}


# ---- the run ------------------------------------------------------------------------------
def replay_environment(settings: Settings, args: argparse.Namespace) -> dict[str, str]:
    """What the replay's processes read besides the platform's settings: the experiment
    enabled, the live windows scaled, free ports for its gateway and service."""
    scaled = ab_plan.scaled_live_settings(settings, args.speed_up)
    return {
        "NEWSLAKE_EXPERIMENTS": ab_plan.experiments_json(settings.experiments, args.experiment),
        "NEWSLAKE_SERVE_PORT": str(free_port()),
        "NEWSLAKE_GATEWAY_PORT": str(free_port()),
        **ab_plan.environment(scaled),
    }


def prepare(
    spark: SparkSession, settings: Settings, found: ab_plan.Sample, phases: Phases
) -> tuple[CognitoApp, dict[str, Any]]:
    """A fresh platform holding the history, and the nightly run as of its end."""
    with phases("platform"):
        app = fresh_platform(settings)
    end_ms = int(time.time() * 1000)
    with phases("history"):
        shift = ab_plan.history_shift(found.window[0].ts, end_ms)
        bulk_load.bulk_load(
            settings,
            aws.client("s3", settings),
            replay.replay_events(found.history, shift),
            total=len(found.history),
        )
    as_of = datetime.fromtimestamp(end_ms / 1000, UTC)
    with phases("nightly"):
        outcome = nightly_before(spark, settings, as_of)
    if outcome["status"] != "published":
        _log(f"the nightly run did not publish ({outcome['reason']}): "
             "the nightly variant serves trending and popular only")  # fmt: skip
    return app, {"as_of": as_of.isoformat(), **outcome}


def run(args: argparse.Namespace, base: Settings) -> dict[str, Any]:
    """The whole replay; the JSON line."""
    started, phases = time.monotonic(), Phases()
    load_before = os.getloadavg()[0]
    with phases("sample"):
        found = load_sample(args)
    work = base.state_dir / "replay-ab"
    shutil.rmtree(work, ignore_errors=True)  # the last replay's impressions and results
    work.mkdir(parents=True)
    env = replay_environment(base, args)
    with patched_environ(env):
        settings = Settings()
        from spark_jobs.session import get_spark

        spark = get_spark(settings, app_name="newslake-replay-ab")
        app, nightly = prepare(spark, settings, found, phases)
        readers = sorted({str(c.user_id) for c in found.window})
        with phases("sign_in"):
            tokens = sign_in(settings, app, readers)
        with phases("replay"):
            service_env = {"NEWSLAKE_STATE_DIR": str(work)}  # its impression lines: ours only
            with (
                running_service(settings, service_env, work / "service.log"),
                running_gateway(settings),
            ):
                tally, _ = send(settings, found.window, tokens, args)
        with phases("land"):
            landed = land(settings, work)
        with phases("catch_up_and_measure"):
            measured = measure_after(spark, settings, datetime.now(UTC))
    _restart_poller(base)
    figures = measured.get("experiments", {}).get(args.experiment, {})
    if not figures:
        raise NewslakeError(f"the lake holds no result of experiment {args.experiment}")
    return {
        **ab_plan.result_line(figures, tally),
        "experiment": args.experiment,
        "landed": landed,
        "nightly": nightly,
        "params": _params(args, found),
        "scaled_settings": ab_plan.scaled_live_settings(base, args.speed_up),
        "phases_s": phases.seconds,
        "wall_s": round(time.monotonic() - started, 1),
        "cores": os.cpu_count(),
        # Other work on the machine takes cores from the replay: read the times with these.
        "load_avg_1m": [round(load_before, 2), round(os.getloadavg()[0], 2)],
    }


def _restart_poller(settings: Settings) -> None:
    """The session-state poller back on the platform's own settings (the replay scaled its
    hot buckets)."""
    session_daemon.stop(settings)
    session_daemon.start(settings)


def _params(args: argparse.Namespace, found: ab_plan.Sample) -> dict[str, Any]:
    return {
        "readers": len(found.readers),
        "clicks": len(found.window),
        "history_clicks": len(found.history),
        "first_hour": args.first_hour,
        "hours": args.hours,
        "history_hours": args.history_hours,
        "history_share": args.history_share,
        "speed_up": args.speed_up,
        "list_limit": args.limit,
        "workers": args.workers,
        "max_seconds": args.max_seconds,
        "seed": args.seed,
    }


def parse_args(argv: Sequence[str] | None, settings: Settings) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m demo.replay_ab",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add = parser.add_argument
    add("--data", type=Path, default=g1.DEFAULT_DIR, help="G1 data folder")
    add(
        "--first-hour",
        type=int,
        default=settings.replay_ab_first_hour,
        help="window's first hourly file",
    )
    add("--hours", type=int, default=settings.replay_ab_hours, help="window's hourly files")
    add("--readers", type=int, default=settings.replay_ab_readers, help="readers sampled")
    add("--history-hours", type=int, default=settings.replay_ab_history_hours)
    add("--history-share", type=float, default=settings.replay_ab_history_share,
        help="share of the other readers whose history is loaded too")  # fmt: skip
    add("--speed-up", type=float, default=settings.replay_ab_speed_up, help="time factor")
    add("--limit", type=int, default=settings.replay_ab_list_limit, help="items a list shows")
    add("--workers", type=int, default=settings.replay_ab_workers)
    add("--max-seconds", type=float, default=settings.replay_ab_max_seconds,
        help="sending stops after this, whatever is left")  # fmt: skip
    add("--seed", type=int, default=settings.replay_ab_seed)
    add("--experiment", default=settings.replay_ab_experiment)
    args = parser.parse_args(argv)
    problems = _problems(args, settings)
    if problems:
        parser.error("; ".join(problems))
    return args


def _problems(args: argparse.Namespace, settings: Settings) -> list[str]:
    """What is wrong with the arguments, one phrase each (checked before anything runs)."""
    found = []
    if args.first_hour < 1 or args.hours < 1 or args.history_hours < 1:
        found.append("--first-hour, --hours and --history-hours must be at least 1")
    if args.readers < 1 or args.workers < 1:
        found.append("--readers and --workers must be at least 1")
    if not 0 <= args.history_share <= 1:
        found.append("--history-share must be from 0 to 1")
    if not args.speed_up > 0 or not args.max_seconds > 0:
        found.append("--speed-up and --max-seconds must be above 0")
    if not 1 <= args.limit <= 100:
        found.append("--limit must be 1..100")
    if args.experiment not in {e.name for e in settings.experiments}:
        known = ", ".join(e.name for e in settings.experiments)
        found.append(f"--experiment {args.experiment!r} is not configured (known: {known})")
    return found


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    for chatty in ("httpx", "py4j"):  # a line per request, per callback otherwise
        logging.getLogger(chatty).setLevel(logging.WARNING)
    settings = get_settings()
    args = parse_args(argv, settings)
    return run_command(lambda: run(args, settings))


if __name__ == "__main__":
    sys.exit(main())
