"""What the local platform keeps on disk between runs, and what a clean start removes."""

from __future__ import annotations

from newslake.local import keep
from newslake.settings import Settings


def test_a_clean_start_removes_the_default_lake_and_the_snapshots(tmp_path):
    settings = Settings(profile="local", state_dir=tmp_path, lake_uri=None)
    (tmp_path / "lake" / "silver" / "pageviews").mkdir(parents=True)
    (tmp_path / "keep").mkdir()
    (tmp_path / "moto.log").write_text("kept")

    keep.forget(settings)

    assert sorted(p.name for p in tmp_path.iterdir()) == ["moto.log"]


def test_a_clean_start_never_removes_a_lake_the_user_named(tmp_path):
    mine = tmp_path / "elsewhere"
    (mine / "silver").mkdir(parents=True)
    settings = Settings(profile="local", state_dir=tmp_path / "state", lake_uri=f"file://{mine}")

    keep.forget(settings)

    assert keep.lake_dir(settings) is None
    assert (mine / "silver").is_dir()
