"""bench-faults' own logic: when a micro-batch of the streaming job is under way."""

from __future__ import annotations

from benchmarks.bench_faults import batch_under_way


def _write(folder, *names):
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        (folder / name).write_text("")


def test_no_checkpoint_yet_is_no_batch(tmp_path):
    assert batch_under_way(tmp_path / "landing_pageviews") is None


def test_a_batch_with_offsets_and_no_commit_is_under_way(tmp_path):
    _write(tmp_path / "offsets", "0", "1", "2", ".2.crc")
    _write(tmp_path / "commits", "0", "1", ".1.crc")

    assert batch_under_way(tmp_path) == 2


def test_every_batch_committed_is_none_under_way(tmp_path):
    _write(tmp_path / "offsets", "0", "1")
    _write(tmp_path / "commits", "0", "1")

    assert batch_under_way(tmp_path) is None
