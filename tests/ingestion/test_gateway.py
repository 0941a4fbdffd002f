"""The local API Gateway: the proxy event it builds, the response it maps back, and the
real thing (``python -m ingestion.gateway`` under uvicorn) in front of Kinesis."""

from __future__ import annotations

import base64
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from ingestion import gateway
from newslake import aws
from newslake.local.ports import free_port
from newslake.settings import Settings
from tests.utils.paths import REPO_ROOT

NOW_MS = 1_767_225_600_000


# ---- helpers shared with the tracker's browser tests ----------------------------------
def platform_env(settings: Settings, gateway_port: int) -> dict[str, str]:
    """The environment of a process that should use ``settings``' platform, and nothing else."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSLAKE_")}
    env.update(
        NEWSLAKE_PROFILE=settings.profile,
        NEWSLAKE_REGION=settings.region,
        NEWSLAKE_PORTALS=",".join(settings.portals),
        NEWSLAKE_NAME_PREFIX=settings.name_prefix,
        NEWSLAKE_MOTO_HOST=settings.moto_host,
        NEWSLAKE_MOTO_PORT=str(settings.moto_port),
        NEWSLAKE_STATE_DIR=str(settings.state_dir),
        NEWSLAKE_SERVE_HOST="127.0.0.1",
        NEWSLAKE_GATEWAY_PORT=str(gateway_port),
        PYTHONPATH=str(REPO_ROOT),
    )
    return env


@contextmanager
def running_gateway(
    settings: Settings,
    log_path: Path,
    env: Mapping[str, str] | None = None,
    wait_s: float = 30.0,
) -> Iterator[str]:
    """``python -m ingestion.gateway`` against ``settings``' platform; yields its base URL.

    Args:
        settings: the platform (its moto server) the handler stores into.
        log_path: where the gateway's output goes (shown when it does not start).
        env: more ``NEWSLAKE_*`` settings for the gateway and its handler.
        wait_s: how long it may take to accept connections.
    """
    port = free_port()
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "ingestion.gateway"],
            cwd=REPO_ROOT,
            env={**platform_env(settings, port), **(env or {})},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + wait_s
            while not _accepts(port):
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"the gateway did not start:\n{log_path.read_text()}")
                time.sleep(0.1)
            yield f"http://127.0.0.1:{port}"
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)


def _accepts(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def stream_records(settings: Settings, portal: str) -> list[dict[str, Any]]:
    """Every record now in the portal's stream, decoded."""
    kinesis = aws.client("kinesis", settings)
    stream = settings.stream_name(portal)
    records: list[dict[str, Any]] = []
    for shard in kinesis.list_shards(StreamName=stream)["Shards"]:
        iterator = kinesis.get_shard_iterator(
            StreamName=stream, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        while iterator:
            page = kinesis.get_records(ShardIterator=iterator, Limit=1000)
            records += [json.loads(r["Data"]) for r in page["Records"]]
            if not page["Records"] or not page.get("MillisBehindLatest"):
                break
            iterator = page.get("NextShardIterator")
    return records


# ---- the proxy event ---------------------------------------------------------------
def test_a_request_becomes_the_rest_proxy_event():
    event = gateway.proxy_event(
        method="POST",
        path="/pageview",
        headers=[
            ("host", "127.0.0.1:8056"),
            ("content-type", "text/plain;charset=UTF-8"),
            ("user-agent", "Mozilla/5.0"),
            ("accept", "a"),
            ("accept", "b"),
        ],
        query=[("v", "1"), ("tag", "x"), ("tag", "y")],
        body=b'{"events":[]}',
        source_ip="127.0.0.1",
        request_id="req-1",
        now_ms=NOW_MS,
    )
    assert event == {
        "resource": "/pageview",
        "path": "/pageview",
        "httpMethod": "POST",
        "headers": {
            "host": "127.0.0.1:8056",
            "content-type": "text/plain;charset=UTF-8",
            "user-agent": "Mozilla/5.0",
            "accept": "b",
        },
        "multiValueHeaders": {
            "host": ["127.0.0.1:8056"],
            "content-type": ["text/plain;charset=UTF-8"],
            "user-agent": ["Mozilla/5.0"],
            "accept": ["a", "b"],
        },
        "queryStringParameters": {"v": "1", "tag": "y"},
        "multiValueQueryStringParameters": {"v": ["1"], "tag": ["x", "y"]},
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "local",
            "resourceId": "local",
            "resourcePath": "/pageview",
            "httpMethod": "POST",
            "path": "/local/pageview",
            "stage": "local",
            "protocol": "HTTP/1.1",
            "requestId": "req-1",
            "extendedRequestId": "req-1",
            "requestTime": "01/Jan/2026:00:00:00 +0000",
            "requestTimeEpoch": NOW_MS,
            "domainName": "127.0.0.1:8056",
            "identity": {
                "sourceIp": "127.0.0.1",
                "userAgent": "Mozilla/5.0",
                "accountId": None,
                "caller": None,
                "user": None,
                "userArn": None,
                "apiKey": None,
                "accessKey": None,
                "cognitoIdentityId": None,
                "cognitoIdentityPoolId": None,
                "cognitoAuthenticationType": None,
                "cognitoAuthenticationProvider": None,
            },
        },
        "body": '{"events":[]}',
        "isBase64Encoded": False,
    }


def test_no_query_no_body_are_none_and_binary_bodies_are_base64():
    bare = gateway.proxy_event(
        method="OPTIONS",
        path="/pageview",
        headers=[],
        query=[],
        body=b"",
        source_ip=None,
        request_id="r",
        now_ms=NOW_MS,
    )
    assert (bare["headers"], bare["queryStringParameters"], bare["body"]) == (None, None, None)
    assert bare["isBase64Encoded"] is False
    binary = gateway.proxy_event(
        method="POST",
        path="/pageview",
        headers=[],
        query=[],
        body=b"\x1f\x8b\xff",
        source_ip=None,
        request_id="r",
        now_ms=NOW_MS,
    )
    assert (binary["body"], binary["isBase64Encoded"]) == ("H4v/", True)


# ---- the app in-process, with a recording stand-in for the handler ---------------------
class Recorder:
    """A Lambda handler double: records what it was called with, answers ``result``."""

    def __init__(self, result: Any = None, error: Exception | None = None) -> None:
        self.calls: list[tuple[dict[str, Any], Any]] = []
        self.result = result or {"statusCode": 200, "headers": {}, "body": '{"accepted":1}'}
        self.error = error

    def __call__(self, event: dict[str, Any], context: Any) -> Any:
        self.calls.append((event, context))
        if self.error:
            raise self.error
        return self.result


def _client(recorder: Recorder, **kwargs: Any) -> TestClient:
    app = gateway.create_app(Settings(name_prefix="nl"), invoke=recorder, **kwargs)
    return TestClient(app, raise_server_exceptions=False)


def test_the_handler_gets_the_request_and_a_lambda_context():
    recorder = Recorder()
    response = _client(recorder).post(
        "/pageview?debug=1",
        content=b'{"event_id":"e1"}',
        headers={"Content-Type": "text/plain;charset=UTF-8", "Origin": "https://g1.example"},
    )
    assert response.status_code == 200
    event, context = recorder.calls[0]
    assert event["httpMethod"] == "POST"
    assert event["path"] == "/pageview"
    assert event["body"] == '{"event_id":"e1"}'
    assert event["headers"]["content-type"] == "text/plain;charset=UTF-8"
    assert event["headers"]["origin"] == "https://g1.example"
    assert event["queryStringParameters"] == {"debug": "1"}
    assert event["requestContext"]["identity"]["sourceIp"] == "testclient"
    assert context.aws_request_id == event["requestContext"]["requestId"]
    assert response.headers["x-amzn-requestid"] == context.aws_request_id
    assert context.function_name == "nl-pageview"
    assert (
        context.invoked_function_arn == "arn:aws:lambda:us-east-1:123456789012:function:nl-pageview"
    )
    assert 0 < context.get_remaining_time_in_millis() <= 29_000


def test_a_cors_preflight_goes_to_the_handler_too():
    recorder = Recorder({"statusCode": 204, "headers": {"Access-Control-Allow-Origin": "*"}})
    response = _client(recorder).options(
        "/pageview",
        headers={"Origin": "https://g1.example", "Access-Control-Request-Method": "POST"},
    )
    assert (response.status_code, response.headers["access-control-allow-origin"]) == (204, "*")
    event, _ = recorder.calls[0]
    assert (event["httpMethod"], event["body"]) == ("OPTIONS", None)


def test_the_handler_response_is_mapped_back():
    recorder = Recorder(
        {
            "statusCode": 503,
            "headers": {"Content-Type": "application/json", "X-One": "h"},
            "multiValueHeaders": {"Set-Cookie": ["a=1", "b=2"], "X-One": ["m"]},
            "body": base64.b64encode(b'{"error":"retry"}').decode(),
            "isBase64Encoded": True,
        }
    )
    response = _client(recorder).post("/pageview", content=b"{}")
    assert response.status_code == 503
    assert response.content == b'{"error":"retry"}'
    assert response.headers["content-type"] == "application/json"
    assert response.headers.get_list("set-cookie") == ["a=1", "b=2"]
    assert response.headers.get_list("x-one") == ["m"]  # multiValueHeaders win


def test_a_body_over_1_mb_is_refused_before_the_handler():
    recorder = Recorder()
    client = _client(recorder)
    response = client.post("/pageview", content=b"x" * (gateway.MAX_BODY_BYTES + 1))
    assert response.status_code == 413
    assert "larger than 1048576 bytes" in response.json()["message"]
    assert recorder.calls == []
    assert client.post("/pageview", content=b"x" * gateway.MAX_BODY_BYTES).status_code == 200


def test_a_streamed_body_over_the_limit_is_refused_without_a_content_length():
    recorder = Recorder()
    chunks = (b"x" * 100 for _ in range(3))  # a generator body is sent chunked
    response = _client(recorder, max_body_bytes=250).post("/pageview", content=chunks)
    assert response.status_code == 413
    assert recorder.calls == []


@pytest.mark.parametrize(
    "recorder",
    [
        Recorder(error=RuntimeError("boom")),
        Recorder({"body": "no status"}),
        Recorder({"statusCode": 200, "body": {"not": "a string"}}),
        Recorder({"statusCode": 200, "body": "%%%", "isBase64Encoded": True}),
    ],
    ids=["raises", "no-status", "body-not-string", "bad-base64"],
)
def test_a_failing_handler_is_answered_502_like_api_gateway(recorder):
    response = _client(recorder).post("/pageview", content=b"{}")
    assert (response.status_code, response.json()) == (502, {"message": "Internal server error"})


def test_only_the_pageview_resource_and_its_methods_exist():
    client = _client(Recorder())
    assert client.post("/other", content=b"{}").status_code == 404
    assert client.get("/pageview").status_code == 405


# ---- the real gateway on the local platform -------------------------------------------
def _event(i: int, portal: str, run: str) -> dict[str, Any]:
    return {
        "event_id": f"{run}-e{i}",
        "event_type": "view",
        "portal": portal,
        "user_id": f"{run}-u{i}",
        "session_id": f"{run}-s",
        "pageview_id": f"{run}-p{i}",
        "url": f"https://{portal}.globo.com/news/{i}.html",  # the portal's default domain
        "client_ts": int(time.time() * 1000),
    }


@pytest.mark.slow
def test_a_post_through_the_gateway_lands_in_kinesis(disposable_platform, tmp_path):
    # A platform of the test's own: the shared one's streams belong to the end-to-end slice.
    platform = disposable_platform
    run = "gw"
    events = [_event(1, "g1", run), _event(2, "g1", run), _event(3, "ge", run)]
    with running_gateway(platform, tmp_path / "gateway.log") as base:
        response = httpx.post(
            f"{base}/pageview",
            content=json.dumps({"events": events}),
            headers={"Content-Type": "text/plain;charset=UTF-8"},
            timeout=10,
        )
        assert (response.status_code, response.json()) == (200, {"accepted": 3})
        refused = httpx.post(
            f"{base}/pageview",
            json={**_event(4, "g1", run), "colour": "red"},
            timeout=10,
        )
        assert refused.status_code == 400
        assert refused.json()["problems"][0]["field"] == "colour"
        preflight = httpx.options(
            f"{base}/pageview",
            headers={"Origin": "https://g1.globo.com", "Access-Control-Request-Method": "POST"},
            timeout=10,
        )
        assert preflight.is_success
        assert preflight.headers["access-control-allow-origin"] == "https://g1.globo.com"

    landed = {r["event_id"]: r for p in platform.portals for r in stream_records(platform, p)}
    assert sorted(landed) == [f"{run}-e1", f"{run}-e2", f"{run}-e3"]  # not the refused e4
    first = landed[f"{run}-e1"]
    assert {k: first[k] for k in ("portal", "user_id", "pageview_id", "url")} == {
        "portal": "g1",
        "user_id": f"{run}-u1",
        "pageview_id": f"{run}-p1",
        "url": "https://g1.globo.com/news/1.html",
    }
    assert first["server_ts"] >= first["client_ts"] - 5_000


def test_only_a_server_worker_freezes_its_heap():
    """create_app (tests, embedding) leaves the collector alone; serve_app, uvicorn's
    factory in each worker process, freezes the heap and keeps freezing after collections."""
    import gc

    from newslake import gctune

    before = list(gc.callbacks)
    gateway.create_app(Settings(name_prefix="nl"), invoke=Recorder())
    assert gc.callbacks == before

    probe = (
        "import gc; from ingestion.gateway import serve_app; from newslake import gctune; "
        "serve_app(); print(gc.get_freeze_count() > 0, gctune._freeze_survivors in gc.callbacks)"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "NEWSLAKE_PROFILE": "local"}
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=REPO_ROOT, env=env, capture_output=True, text=True,
        timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "True"]
    assert gctune._freeze_survivors not in gc.callbacks
