"""The app over the tests' own keys and an in-memory store, for the HTTP tests.

The verifier is the real one (the ``verifier`` fixture, keys from memory) and the store is
the FakeReader (tests/utils/fakes.py), both injected through create_app (as the overhead
benchmark injects its store); moto port 9 has no server, so anything that reached for AWS
would fail loudly. Requests carry tokens with ``tests.utils.tokens.bearer``.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from newslake.store import ScoredItem
from serving.auth import TokenVerifier
from serving.main import create_app
from tests.utils.serving_app import app_settings


@pytest.fixture
def reader(fake_reader: Any) -> Any:
    """g1 on v2: alice's list, read a-102 lately; trending, popular, related of a-5."""
    fake_reader.versions["g1"] = "v2"
    fake_reader.records[("g1#user#alice", "v2")] = [
        ScoredItem("a-101", 0.91),
        ScoredItem("a-102", 0.55),
    ]
    fake_reader.records[("g1#recent#alice", "live")] = [ScoredItem("a-102", 1_795_000_000.0)]
    fake_reader.records[("g1#trending", "live")] = [ScoredItem("t-1", 40.0)]
    fake_reader.records[("g1#popular", "v2")] = [ScoredItem("p-1", 120.0)]
    fake_reader.records[("g1#related#a-5", "live")] = [ScoredItem("c-1", 12.0)]
    return fake_reader


@pytest.fixture
def app(verifier: TokenVerifier, reader: Any) -> FastAPI:
    return create_app(app_settings(), reader=reader, verifier=verifier)


@pytest.fixture
def client(app: FastAPI) -> TestClient:
    return TestClient(app)
