"""The service's logs name readers only by pseudonym: the access line's path carries
``~<subject>`` (the key of the reader's erasure request), and the warnings of a degraded
answer carry no id at all."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from serving.auth import TokenVerifier
from serving.main import create_app
from serving.observability import JsonFormatter, logged_path
from tests.utils.serving_app import app_settings
from tests.utils.tokens import bearer

READER = "reader-secret-42"
# printf 'g1:reader-secret-42' | openssl dgst -sha256 -hmac newslake-local-pseudonyms
SUBJECT = "f5f615543bf2ff0054f398cf162403f5"


@pytest.mark.parametrize(
    ("path", "logged"),
    [
        (
            "/v1/portals/g1/users/a b/recommendations",
            "/v1/portals/g1/users/~10f52e605c4264eda42a40a6bf3117c3/recommendations",
        ),
        (
            "/v1/portals/g1/users/a b/typo/",
            "/v1/portals/g1/users/~10f52e605c4264eda42a40a6bf3117c3/typo/",
        ),
        ("/v1/portals/g1/users//recommendations", "/v1/portals/g1/users//recommendations"),
        ("/v1/portals/g1/trending", "/v1/portals/g1/trending"),
    ],
)
def test_a_readers_id_in_a_path_becomes_their_pseudonym(path: str, logged: str) -> None:
    # printf 'g1:a b' | openssl dgst -sha256 -hmac k
    assert logged_path(path, "k") == logged


def test_without_a_key_the_path_names_no_reader() -> None:
    assert logged_path("/v1/portals/g1/users/alice/recommendations", None) == (
        "/v1/portals/g1/users/~/recommendations"
    )


def test_no_log_line_of_a_request_holds_the_readers_id(
    verifier: TokenVerifier, make_token: Callable[..., str], caplog: pytest.LogCaptureFixture
) -> None:
    # moto port 9 has no server: every store read fails and the answer is degraded, logged
    settings = app_settings(serving_access_log=True, serving_store_max_attempts=1)
    client = TestClient(create_app(settings, verifier=verifier))
    caplog.set_level(logging.INFO)
    lines: list[str] = []

    class Capture(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.name != "httpx":  # the test's own client, not the service
                lines.append(JsonFormatter().format(record))

    capture = Capture()
    logging.getLogger().addHandler(capture)
    try:
        answer = client.get(
            f"/v1/portals/g1/users/{READER}/recommendations",
            headers=bearer(make_token(username=READER)),
        )
    finally:
        logging.getLogger().removeHandler(capture)

    assert answer.status_code == 200
    assert answer.json()["degraded"] is True
    assert any("degraded answer" in line for line in lines)
    assert not [line for line in lines if READER in line]
    (access,) = [json.loads(line) for line in lines if '"logger":"serving.access"' in line]
    assert access["path"] == f"/v1/portals/g1/users/~{SUBJECT}/recommendations"
