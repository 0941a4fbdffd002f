"""The arithmetic and the traffic of ``make bench-ingest``, checked against hand-worked values
(the bench's timings themselves are never asserted)."""

from __future__ import annotations

import argparse
import json
import random

import pytest

from benchmarks.bench_ingest import accepted_ids, landing_check, summarize
from benchmarks.ingest_load import Sent, batch_range, tracker_batch
from ingestion.validation import parse_request
from newslake.settings import Settings

NOW_MS = 1_767_225_600_000


def _batch(size: int = 5) -> list[dict]:
    return tracker_batch(
        random.Random(3),
        run="r",
        first_seq=10,
        size=size,
        portal="ge",
        domain="ge.globo.com",
        now_ms=NOW_MS,
    )


def test_a_tracker_batch_numbers_its_events_and_pairs_views_with_engagement():
    batch = _batch()
    assert [e["event_id"] for e in batch] == ["r-e10", "r-e11", "r-e12", "r-e13", "r-e14"]
    assert [e["event_type"] for e in batch] == [
        "view",
        "engagement",
        "view",
        "engagement",
        "view",
    ]
    assert [e["pageview_id"] for e in batch] == ["r-p10", "r-p10", "r-p12", "r-p12", "r-p14"]
    assert [e["client_ts"] for e in batch] == [
        NOW_MS - 8_000,
        NOW_MS - 6_000,
        NOW_MS - 4_000,
        NOW_MS - 2_000,
        NOW_MS,
    ]


def test_a_tracker_batch_is_one_reader_on_one_portal_browsing_on():
    batch = _batch()
    assert {(e["portal"], e["user_id"], e["session_id"]) for e in batch} == {
        (batch[0]["portal"], batch[0]["user_id"], batch[0]["session_id"])
    }
    assert batch[0]["portal"] == "ge"
    assert all(e["url"].startswith("https://ge.globo.com/") for e in batch)
    assert batch[1]["url"] == batch[0]["url"]  # the engagement of the page just viewed
    assert batch[0]["referrer"] == "https://www.google.com/"
    assert batch[2]["referrer"] == batch[0]["url"]  # the next page came from the last


def test_a_tracker_batch_passes_the_collectors_validation():
    batch = _batch(20)
    settings = Settings(profile="local", portals=("g1", "ge", "gshow"))
    parsed = parse_request(json.dumps({"events": batch}), settings, NOW_MS)
    assert parsed.problems == []
    assert len(parsed.events) == 20


def test_the_figures_of_a_load():
    sent = [
        Sent(first_seq=0, events=10, status=200, accepted=10, latency_ms=5.0),
        Sent(first_seq=10, events=20, status=200, accepted=20, latency_ms=7.0),
        Sent(first_seq=30, events=15, status=503, accepted=0, latency_ms=40.0),
        Sent(first_seq=45, events=15, status=0, accepted=0, latency_ms=10_000.0),
    ]
    assert summarize(sent, elapsed_s=2.0) == {
        "events_per_s": 15.0,  # 30 accepted events in 2 s
        "p50_ms": 23.5,  # 7 + (40 - 7) * 0.5
        "p99_ms": 9701.2,  # rank 2.97: 40 + (10000 - 40) * 0.97
        "errors": 2,
        "sent": 60,
        "accepted": 30,
        "requests": 4,
        "events_per_request": 15.0,
    }


def test_a_200_that_does_not_accept_the_whole_batch_is_an_error():
    sent = [Sent(first_seq=0, events=10, status=200, accepted=9, latency_ms=1.0)]
    figures = summarize(sent, elapsed_s=1.0)
    assert (figures["errors"], figures["accepted"]) == (1, 0)


def test_no_requests_have_no_figures():
    with pytest.raises(ValueError, match="no requests"):
        summarize([], elapsed_s=1.0)


def test_accepted_ids_are_those_of_the_batches_answered_200():
    sent = [
        Sent(first_seq=0, events=2, status=200, accepted=2, latency_ms=1.0),
        Sent(first_seq=2, events=3, status=503, accepted=0, latency_ms=1.0),
        Sent(first_seq=5, events=1, status=200, accepted=1, latency_ms=1.0),
    ]
    assert accepted_ids(sent, "r") == {"r-e0", "r-e1", "r-e5"}


def test_the_landing_check_counts_lost_duplicate_and_unexpected_ids():
    landed = ["r-e0", "r-e1", "r-e1", "r-e9", "warmup-e0", "rr-e5"]
    assert landing_check(landed, {"r-e0", "r-e1", "r-e5"}, "r") == {
        "landed": 3,  # r-e0, r-e1, r-e9: other runs' ids are not counted
        "lost": 1,  # r-e5
        "duplicates": 1,  # the second r-e1
        "unexpected": 1,  # r-e9 landed without a 200
    }


@pytest.mark.parametrize(("text", "expected"), [("10-20", (10, 20)), ("15", (15, 15))])
def test_a_batch_range(text, expected):
    assert batch_range(text) == expected


@pytest.mark.parametrize("text", ["0-5", "20-10", "1-101"])
def test_a_batch_range_outside_1_to_100_is_refused(text):
    with pytest.raises(argparse.ArgumentTypeError):
        batch_range(text)
