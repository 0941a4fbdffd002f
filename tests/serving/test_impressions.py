"""Every answer is identifiable (a recommendation id, positions) and leaves one impression
line, written off the request path and all written by the time the service has shut down."""

from __future__ import annotations

import gzip
import json
import logging
import os
import re
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from ingestion import local_impressions
from newslake import aws
from newslake.experiments import Experiment
from newslake.settings import Settings
from newslake.store import ScoredItem
from serving.auth import TokenVerifier
from serving.impressions import Impression, ImpressionLog, SegmentFile
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


# ---- locally, the lines also go to segment files the local shipper lands -----------------
def _segments(directory: Path) -> dict[str, list[str]]:
    return {p.name: p.read_text().splitlines() for p in sorted(directory.glob("*.jsonl"))}


def test_a_segment_file_starts_a_new_segment_past_its_size(tmp_path: Path) -> None:
    (tmp_path / "7-000003.jsonl").write_text("")  # the id's earlier life: numbering goes on
    sink = SegmentFile(tmp_path, segment_bytes=20, pid=7)
    sink.setFormatter(logging.Formatter("%(message)s"))

    for n in range(3):
        sink.handle(logging.makeLogRecord({"msg": f'{{"n":{n}}}'}))  # 8 bytes a line
    sink.close()

    assert _segments(tmp_path) == {
        "7-000003.jsonl": [],
        "7-000004.jsonl": ['{"n":0}', '{"n":1}'],
        "7-000005.jsonl": ['{"n":2}'],
    }


def test_locally_the_service_also_appends_its_lines_to_a_segment_file(
    reader: Any, verifier: TokenVerifier, make_token: TokenFactory, tmp_path: Path
) -> None:
    app = create_app(app_settings(state_dir=tmp_path), reader=reader, verifier=verifier)
    with TestClient(app) as client:
        body = client.get(ANSWERS["popular"], headers=bearer(make_token())).json()

    ((name, lines),) = _segments(tmp_path / "impressions").items()
    assert name == f"{os.getpid()}-000000.jsonl"
    assert [json.loads(line)["recommendation_id"] for line in lines] == [body["recommendation_id"]]


def test_the_aws_profile_writes_standard_output_only(
    reader: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = Settings(profile="aws", state_dir=tmp_path)
    log = ImpressionLog(settings=lambda: settings)
    answer = Answer("v2", (Recommendation("p-1", 120.0, "popular"),))
    shown = Impression.of(answer, "popular", "g1")

    log.start()
    log.record(shown)
    log.stop()

    assert [type(h).__name__ for h in log.outputs()] == ["_Stdout"]
    assert json.loads(capsys.readouterr().out)["recommendation_id"] == shown.recommendation_id
    assert list(tmp_path.iterdir()) == []


def test_a_shutdown_mid_flush_loses_no_line_on_its_way_to_the_lake(
    reader: Any,
    verifier: TokenVerifier,
    make_token: TokenFactory,
    local_platform: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = Settings(
        **(app_settings().model_dump() | local_platform.model_dump(include={"moto_port"}))
        | {"state_dir": tmp_path, "impressions_prefix": "impressions-shutdown-test"}
    )
    slow_emit = SegmentFile.emit

    def emit(self: SegmentFile, record: logging.LogRecord) -> None:
        time.sleep(0.02)  # a slow disk: the lines queue up behind it
        slow_emit(self, record)

    monkeypatch.setattr(SegmentFile, "emit", emit)
    token = bearer(make_token())
    with TestClient(create_app(settings, reader=reader, verifier=verifier)) as client:
        ids = [
            client.get(ANSWERS["trending"], headers=token).json()["recommendation_id"]
            for _ in range(30)
        ]
        queued = len(ids) - sum(len(v) for v in _segments(tmp_path / "impressions").values())
    local_impressions.ship(settings)

    assert queued > 0  # the burst was still being written when the shutdown began
    s3 = aws.client("s3", settings)
    listed = s3.list_objects_v2(Bucket=settings.landing_bucket, Prefix="impressions-shutdown-test/")
    landed = [
        json.loads(line)["recommendation_id"]
        for o in listed["Contents"]
        for line in gzip.decompress(
            s3.get_object(Bucket=settings.landing_bucket, Key=o["Key"])["Body"].read()
        ).splitlines()
    ]
    assert landed == ids
