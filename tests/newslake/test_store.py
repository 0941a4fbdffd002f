"""The store layout's pure helpers: recent reads merged, hot bucket keys and counts decoded."""

from __future__ import annotations

from datetime import timedelta

import pytest

from newslake import store
from newslake.store import ScoredItem

DAY = timedelta(hours=24)


def test_new_reads_merge_newest_first_one_entry_per_article() -> None:
    current = [ScoredItem("a", 900.0), ScoredItem("b", 800.0)]

    merged = store.merge_recent_reads(
        current, {"b": 950.0, "c": 850.0}, as_of=1000.0, window=DAY, limit=10
    )

    assert merged == [ScoredItem("b", 950.0), ScoredItem("a", 900.0), ScoredItem("c", 850.0)]


def test_an_older_read_of_an_article_keeps_its_newest_time() -> None:
    merged = store.merge_recent_reads(
        [ScoredItem("a", 900.0)], {"a": 100.0}, as_of=1000.0, window=DAY, limit=10
    )

    assert merged == [ScoredItem("a", 900.0)]


def test_reads_outside_the_window_are_dropped_and_the_list_is_bounded() -> None:
    as_of = 100_000.0
    new = {"old": as_of - 86_401, "a": as_of - 10, "b": as_of - 20, "c": as_of - 30}

    merged = store.merge_recent_reads([], new, as_of=as_of, window=DAY, limit=2)

    assert merged == [ScoredItem("a", as_of - 10), ScoredItem("b", as_of - 20)]


def test_equal_times_are_ordered_by_article_id() -> None:
    merged = store.merge_recent_reads([], {"z": 5.0, "y": 5.0}, as_of=6.0, window=DAY, limit=5)

    assert [i.article_id for i in merged] == ["y", "z"]


def test_hot_bucket_keys_sort_by_time_and_read_back() -> None:
    assert store.hot_key("g1") == "g1#hot"
    assert store.hot_bucket_sk(1_800_000_000) == "bucket#001800000000"
    assert store.hot_bucket_sk(999) < store.hot_bucket_sk(1_000)
    assert store.hot_bucket_start("bucket#001800000000") == 1_800_000_000
    with pytest.raises(ValueError, match="not a hot bucket"):
        store.hot_bucket_start("live")


def test_padded_sequence_numbers_compare_as_numbers() -> None:
    assert store.padded_sequence("99") < store.padded_sequence("100")
    assert len(store.padded_sequence("4959")) == 128


def test_hot_counts_of_decodes_each_bucket_and_ignores_other_attributes() -> None:
    records = [
        {
            "pk": {"S": "g1#hot"},
            "sk": {"S": "bucket#001800000000"},
            "v#a1": {"N": "3"},
            "v#a#2": {"N": "1"},
            "seq#shardId-000000000000": {"S": "0042"},
            "expires_at": {"N": "1800003660"},
        },
        {"pk": {"S": "g1#hot"}, "sk": {"S": "bucket#001800000060"}, "v#a1": {"N": "2"}},
        {"pk": {"S": "g1#hot"}, "sk": {"S": "bucket#001800000120"}, "expires_at": {"N": "1"}},
    ]

    assert store.hot_counts_of(records) == {
        1_800_000_000: {"a1": 3, "a#2": 1},
        1_800_000_060: {"a1": 2},
    }
