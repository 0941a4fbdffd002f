"""The arithmetic and the sample of ``make bench-erase``, against hand-worked values (the
bench's timings themselves are never asserted)."""

from __future__ import annotations

from benchmarks.bench_erase import pick_readers, summarize


def test_the_readers_drawn_depend_on_the_seed_not_on_the_order_ids_come_in() -> None:
    ids = [f"u{i:02d}" for i in range(30)]
    drawn = pick_readers(ids, 5, seed=7)
    assert len(drawn) == 5 and len(set(drawn)) == 5 and set(drawn) <= set(ids)
    assert pick_readers(reversed(ids + ids), 5, seed=7) == drawn
    assert drawn == sorted(drawn)


def test_fewer_ids_than_asked_draws_them_all() -> None:
    assert pick_readers(["b", "a", "b"], 100, seed=1) == ["a", "b"]


def test_the_summary_adds_what_was_removed_and_what_was_found_after() -> None:
    removed = {"delta/silver.events": 40, "landing": 25, "store": 3}
    found = {"delta/silver.events": 0, "landing": 2, "store": 0}

    out = summarize(2, removed, 12.345, found)

    assert out == {
        "readers": 2,
        "rows_removed": 68,
        "seconds": 12.35,
        "found_after": 2,
        "removed_by_place": {"delta/silver.events": 40, "landing": 25, "store": 3},
        "found_after_by_place": {"landing": 2},
    }
