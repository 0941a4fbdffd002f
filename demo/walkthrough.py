"""The demo's steps, in the order the data flows:

tracker events (synthetic) -> POST /pageview handler -> Kinesis per portal -> local Firehose
-> S3 landing -> spark-submit nightly job (bronze, silver, interactions, ALS, popular)
-> DynamoDB -> FastAPI recommendations, called with a Cognito token (200) and without (401);
then one reader reads two articles through the local gateway (POST /pageview -> Kinesis ->
the session-state poller -> DynamoDB) and their list is asked again until the two leave it.
"""

from __future__ import annotations

import json
import sys
import time
from collections import Counter
from datetime import UTC, datetime

from demo import fresh_read
from demo.pageviews import send_events
from demo.servers import REPO_ROOT, running_service
from demo.service import ask_as_readers
from ingestion import local_firehose, session_daemon
from ingestion.schema import Pageview
from ingestion.synthetic import TrafficSpec, generate
from newslake import aws
from newslake.cognito import CognitoApp
from newslake.errors import NewslakeError
from newslake.local import keep, provision, server
from newslake.settings import Settings, get_settings
from spark_jobs import submit


def main() -> int:
    """Run the walkthrough; a platform error ends it with one line on stderr and status 1."""
    started = time.monotonic()
    settings = get_settings()
    try:
        return _run(settings, started)
    except NewslakeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


def _run(settings: Settings, started: float) -> int:
    app = _fresh_platform(settings)
    events = _synthetic_events(settings)
    accepted = send_events(events)
    _land(settings)
    _nightly(settings)
    print(f"== recommendation service on http://{settings.serve_host}:{settings.serve_port}")
    readers = _most_active_readers(events)
    with running_service(settings) as base:
        ok = ask_as_readers(settings, app, base, readers)
        fresh = fresh_read.show(settings, app, base, readers)
    ok &= fresh.seconds is not None
    elapsed = time.monotonic() - started
    print(f"== {accepted} events accepted; demo wall time {elapsed:.1f}s")
    report = {
        "demo_wall_s": round(elapsed, 1),
        "events": accepted,
        "fresh_read_s": None if fresh.seconds is None else round(fresh.seconds, 2),
        "fresh_covisited": fresh.covisited,
        "ok": ok,
    }
    print(json.dumps(report))
    return 0 if ok else 1


def _fresh_platform(settings: Settings) -> CognitoApp:
    print(f"== local platform at {settings.endpoint_url}")
    server.start(settings)
    session_daemon.stop(settings)  # it would read the new streams from its old positions
    server.reset(settings)  # a rerun, or a run after an interrupted one, starts clean
    keep.forget(settings)  # the lake on disk and the kept tables too
    app = provision.provision(settings)
    session_daemon.start(settings)
    return app


def _synthetic_events(settings: Settings) -> list[Pageview]:
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    events = list(generate(TrafficSpec(end=now, portals=settings.portals)))
    print(f"== {len(events)} synthetic tracker events for {', '.join(settings.portals)}")
    return events


def _land(settings: Settings) -> None:
    """Kinesis -> the landing bucket, as Firehose does in AWS."""
    print("== local Firehose: Kinesis -> s3://" + settings.landing_bucket)
    delivered = local_firehose.deliver(
        settings, aws.client("kinesis", settings), aws.client("s3", settings)
    )
    print(f"   {delivered.records} records in {delivered.objects} objects")


def _nightly(settings: Settings) -> None:
    print("== spark-submit spark_jobs/nightly.py")
    code = submit.run(settings, str(REPO_ROOT / "spark_jobs" / "nightly.py"), [])
    if code != 0:
        raise NewslakeError(f"the nightly Spark job failed with exit code {code}")


def _most_active_readers(events: list[Pageview]) -> list[str]:
    """Readers by their number of views, most first: they have personal lists to show."""
    views: Counter[str] = Counter(e.user_id for e in events if e.event_type == "view")
    return [user for user, _ in views.most_common()]
