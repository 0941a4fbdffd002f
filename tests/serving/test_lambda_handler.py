"""The app behind API Gateway + Lambda: API Gateway REST events through Mangum."""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest
from mangum import Mangum

from newslake.settings import Settings
from newslake.store import ScoredItem
from serving.auth import TokenVerifier
from serving.main import create_app
from tests.utils.answers import RECOMMENDATION_ID, with_id_checked


def _event(path: str, headers: dict[str, str] | None = None, query: str = "") -> dict[str, Any]:
    """An API Gateway REST (v1) proxy event, as Lambda receives it."""
    params = dict(p.split("=", 1) for p in query.split("&")) if query else None
    headers = {"Host": "api.example.com", **(headers or {})}
    return {
        "resource": "/{proxy+}",
        "path": path,
        "httpMethod": "GET",
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": params,
        "multiValueQueryStringParameters": {k: [v] for k, v in (params or {}).items()} or None,
        "pathParameters": {"proxy": path.lstrip("/")},
        "requestContext": {
            "resourcePath": "/{proxy+}",
            "httpMethod": "GET",
            "path": f"/prod{path}",
            "stage": "prod",
            "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
            "identity": {"sourceIp": "203.0.113.9"},
        },
        "body": None,
        "isBase64Encoded": False,
    }


def _context() -> Any:
    """The bits of a Lambda context Mangum reads."""
    return SimpleNamespace(
        function_name="newslake-serving", aws_request_id="c6af9ac6-7b61-11e6-9a41-93e8deadbeef"
    )


@pytest.fixture
def handler(fake_reader: Any, verifier: TokenVerifier) -> Mangum:
    fake_reader.versions["g1"] = "v2"
    fake_reader.records[("g1#user#alice", "v2")] = [ScoredItem("a-101", 0.91)]
    app = create_app(
        Settings(
            profile="local",
            moto_port=9,
            portals=("g1",),
            serving_access_log=False,
            reader_w_personal=1.0,  # alice's list shows, whatever the default weight
        ),
        reader=fake_reader,
        verifier=verifier,
    )
    return Mangum(app, lifespan="off")


def test_recommendations_through_lambda(handler: Mangum, make_token: Callable[..., str]) -> None:
    event = _event(
        "/v1/portals/g1/users/alice/recommendations",
        {"Authorization": f"Bearer {make_token()}"},
        query="limit=1",
    )

    response = handler(event, _context())

    assert (response["statusCode"], with_id_checked(json.loads(response["body"]))) == (
        200,
        {
            "portal": "g1",
            "recommendation_id": RECOMMENDATION_ID,
            "user_id": "alice",
            "model_version": "v2",
            "items": [{"article_id": "a-101", "score": 1.0, "source": "personal", "position": 1}],
            "degraded": False,
            "variant": None,
        },
    )


def test_no_token_through_lambda_is_401_with_the_challenge(handler: Mangum) -> None:
    response = handler(_event("/v1/portals/g1/users/alice/recommendations"), _context())

    assert (response["statusCode"], response["headers"]["www-authenticate"]) == (401, "Bearer")


def test_api_gateways_request_id_is_the_request_id(handler: Mangum) -> None:
    response = handler(_event("/healthz"), _context())

    assert response["headers"]["x-request-id"] == "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"


def test_the_lambda_entry_point_wraps_the_app(monkeypatch: pytest.MonkeyPatch) -> None:
    # Importing the module configures JSON logging for Lambda; not for the test run.
    monkeypatch.setattr("serving.observability.configure_logging", lambda: None)
    module = importlib.import_module("serving.lambda_handler")

    from serving.main import app

    assert (type(module.handler), module.handler.app) == (Mangum, app)
