"""The arithmetic and the data of ``make bench-fresh``, against hand-worked values (the
bench's timings themselves are never asserted)."""

from __future__ import annotations

import json
import time

from benchmarks.bench_fresh import (
    SEEDED,
    VERSION,
    Probe,
    article_ids,
    seed_records,
    summarize,
    view,
)
from ingestion.validation import parse_request
from newslake import store
from newslake.settings import Settings


def test_a_probe_is_as_fresh_as_the_time_from_acceptance_to_the_answer_without_it() -> None:
    assert Probe("r", "a", accepted_at=10.0, seen_at=12.5).freshness_s == 2.5
    assert Probe("r", "a", accepted_at=10.0, seen_at=None).freshness_s is None


def test_summarize_counts_what_showed_within_the_bound() -> None:
    # Freshness 1..10 s, one probe never seen, one seen after the bound of 30 s.
    probes = [Probe(f"r{i}", "a", 0.0, float(i)) for i in range(1, 11)]
    probes += [Probe("late", "a", 0.0, 31.0), Probe("never", "a", 0.0, None)]

    summary = summarize(probes, bound_s=30.0)

    # p50: rank 4.5 between 5 and 6; p95: rank 8.55 between 9 and 10.
    assert summary == {
        "reader_freshness_p50_s": 5.5,
        "reader_freshness_p95_s": 9.55,
        "reader_freshness_max_s": 10.0,
        "sent": 12,
        "seen": 10,
    }


def test_summarize_of_probes_never_seen_has_no_percentiles() -> None:
    assert summarize([Probe("r", "a", 0.0, None)], bound_s=30.0) == {
        "reader_freshness_p50_s": None,
        "reader_freshness_p95_s": None,
        "reader_freshness_max_s": None,
        "sent": 1,
        "seen": 0,
    }


def test_article_ids_are_read_from_an_answer_in_order() -> None:
    answer = {"items": [{"article_id": "7", "score": 2.0}, {"article_id": "3", "score": 1.0}]}

    assert article_ids(answer) == ["7", "3"]
    assert article_ids({"items": []}) == []


def test_the_probes_view_is_an_event_the_collector_accepts() -> None:
    settings = Settings(portals=("g1",), portal_domains={"g1": ("g1.globo.com",)})
    event = view("g1", "g1.globo.com", "probe-001", "1000", session="probe-001")

    parsed = parse_request(json.dumps(event), settings, int(time.time() * 1000))

    assert parsed.problems == []
    assert (event["event_type"], event["article_id"], event["user_id"]) == (
        "view",
        "1000",
        "probe-001",
    )


def test_every_portal_is_seeded_with_trending_and_popular() -> None:
    records = seed_records(["g1", "ge"])

    keys = sorted((r["pk"]["S"], r["sk"]["S"]) for r in records)
    assert keys == [
        ("g1#popular", VERSION),
        ("g1#trending", store.LIVE),
        ("ge#popular", VERSION),
        ("ge#trending", store.LIVE),
    ]
    items = store.items_of(records[0])
    assert len(items) == SEEDED
    assert (items[0].article_id, items[0].score) == ("1000", float(SEEDED))
