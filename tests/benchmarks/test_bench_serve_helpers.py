"""The arithmetic and the data of ``make bench-serve``, against hand-worked values (the
bench's timings themselves are never asserted)."""

from __future__ import annotations

import json
import random
import time
from collections.abc import Sequence
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from benchmarks import serve_app
from benchmarks.bench_serve import Summary, cpu_ratio, highest_sustained, summarize, sustained
from benchmarks.serve_load import pick_user, request_path
from newslake.editorial import apply
from newslake.settings import setting_default
from newslake.store import ScoredItem
from serving.recommender import Recommendation, Recommender

T = 1_800_000_000.0  # when the records are built, in epoch seconds


def _promoted(article_id: str) -> Recommendation:
    return Recommendation(article_id, 0.0, "editorial")


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


def test_bench_records_are_lists_reads_related_and_shared_lists() -> None:
    records = serve_app.records(now=T)
    personal = records[("bench#user#bench-u0007", "bench-v1")]
    recent = records[("bench#recent#bench-u0007", "live")]
    related = [pk for pk, _ in records if pk.startswith("bench#related#")]

    # 1,000 lists and 1,000 reads; 5,000 reads among 500 articles leave none unread.
    assert len(related) == 500
    assert len(records) == 2 * 1_000 + 500 + 2
    assert (len(personal), len(recent)) == (20, 5)
    assert [r.article_id for r in recent[:2]] == [p.article_id for p in personal[:2]]
    assert len({p.article_id for p in personal}) == 20


def test_bench_reads_are_timed_back_from_when_records_are_built() -> None:
    recent = serve_app.records(now=T)[("bench#recent#bench-u0007", "live")]

    assert [r.score for r in recent] == [T, T - 60, T - 120, T - 180, T - 240]
    # Even the oldest read is younger than the service's lending window.
    assert T - recent[-1].score < 60 * setting_default("reader_lend_minutes")


def test_bench_records_are_the_same_apart_from_the_read_times() -> None:
    def articles(now: float) -> dict[tuple[str, str], list[str]]:
        return {k: [i.article_id for i in v] for k, v in serve_app.records(now=now).items()}

    assert articles(T) == articles(T + 3_600)
    assert serve_app.records(now=T) == serve_app.records(now=T)


def test_every_article_read_has_a_live_related_list_without_itself() -> None:
    records = serve_app.records(now=T)
    read = {i.article_id for (pk, _), v in records.items() if "#recent#" in pk for i in v}

    for article in read:
        related = records[(f"bench#related#{article}", "live")]
        assert len(related) == 20
        assert article not in {i.article_id for i in related}
        assert [i.score for i in related] == [float(20 - k) for k in range(20)]


class _AskedReader(serve_app.MemoryReader):
    """The bench's in-process reader, noting every key asked for."""

    def __init__(self, held: dict[tuple[str, str], list[ScoredItem]]) -> None:
        super().__init__(held, {"bench": "bench-v1"})
        self.asked: list[tuple[str, str]] = []

    def items_many(self, keys: Sequence[tuple[str, str]]) -> dict[Any, list[ScoredItem]]:
        self.asked += keys
        return super().items_many(keys)


def test_a_known_readers_request_reads_the_covisitation_of_their_newest_reads() -> None:
    records = serve_app.records(now=time.time())
    reader = _AskedReader(records)

    answer = Recommender(reader).for_user("bench", "bench-u0007", 10)

    read = [i.article_id for i in records[("bench#recent#bench-u0007", "live")]]
    newest = read[: setting_default("reader_last_reads")]
    assert {(f"bench#related#{a}", "live") for a in newest} <= set(reader.asked)
    assert len(answer.items) == 10
    assert "covisited" in {i.source for i in answer.items}
    assert set(read).isdisjoint(i.article_id for i in answer.items)


def test_bare_route_answers_fixed_bytes_shaped_like_a_readers_answer_without_a_token() -> None:
    app = serve_app.with_bare_route(FastAPI())

    response = TestClient(app).get("/bench/bare")

    assert response.status_code == 200
    assert response.content == serve_app.bare_body()
    body = json.loads(response.content)
    assert (body["portal"], body["user_id"], body["degraded"]) == ("bench", "bench-u0000", False)
    assert [i["article_id"] for i in body["items"][:2]] == ["bench-a00000", "bench-a00001"]
    assert len(body["items"]) == 10


def test_request_path_is_the_readers_list_or_the_bare_route() -> None:
    assert request_path("bench", "bench-u0001") == (
        "/v1/portals/bench/users/bench-u0001/recommendations?limit=10"
    )
    assert request_path("bench", "bench-u0001", "/bench/bare") == "/bench/bare"


@pytest.mark.parametrize(
    ("reader_ms", "bare_ms", "expected"),
    [
        (1.2, 0.4, 3.0),
        (1.0, 0.3, 3.33),  # rounded to hundredths
        (0.25, 0.5, 0.5),
        (None, 0.4, None),  # the reader's CPU was not measured
        (1.2, None, None),
        (1.2, 0.0, None),  # a bare run too short to spend a clock tick
    ],
)
def test_cpu_ratio_is_the_readers_cpu_over_the_bare_routes(
    reader_ms: float | None, bare_ms: float | None, expected: float | None
) -> None:
    assert cpu_ratio(reader_ms, bare_ms) == expected


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


def test_the_bench_controls_block_the_shared_lists_heads_and_promote_unlisted_articles() -> None:
    records = serve_app.records(now=T)
    held = serve_app.controls(records, T)
    trending = [i.article_id for i in records[("bench#trending", "live")]]
    popular = [i.article_id for i in records[("bench#popular", "bench-v1")]]

    blocked = held.blocked(T)
    assert (len(held.blocks), len(blocked)) == (20, 20)
    assert set(trending[:10]) <= blocked and set(popular[:5]) <= blocked
    assert [(p.article_id, p.position, p.share) for p in held.promotions] == [
        ("bench-a05000", 1, None),
        ("bench-a05001", None, 0.5),
    ]
    # A new reader is served trending: its first ten are blocked, the promoted one leads.
    answer = Recommender(serve_app.MemoryReader(records, {"bench": "bench-v1"})).for_user(
        "bench", "bench-n001", 30
    )
    shown = apply(
        answer.items, held, now=T, limit=10, promoted=lambda a, own: own or _promoted(a), draw=0.9
    )
    assert [i.article_id for i in shown] == ["bench-a05000", *trending[10:19]]
