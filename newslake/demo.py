"""``make demo``: the whole slice on synthetic traffic, through every layer, on the local platform.

tracker events (synthetic) -> POST /pageview handler -> Kinesis per portal -> local Firehose
-> S3 landing -> spark-submit nightly job (bronze, silver, interactions, ALS, most-viewed)
-> DynamoDB -> FastAPI recommendations, called with a Cognito token (200) and without (401).
"""

from __future__ import annotations

import contextlib
import io
import json
import secrets
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from tqdm import tqdm

from ingestion import handler, local_firehose
from ingestion.schema import Pageview
from ingestion.synthetic import TrafficSpec, generate
from ingestion.validation import MAX_BATCH
from newslake import aws
from newslake.errors import NewslakeError
from newslake.local import provision, server
from newslake.settings import Settings, get_settings
from spark_jobs import submit

REPO_ROOT = Path(__file__).resolve().parent.parent
USERS_SHOWN_PER_PORTAL = 2


class MetricLines(io.TextIOBase):
    """Standard output while the demo calls the handler in process: counts the handler's
    CloudWatch metric lines (EMF, which Lambda's log stream hands to CloudWatch; on a
    terminal they would bury the progress bar) and passes every other line through."""

    def __init__(self, out: TextIO) -> None:
        self.out, self.count, self._partial = out, 0, ""

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        *lines, self._partial = (self._partial + text).split("\n")
        for line in lines:
            if line.startswith('{"_aws"'):
                self.count += 1
            else:
                self.out.write(line + "\n")
        return len(text)

    def flush(self) -> None:
        self.out.flush()

    def finish(self) -> None:
        """Pass on a last line left without its newline."""
        if self._partial:
            self.out.write(self._partial)
            self._partial = ""


def send_events(
    events: list[Pageview],
    batch: int = MAX_BATCH,
    call: Callable[[dict[str, Any]], dict[str, Any]] = handler.lambda_handler,
) -> int:
    """POST the events in tracker-sized batches through the API Gateway handler (``call``)."""
    metric_lines = MetricLines(sys.stdout)
    with (
        tqdm(total=len(events), desc="POST /pageview", unit="ev") as bar,
        contextlib.redirect_stdout(metric_lines),
    ):
        try:
            accepted = 0
            for i in range(0, len(events), batch):
                chunk = events[i : i + batch]
                accepted += _post(call, chunk)
                bar.update(len(chunk))
        finally:
            metric_lines.finish()
    print(
        f"   the handler wrote {metric_lines.count} CloudWatch metric (EMF) lines, "
        "not shown: in AWS, CloudWatch reads them from the Lambda's log"
    )
    return accepted


def _post(call: Callable[[dict[str, Any]], dict[str, Any]], events: list[Pageview]) -> int:
    """One POST /pageview; the number of events accepted."""
    resp = call(
        {
            "httpMethod": "POST",
            "path": "/pageview",
            "headers": {"Content-Type": "application/json"},
            "body": json.dumps({"events": [e.model_dump() for e in events]}),
            "isBase64Encoded": False,
        }
    )
    if resp["statusCode"] != 200:
        raise NewslakeError(f"POST /pageview answered {resp['statusCode']}: {resp['body']}")
    return int(json.loads(resp["body"])["accepted"])


def _wait_http(url: str, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except (urllib.error.URLError, OSError):
            time.sleep(0.2)
    raise NewslakeError(f"{url} did not answer within {timeout_s:.0f}s")


def _get(url: str, token: str | None) -> tuple[int, Any]:
    req = urllib.request.Request(url)
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def main() -> int:
    started = time.monotonic()
    settings = get_settings()
    try:
        return _run(settings, started)
    except NewslakeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


def _run(settings: Settings, started: float) -> int:
    print(f"== local platform at {settings.endpoint_url}")
    server.start(settings)
    server.reset(settings)  # a rerun, or a run after an interrupted one, starts clean
    app = provision.provision(settings)

    now = datetime.now(UTC).replace(second=0, microsecond=0)
    events = list(generate(TrafficSpec(end=now, portals=settings.portals)))
    print(f"== {len(events)} synthetic tracker events for {', '.join(settings.portals)}")
    accepted = send_events(events)

    print("== local Firehose: Kinesis -> s3://" + settings.landing_bucket)
    delivered = local_firehose.deliver(
        settings, aws.client("kinesis", settings), aws.client("s3", settings)
    )
    print(f"   {delivered.records} records in {delivered.objects} objects")

    print("== spark-submit spark_jobs/nightly.py")
    code = submit.run(settings, str(REPO_ROOT / "spark_jobs" / "nightly.py"), [])
    if code != 0:
        raise NewslakeError(f"the nightly Spark job failed with exit code {code}")

    print(f"== recommendation service on http://{settings.serve_host}:{settings.serve_port}")
    active: Counter[str] = Counter(e.user_id for e in events if e.event_type == "view")
    if not server.port_free(settings.serve_host, settings.serve_port):
        raise NewslakeError(
            f"port {settings.serve_host}:{settings.serve_port} is busy (a service left from an "
            "interrupted demo?): stop it or set NEWSLAKE_SERVE_PORT"
        )
    service_log = settings.state_dir / "demo-service.log"
    service_log.parent.mkdir(parents=True, exist_ok=True)
    print(f"   its access log (a JSON line per request): {service_log}")
    with service_log.open("w") as log_file:
        uvicorn = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "serving.main:app",
                "--host",
                settings.serve_host,
                "--port",
                str(settings.serve_port),
                "--log-level",
                "warning",
            ],
            cwd=REPO_ROOT,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    try:
        base = f"http://{settings.serve_host}:{settings.serve_port}"
        try:
            _wait_http(f"{base}/healthz", 30)
        except NewslakeError as exc:
            raise NewslakeError(f"{exc}; the service's output is in {service_log}") from exc
        ok = True
        for portal in settings.portals:
            users = [u for u, _ in active.most_common() if u.startswith(f"{portal}-")]
            for user in users[:USERS_SHOWN_PER_PORTAL]:
                password = secrets.token_urlsafe(16) + "aA1!"
                provision.ensure_user(settings, app, user, password)
                token = provision.login(settings, app, user, password)
                url = f"{base}/v1/portals/{portal}/users/{user}/recommendations?limit=5"
                status, body = _get(url, token)
                print(f"GET {url} (Cognito token) -> {status}")
                print("   " + json.dumps(body))
                ok &= status == 200
            status, body = _get(url, None)
            print(f"GET {url} (no token) -> {status} {json.dumps(body)}")
            ok &= status == 401
    finally:
        uvicorn.terminate()
        uvicorn.wait(10)
    elapsed = time.monotonic() - started
    print(f"== {accepted} events accepted; demo wall time {elapsed:.1f}s")
    print(json.dumps({"demo_wall_s": round(elapsed, 1), "events": accepted, "ok": ok}))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
