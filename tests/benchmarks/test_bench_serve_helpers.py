"""The arithmetic and the data of ``make bench-serve``, against hand-worked values (the
bench's timings themselves are never asserted)."""

from __future__ import annotations

import random

import pytest

from benchmarks import serve_app
from benchmarks.bench_serve import Summary, highest_sustained, summarize, sustained
from benchmarks.serve_load import pick_user
from newslake.store import ScoredItem


def _summary(target: float, rps: float, p99: float, errors: int = 0, degraded: int = 0) -> Summary:
    return Summary(target, rps, 1.0, p99, 100, errors, degraded)


def test_summarize_counts_rates_and_interpolated_percentiles() -> None:
    # Latencies 1..100 ms; request 7 got a 503, request 8 no answer, 9 and 10 were degraded.
    outcomes = [(200, 0, float(ms)) for ms in range(1, 101)]
    outcomes[6] = (503, 0, 7.0)
    outcomes[7] = (0, 0, 8.0)
    outcomes[8] = (200, 1, 9.0)
    outcomes[9] = (200, 1, 10.0)

    summary = summarize(outcomes, elapsed_s=2.0, target_rps=50)

    # p50: rank 49.5 between 50 and 51; p99: rank 98.01 between 99 and 100.
    assert summary == Summary(
        target_rps=50, rps=50.0, p50_ms=50.5, p99_ms=99.01, requests=100, errors=2, degraded=2
    )


def test_summarize_of_no_answers_is_zeros() -> None:
    assert summarize([], elapsed_s=0.0, target_rps=10) == Summary(10, 0.0, 0.0, 0.0, 0, 0, 0)


@pytest.mark.parametrize(
    ("summary", "expected"),
    [
        (_summary(1000, 990.0, 12.0), True),
        (_summary(1000, 950.0, 50.0), True),  # 95 % of the rate and p99 at the cap: kept up
        (_summary(1000, 949.0, 12.0), False),  # fell behind the rate
        (_summary(1000, 1000.0, 50.1), False),  # a queue is building
        (_summary(1000, 1000.0, 12.0, errors=1), False),
        (_summary(1000, 1000.0, 12.0, degraded=1), False),
        (Summary(1000, 0.0, 0.0, 0.0, 0, 0, 0), False),  # nothing was answered
    ],
)
def test_sustained_needs_no_error_no_fallback_the_rate_and_no_queue(
    summary: Summary, expected: bool
) -> None:
    assert sustained(summary, p99_cap_ms=50.0) is expected


def test_highest_sustained_is_the_highest_good_target() -> None:
    runs = [_summary(250, 250.0, 3.0), _summary(500, 499.0, 4.0), _summary(750, 600.0, 900.0)]

    assert highest_sustained(runs, 50.0) == runs[1]
    assert highest_sustained(runs[2:], 50.0) is None


def test_pick_user_takes_known_readers_at_the_share() -> None:
    rng = random.Random(7)
    known, new = ["k1", "k2"], ["n1"]

    picks = [pick_user(rng, known, new, 0.85) for _ in range(10_000)]

    assert {pick_user(rng, known, new, 1.0) for _ in range(50)} == {"k1", "k2"}
    assert {pick_user(rng, known, new, 0.0) for _ in range(50)} == {"n1"}
    assert 8_300 <= sum(p != "n1" for p in picks) <= 8_700


def test_bench_records_are_lists_reads_and_shared_lists() -> None:
    records = serve_app.records()
    personal = records[("bench#user#bench-u0007", "bench-v1")]
    recent = records[("bench#recent#bench-u0007", "live")]

    assert len(records) == 2 * serve_app.KNOWN_USERS + 2
    assert (len(personal), len(recent)) == (20, 5)
    assert [r.article_id for r in recent[:2]] == [p.article_id for p in personal[:2]]
    assert records == serve_app.records()  # the same in the driver and in the server


def test_memory_reader_answers_from_what_it_holds() -> None:
    held = {("p#trending", "live"): [ScoredItem("a", 1.0)]}
    reader = serve_app.MemoryReader(held, {"p": "v1"})

    assert (
        reader.active_version("p"),
        reader.active_version("q"),
        reader.items("p#trending", "live"),
        reader.items_many([("p#trending", "live"), ("p#popular", "v1")]),
    ) == (
        "v1",
        None,
        [ScoredItem("a", 1.0)],
        {("p#trending", "live"): [ScoredItem("a", 1.0)]},
    )
