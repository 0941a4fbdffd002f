"""A bench's lake: the default location under a state folder of its own."""

from __future__ import annotations

from benchmarks.lake import own_lake
from newslake.settings import Settings


def test_a_bench_lake_is_the_default_one_under_its_own_state_folder(tmp_path):
    settings = Settings(profile="local", state_dir=tmp_path, lake_uri=None)
    assert own_lake(settings, "bench-erase") == f"file://{tmp_path}/bench-erase/lake"
    assert own_lake(settings, "bench-faults", "20270101") == (
        f"file://{tmp_path}/bench-faults/20270101/lake"
    )
    assert settings.lake_root == f"file://{tmp_path}/lake"  # the user's, untouched


def test_a_lake_named_in_the_environment_wins(tmp_path):
    settings = Settings(profile="local", state_dir=tmp_path, lake_uri="s3a://newslake-lake/")
    assert own_lake(settings, "bench-batch") == "s3a://newslake-lake"
