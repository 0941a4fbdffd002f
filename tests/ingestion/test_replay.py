"""G1 replay: the time shift, the pacing, and that both paths give the same silver rows."""

from __future__ import annotations

import argparse
import itertools
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ingestion import g1, replay
from ingestion.replay import TimeShift
from newslake import aws
from newslake.settings import Settings
from tests.evaluation.g1files import H0, HOUR, session_rows, write
from tests.utils.clock import FakeClock

FOLDER_ROWS = [
    [
        *session_rows(7, 101, H0, [(11, 0), (12, 90_000), (13, 240_000)]),
        *session_rows(8, 102, H0 + 30_000, [(12, 0), (11, 60_000)]),
    ],
    session_rows(9, 201, H0 + HOUR, [(13, 0), (14, 120_000)]),
]


def test_event_time_is_the_start_plus_the_click_offset_over_the_speed_up():
    shift = TimeShift(start_ms=1_000_000, first_ms=500, speed_up=60)
    assert shift(500) == 1_000_000
    assert shift(500 + 120_000) == 1_002_000  # two minutes of clicks in two seconds
    assert shift(500 + 59) == 1_000_000  # rounded down


def test_replayed_events_keep_the_clicks_ids_and_move_their_times(tmp_path):
    clicks = replay.load_clicks(write(tmp_path, FOLDER_ROWS), 0, 1)
    shift = TimeShift(start_ms=2_000_000_000_000, first_ms=H0, speed_up=60)

    events = list(replay.replay_events(clicks, shift))

    assert [e["article_id"] for e in events] == ["11", "12", "12", "11", "13", "13", "14"]
    assert [e["client_ts"] - 2_000_000_000_000 for e in events] == [
        0, 500, 1_500, 1_500, 4_000, 60_000, 62_000,
    ]  # fmt: skip
    first = events[0]
    assert first["event_id"] == g1.to_event(clicks[0])["event_id"]
    assert first["server_ts"] == first["client_ts"]
    assert (first["url"], first["user_id"], first["dwell_ms"]) == (
        "https://g1.globo.com/noticia/11.html",
        "7",
        0,
    )


def test_hours_out_of_range_are_refused_in_one_line(tmp_path):
    folder = write(tmp_path, FOLDER_ROWS)
    with pytest.raises(replay.NewslakeError, match=r"0 <= first <= last <= 1"):
        replay.load_clicks(folder, 1, 5)


def test_a_folder_without_the_clicks_is_one_line_and_exit_1(tmp_path, capsys):
    assert replay.main(["bulk", "--data", str(tmp_path / "none")]) == 1
    err = capsys.readouterr().err.strip()
    assert err.endswith(
        "none: no G1 clicks here (clicks_hour_rows.csv missing); name the folder with --data"
    )
    assert "\n" not in err and "Traceback" not in err


def test_events_go_out_when_due_in_requests_of_those_due_together():
    clock = FakeClock()
    requests: list[tuple[float, list[str]]] = []

    def post(events):
        requests.append((clock.now, [e["event_id"] for e in events]))
        return len(events) - (e["event_id"] == "e3" for e in events).__next__()

    due = [("e1", 1_000), ("e2", 1_000), ("e3", 1_500), ("e4", 1_500), ("e5", 1_500), ("e6", 3_000)]
    events = [{"event_id": i, "client_ts": t} for i, t in due]

    stats = replay.send(events, post, batch=2, clock=clock, sleep=clock.sleep)

    assert requests == [
        (1.0, ["e1", "e2"]),
        (1.5, ["e3", "e4"]),  # at most 2 a request
        (1.5, ["e5"]),
        (3.0, ["e6"]),
    ]
    assert clock.slept == [1.0, 0.5, 1.5]
    assert (stats.sent, stats.requests, stats.errors) == (6, 4, 0)
    assert stats.accepted == 6 - 1  # the request holding e3 had one refused


_run = itertools.count()


def _lake(local_platform: Settings, tmp_path: Path, name: str) -> Settings:
    return Settings(
        **{
            **local_platform.model_dump(),
            "lake_uri": f"file://{tmp_path}/{name}-lake",
            "landing_prefix": f"replay-test-{name}-{next(_run)}/pageviews",
            "stream_publish_live": False,
        }
    )


def _silver_rows(spark, settings: Settings, start_ms: int, ids: set[str]) -> list[tuple]:
    from spark_jobs.tables import StreamPaths

    rows = spark.read.format("delta").load(StreamPaths.of(settings).visits).collect()
    return sorted(
        (
            r.pageview_id,
            r.user_id,
            r.session_id,
            r.article_id,
            int(r.visit_start.replace(tzinfo=UTC).timestamp() * 1000) - start_ms,
        )
        for r in rows
        if r.pageview_id in ids
    )


@pytest.mark.slow
def test_the_api_and_the_bulk_path_give_the_same_silver_rows(local_platform, spark, tmp_path):
    from spark_jobs.landing_query import catch_up
    from tests.ingestion.test_gateway import running_gateway

    folder = write(tmp_path / "g1", FOLDER_ROWS)
    via_api, via_bulk = (
        _lake(local_platform, tmp_path, "api"),
        _lake(local_platform, tmp_path, "bulk"),
    )
    args = argparse.Namespace(
        data=folder, first_hour=0, last_hour=1, speed_up=600.0, batch=3, no_drain=False, url=None
    )
    with running_gateway(local_platform, tmp_path / "gateway.log") as base_url:
        args.url = f"{base_url}/pageview"
        sent = replay.run_api(args, via_api)
    assert sent["sent"] == sent["accepted"] == sent["landed"] == 7
    bulk_start = sent["start_ms"] - 86_400_000  # a day earlier: only the start differs
    args.start = bulk_start
    loaded = replay.run_bulk(args, via_bulk)
    assert loaded["events"] == 7
    assert aws.client("s3", via_bulk).list_objects_v2(
        Bucket=via_bulk.landing_bucket, Prefix=via_bulk.landing_prefix
    )["KeyCount"]

    catch_up(spark, via_api)
    catch_up(spark, via_bulk)

    ids = {
        e["event_id"]
        for e in replay.replay_events(replay.load_clicks(folder, 0, 1), TimeShift(0, H0, 1))
    }
    api_rows = _silver_rows(spark, via_api, sent["start_ms"], ids)
    bulk_rows = _silver_rows(spark, via_bulk, bulk_start, ids)
    assert len(api_rows) == 7
    assert api_rows == bulk_rows
    # event time = start + (click time - first click time) / speed-up
    assert sorted(r[4] for r in api_rows) == [0, 50, 150, 150, 400, 6_000, 6_200]
    assert datetime.now(UTC).timestamp() * 1000 - sent["start_ms"] < 600_000
