"""Every answer is identifiable (a recommendation id, positions) and leaves one impression
line, written off the request path and all written by the time the service has shut down."""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from typing import Any

import pytest
from fastapi.testclient import TestClient

from newslake.experiments import Experiment
from newslake.store import ScoredItem
from serving.auth import TokenVerifier
from serving.impressions import Impression, ImpressionLog
from serving.main import create_app
from serving.recommender import Answer, Recommendation
from tests.utils.serving_app import SPLIT, app_settings
from tests.utils.tokens import TokenFactory, bearer

ANSWERS = {
    "reader": "/v1/portals/g1/users/alice/recommendations",
    "related": "/v1/portals/g1/articles/a-5/related",
    "trending": "/v1/portals/g1/trending",
    "popular": "/v1/portals/g1/popular",
}
HEX32 = re.compile(r"[0-9a-f]{32}")


class Lines(logging.Handler):
    """Keeps every impression line; ``delay_s`` makes it a slow sink (a full disk, a slow
    log agent) so lines queue up behind it, and ``opened`` a stuck one until it is set."""

    def __init__(self, delay_s: float = 0.0) -> None:
        super().__init__()
        self.delay_s = delay_s
        self.opened = threading.Event()
        self.opened.set()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.opened.wait(timeout=10)  # bounded: a sink stuck in the request fails, not hangs
        time.sleep(self.delay_s)
        self.lines.append(self.format(record))

    def records(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.lines]


@pytest.fixture
def reader(fake_reader: Any) -> Any:
    """g1 on v2: alice's nightly list, trending, popular, related of a-5."""
    fake_reader.versions["g1"] = "v2"
    fake_reader.records[("g1#user#alice", "v2")] = [ScoredItem("a-101", 0.91)]
    fake_reader.records[("g1#trending", "live")] = [ScoredItem("t-1", 40.0)]
    fake_reader.records[("g1#popular", "v2")] = [ScoredItem("p-1", 120.0), ScoredItem("p-2", 1.0)]
    fake_reader.records[("g1#related#a-5", "live")] = [ScoredItem("c-1", 12.0)]
    return fake_reader


def _app(reader: Any, verifier: TokenVerifier, lines: Lines, *experiments: Experiment) -> Any:
    settings = app_settings(experiments=experiments)
    return create_app(settings, reader=reader, verifier=verifier, impressions=lines)


# ---- ids and positions ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("route", "positions"),
    [
        ("reader", [1, 2, 3, 4]),
        ("related", [1, 2, 3, 4]),
        ("trending", [1, 2, 3]),
        ("popular", [1, 2]),
    ],
)
def test_every_answer_has_a_new_recommendation_id_and_positions_from_1(
    reader: Any, verifier: TokenVerifier, make_token: TokenFactory, route: str, positions: list[int]
) -> None:
    client = TestClient(_app(reader, verifier, Lines()))

    first, second = (client.get(ANSWERS[route], headers=bearer(make_token())).json() for _ in "12")

    assert HEX32.fullmatch(first["recommendation_id"]), first["recommendation_id"]
    assert HEX32.fullmatch(second["recommendation_id"]), second["recommendation_id"]
    assert first["recommendation_id"] != second["recommendation_id"]
    assert [i["position"] for i in first["items"]] == positions


# ---- the impression line ----------------------------------------------------------------------
def test_a_readers_answer_leaves_its_impression_with_the_variant(
    reader: Any, verifier: TokenVerifier, make_token: TokenFactory
) -> None:
    lines = Lines()
    before = int(time.time() * 1000)
    with TestClient(_app(reader, verifier, lines, SPLIT)) as client:
        body = client.get(ANSWERS["reader"], headers=bearer(make_token())).json()
    after = int(time.time() * 1000)

    (record,) = lines.records()
    assert before <= record.pop("served_at") <= after
    assert record == {
        "recommendation_id": body["recommendation_id"],
        "portal": "g1",
        "route": "reader",
        "user_id": "alice",
        "article_id": None,
        "variant": {"experiment": "reader-list", "name": "nightly"},
        "model_version": "v2",
        "items": [
            {"article_id": "a-101", "source": "personal", "position": 1},
            {"article_id": "t-1", "source": "trending", "position": 2},
            {"article_id": "p-1", "source": "popular", "position": 3},
            {"article_id": "p-2", "source": "popular", "position": 4},
        ],
    }


def test_the_other_answers_leave_theirs_without_a_variant(
    reader: Any, verifier: TokenVerifier, make_token: TokenFactory
) -> None:
    lines = Lines()
    with TestClient(_app(reader, verifier, lines, SPLIT)) as client:
        for route in ("related", "trending", "popular"):
            client.get(ANSWERS[route] + "?limit=2", headers=bearer(make_token()))

    shown = [
        (r["route"], r["user_id"], r["article_id"], r["variant"], r["items"])
        for r in lines.records()
    ]
    assert shown == [
        (
            "related",
            None,
            "a-5",
            None,
            [
                {"article_id": "c-1", "source": "covisited", "position": 1},
                {"article_id": "t-1", "source": "trending", "position": 2},
            ],
        ),
        (
            "trending",
            None,
            None,
            None,
            [
                {"article_id": "t-1", "source": "trending", "position": 1},
                {"article_id": "p-1", "source": "popular", "position": 2},
            ],
        ),
        (
            "popular",
            None,
            None,
            None,
            [
                {"article_id": "p-1", "source": "popular", "position": 1},
                {"article_id": "p-2", "source": "popular", "position": 2},
            ],
        ),
    ]


def test_the_article_pages_impression_names_its_reader_when_given(
    reader: Any, verifier: TokenVerifier, make_token: TokenFactory
) -> None:
    lines = Lines()
    with TestClient(_app(reader, verifier, lines)) as client:
        client.get(ANSWERS["related"] + "?reader_id=alice", headers=bearer(make_token()))

    (record,) = lines.records()
    assert (record["user_id"], record["article_id"]) == ("alice", "a-5")


def test_without_the_lifespan_the_line_is_written_in_the_request(
    reader: Any, verifier: TokenVerifier, make_token: TokenFactory
) -> None:
    lines = Lines()
    client = TestClient(_app(reader, verifier, lines))  # no `with`: no start-up, no shutdown

    body = client.get(ANSWERS["popular"], headers=bearer(make_token())).json()

    assert [r["recommendation_id"] for r in lines.records()] == [body["recommendation_id"]]


def test_a_shutdown_right_after_a_burst_loses_no_impression(
    reader: Any, verifier: TokenVerifier, make_token: TokenFactory
) -> None:
    lines = Lines(delay_s=0.02)  # a slow sink: the lines queue up behind it
    token = bearer(make_token())
    with TestClient(_app(reader, verifier, lines)) as client:
        ids = [
            client.get(ANSWERS["trending"], headers=token).json()["recommendation_id"]
            for _ in range(40)
        ]
        queued = len(ids) - len(lines.lines)

    assert queued > 0  # the burst was still being written when the shutdown began
    assert [r["recommendation_id"] for r in lines.records()] == ids


def test_the_answer_does_not_wait_for_its_line_to_be_written(
    reader: Any, verifier: TokenVerifier, make_token: TokenFactory
) -> None:
    lines = Lines()
    lines.opened.clear()  # the output is stuck
    with TestClient(_app(reader, verifier, lines)) as client:
        response = client.get(ANSWERS["popular"], headers=bearer(make_token()))
        written_before_the_answer = len(lines.lines)
        lines.opened.set()

    assert (response.status_code, written_before_the_answer) == (200, 0)
    assert [r["recommendation_id"] for r in lines.records()] == [
        response.json()["recommendation_id"]
    ]


def test_the_log_starts_again_after_a_stop_as_lambda_runs_one_lifespan_per_call() -> None:
    lines = Lines()
    log = ImpressionLog(lines)
    answer = Answer("v2", (Recommendation("p-1", 120.0, "popular"),))
    shown = [Impression.of(answer, "popular", "g1") for _ in range(2)]

    for impression in shown:
        log.start()
        log.record(impression)
        log.stop()

    assert [r["recommendation_id"] for r in lines.records()] == [i.recommendation_id for i in shown]
    assert log.running is False
