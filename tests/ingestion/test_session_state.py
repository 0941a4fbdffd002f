"""The session-state consumer's pure part: which records are reads, grouped by reader and
by hot bucket (expected values written by hand)."""

from __future__ import annotations

from ingestion.session_state import (
    HOT_ARTICLES_PER_WRITE,
    HotChunk,
    ReaderUpdate,
    hot_chunks,
    parse_batch,
    reader_updates,
)
from newslake.settings import Settings
from newslake.store import padded_sequence
from tests.utils.session_records import NOW, batch, view

SETTINGS = Settings(hot_bucket_s=60, live_hot_keep_s=600, trending_window_minutes=5)


def test_views_of_articles_are_reads_in_shard_order() -> None:
    parsed = parse_batch(
        batch(view("e1", "u1", "a1", NOW - 5), view("e2", "u2", "a2", NOW - 1)), SETTINGS
    )

    assert [(r.user_id, r.article_id, r.at) for r in parsed.reads] == [
        ("u1", "a1", NOW - 5),
        ("u2", "a2", NOW - 1),
    ]
    assert [r.sequence for r in parsed.reads] == [padded_sequence("1"), padded_sequence("2")]


def test_engagement_and_views_of_no_article_are_no_reads() -> None:
    parsed = parse_batch(
        batch(
            view("e1", "u1", "a1", NOW, event_type="engagement", dwell_ms=5000),
            view("e2", "u1", None, NOW),
        ),
        SETTINGS,
    )

    assert (parsed.reads, parsed.others, parsed.skipped) == ([], 2, [])


def test_malformed_records_are_skipped_and_counted() -> None:
    good = view("e9", "u1", "a1", NOW)
    no_server_ts = {k: v for k, v in view("e2", "u1", "a1", NOW).items() if k != "server_ts"}
    parsed = parse_batch(
        batch(
            b"<script>x</script>",
            b"[1, 2]",
            no_server_ts,
            view("e3", "u1", "a1", NOW, event_type="click"),
            view("e4", "u1", "a1", NOW, portal="ge"),
            view("e5", "u1", "a1", NOW, url="https://evil.example/a1"),
            view("e6", "u1", "a1", NOW, client_ts=int((NOW + 3600) * 1000)),
            b"\xff\xfe",
            good,
        ),
        SETTINGS,
    )

    assert [r.article_id for r in parsed.reads] == ["a1"]
    assert [seq for seq, _ in parsed.skipped] == ["1", "2", "3", "4", "5", "6", "7", "8"]
    assert parsed.skipped[0][1] == "not JSON"
    assert parsed.skipped[1][1] == "not a JSON object"
    assert parsed.skipped[2][1] == "no server_ts"
    assert parsed.skipped[4][1] == "portal 'ge' in g1's stream"


def test_an_event_id_twice_in_a_batch_is_read_once() -> None:
    parsed = parse_batch(batch(view("e1", "u1", "a1", NOW), view("e1", "u1", "a1", NOW)), SETTINGS)

    assert (len(parsed.reads), parsed.duplicates) == (1, 1)


def test_a_client_clock_ahead_of_the_collector_is_clamped_to_it() -> None:
    parsed = parse_batch(
        batch(view("e1", "u1", "a1", NOW, client_ts=int((NOW + 200) * 1000))), SETTINGS
    )

    assert parsed.reads[0].at == NOW


def test_reads_group_by_reader_with_each_article_newest_time() -> None:
    parsed = parse_batch(
        batch(
            view("e1", "u1", "a1", NOW - 30),
            view("e2", "u2", "a1", NOW - 20),
            view("e3", "u1", "a1", NOW - 10),
            view("e4", "u1", "a2", NOW - 40),
        ),
        SETTINGS,
    )

    assert reader_updates(parsed.reads) == [
        ReaderUpdate("u1", {"a1": NOW - 10, "a2": NOW - 40}, padded_sequence("1")),
        ReaderUpdate("u2", {"a1": NOW - 20}, padded_sequence("2")),
    ]


def test_views_fall_in_buckets_of_their_time() -> None:
    # NOW is a multiple of 60: NOW - 61 is in the bucket before NOW's.
    parsed = parse_batch(
        batch(
            view("e1", "u1", "a1", NOW - 61),
            view("e2", "u2", "a1", NOW + 1),
            view("e3", "u3", "a2", NOW + 59),
        ),
        SETTINGS,
    )

    chunks = hot_chunks(parsed.reads, SETTINGS, now=NOW + 60)

    p = padded_sequence
    assert chunks == [
        HotChunk(int(NOW) - 120, ((p("1"), "a1"),), int(NOW) - 120 + 60 + 600),
        HotChunk(int(NOW), ((p("2"), "a1"), (p("3"), "a2")), int(NOW) + 60 + 600),
    ]
    assert chunks[1].counts() == {"a1": 1, "a2": 1}
    assert chunks[1].counts(after=p("2")) == {"a2": 1}


def test_buckets_are_kept_for_the_trending_window_when_it_is_longer() -> None:
    settings = Settings(hot_bucket_s=60, live_hot_keep_s=600, trending_window_minutes=30)
    parsed = parse_batch(batch(view("e1", "u1", "a1", NOW)), settings)

    (chunk,) = hot_chunks(parsed.reads, settings, now=NOW)

    assert chunk.expires_at == int(NOW) + 60 + 1800


def test_views_in_buckets_already_expired_are_not_counted() -> None:
    parsed = parse_batch(batch(view("e1", "u1", "a1", NOW - 3600)), SETTINGS)

    assert hot_chunks(parsed.reads, SETTINGS, now=NOW) == []


def test_a_bucket_with_many_articles_is_cut_into_chunks_in_shard_order() -> None:
    n = HOT_ARTICLES_PER_WRITE + 1
    events = [view(f"e{i}", f"u{i}", f"a{i}", NOW) for i in range(n)]
    events.append(view("again", "u0", "a0", NOW))
    parsed = parse_batch(batch(*events), SETTINGS)

    chunks = hot_chunks(parsed.reads, SETTINGS, now=NOW)

    assert [len(c.counts()) for c in chunks] == [HOT_ARTICLES_PER_WRITE, 2]
    assert chunks[0].first == padded_sequence("1")
    assert chunks[0].last == padded_sequence(str(HOT_ARTICLES_PER_WRITE))
    assert chunks[1].counts() == {f"a{n - 1}": 1, "a0": 1}
