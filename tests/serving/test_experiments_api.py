"""Experiments through HTTP: the variant in the answers, the variant's list, and a bad
definition stopping the service at start."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import pytest
from fastapi.testclient import TestClient

from newslake.experiments import Experiment, Variant
from newslake.store import ScoredItem
from serving.auth import TokenVerifier
from serving.main import create_app
from tests.utils.paths import REPO_ROOT
from tests.utils.serving_app import SPLIT, app_settings
from tests.utils.tokens import TokenFactory, bearer

READER_URL = "/v1/portals/g1/users/{user}/recommendations"
RELATED_URL = "/v1/portals/g1/articles/a-5/related"
PAGE = Experiment("page-list", "related", True, (Variant("as-is", 1.0),))


@pytest.fixture
def reader(fake_reader: Any) -> Any:
    """g1 on v2: alice's and bob's nightly lists, trending, popular, related of a-5."""
    fake_reader.versions["g1"] = "v2"
    fake_reader.records[("g1#user#alice", "v2")] = [ScoredItem("a-101", 0.91)]
    fake_reader.records[("g1#user#bob", "v2")] = [ScoredItem("b-1", 0.8)]
    fake_reader.records[("g1#trending", "live")] = [ScoredItem("t-1", 40.0)]
    fake_reader.records[("g1#popular", "v2")] = [ScoredItem("p-1", 120.0)]
    fake_reader.records[("g1#related#a-5", "live")] = [ScoredItem("c-1", 12.0)]
    return fake_reader


def _client(reader: Any, verifier: TokenVerifier, *experiments: Experiment) -> TestClient:
    # personal weighs 0: the request-time list shows no nightly list
    settings = app_settings(reader_w_personal=0.0, experiments=experiments)
    return TestClient(create_app(settings, reader=reader, verifier=verifier))


def _answer(body: dict[str, Any]) -> tuple[Any, list[tuple[str, str]]]:
    return body["variant"], [(i["article_id"], i["source"]) for i in body["items"]]


def test_each_reader_gets_their_variants_list_and_its_name(
    reader: Any, verifier: TokenVerifier, make_token: TokenFactory
) -> None:
    client = _client(reader, verifier, SPLIT)

    alice = client.get(READER_URL.format(user="alice"), headers=bearer(make_token()))
    bob = client.get(READER_URL.format(user="bob"), headers=bearer(make_token(username="bob")))

    assert _answer(alice.json()) == (
        {"experiment": "reader-list", "name": "nightly"},
        [("a-101", "personal"), ("t-1", "trending"), ("p-1", "popular")],
    )
    assert _answer(bob.json()) == (
        {"experiment": "reader-list", "name": "request-time"},
        [("t-1", "trending"), ("p-1", "popular")],  # personal weighs 0 at request time
    )


def test_an_experiment_switched_off_serves_everyone_the_default_without_a_variant(
    reader: Any, verifier: TokenVerifier, make_token: TokenFactory
) -> None:
    switched_off = Experiment("reader-list", "reader", False, SPLIT.variants)
    client = _client(reader, verifier, switched_off)

    alice = client.get(READER_URL.format(user="alice"), headers=bearer(make_token()))

    assert _answer(alice.json()) == (None, [("t-1", "trending"), ("p-1", "popular")])


def test_the_article_page_names_a_variant_only_for_a_given_reader(
    reader: Any, verifier: TokenVerifier, make_token: TokenFactory
) -> None:
    client = _client(reader, verifier, SPLIT, PAGE)
    token = bearer(make_token())

    with_reader = client.get(RELATED_URL + "?reader_id=alice", headers=token)
    without = client.get(RELATED_URL, headers=token)

    assert with_reader.json()["variant"] == {"experiment": "page-list", "name": "as-is"}
    assert without.json()["variant"] is None
    assert with_reader.json()["items"] == without.json()["items"]


def test_the_article_page_without_an_experiment_has_no_variant(
    reader: Any, verifier: TokenVerifier, make_token: TokenFactory
) -> None:
    client = _client(reader, verifier, SPLIT)

    response = client.get(RELATED_URL + "?reader_id=alice", headers=bearer(make_token()))

    assert response.json()["variant"] is None


def test_a_malformed_reader_id_on_the_article_page_is_422(
    reader: Any, verifier: TokenVerifier, make_token: TokenFactory
) -> None:
    client = _client(reader, verifier, PAGE)

    response = client.get(RELATED_URL + "?reader_id=al%20ice", headers=bearer(make_token()))

    assert (response.status_code, response.json()["detail"]) == (
        422,
        "reader_id must be 1 to 128 letters, digits or . _ : @ + = -, starting with a letter "
        "or digit (got 'al ice')",
    )


def test_a_bad_experiment_stops_the_service_at_start_in_one_line() -> None:
    bad = '[{"name": "reader-list", "route": "home", "enabled": true, "variants": []}]'
    env = os.environ | {"NEWSLAKE_EXPERIMENTS": bad, "PYTHONPATH": str(REPO_ROOT)}

    run = subprocess.run(
        [sys.executable, "-m", "serving.main"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert (run.returncode, run.stderr) == (
        1,
        "serving cannot start: NEWSLAKE_EXPERIMENTS: experiment 'reader-list': route 'home' "
        "is not one of reader, related\n",
    )
