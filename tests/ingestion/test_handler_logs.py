"""The pageview handler's logs hold no reader ids, even where Powertools is told to log
every event (POWERTOOLS_LOGGER_LOG_EVENT, read when the handler is defined: so in a
process of its own)."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.utils.paths import REPO_ROOT

READER = "reader-secret-42"
SCRIPT = f"""
import json
from ingestion import handler
from newslake.settings import Settings

def unreachable():
    raise AssertionError("a refused request must not reach AWS")

app = handler.build_app(Settings(profile="local", moto_port=9), unreachable)
body = {{"portal": "g1", "user_id": "{READER}", "event_type": "view"}}  # incomplete: refused
request = {{
    "httpMethod": "POST",
    "path": "/pageview",
    "headers": {{"Content-Type": "application/json"}},
    "body": json.dumps(body),
    "requestContext": {{"requestId": "req-1"}},
}}
print("status", handler.handle(request, handler.LocalContext("test"), app)["statusCode"])
"""


def test_a_refused_request_is_logged_without_the_readers_id() -> None:
    env = {**os.environ, "POWERTOOLS_LOGGER_LOG_EVENT": "true", "PYTHONPATH": str(REPO_ROOT)}
    run = subprocess.run(
        [sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=120
    )

    output = run.stdout + run.stderr
    assert "status 400" in run.stdout, output
    assert "invalid request" in output  # the handler did log the request
    assert READER not in output
