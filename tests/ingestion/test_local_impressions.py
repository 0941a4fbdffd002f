"""The local impression shipper: segment files to GZIP JSON lines in the landing bucket,
each line once, through crashes and reruns; nothing at all in the aws profile."""

from __future__ import annotations

import gzip
import itertools
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from ingestion import local_impressions
from ingestion.local_impressions import ImpressionShipper
from newslake import aws
from newslake.settings import Settings

pytestmark = pytest.mark.slow

NINE = datetime(2026, 3, 7, 9, 15, tzinfo=UTC)
TEN = datetime(2026, 3, 7, 10, 5, tzinfo=UTC)
_run = itertools.count()


@pytest.fixture()
def settings(local_platform: Settings, tmp_path: Path) -> Settings:
    return Settings(
        **{
            **local_platform.model_dump(),
            "state_dir": tmp_path,
            "impressions_prefix": f"impressions-test-{next(_run)}",
        }
    )


def _write(settings: Settings, segment: str, data: str) -> None:
    directory = settings.local_impressions_dir
    directory.mkdir(parents=True, exist_ok=True)
    with (directory / segment).open("ab") as f:
        f.write(data.encode())


def _landed(settings: Settings) -> dict[str, list[str]]:
    """Every landed object under the test's prefix: key (less the prefix) -> its lines."""
    s3 = aws.client("s3", settings)
    prefix = settings.impressions_prefix + "/"
    listed = s3.list_objects_v2(Bucket=settings.landing_bucket, Prefix=prefix)
    out = {}
    for o in listed.get("Contents", []):
        body = s3.get_object(Bucket=settings.landing_bucket, Key=o["Key"])["Body"].read()
        out[o["Key"].removeprefix(prefix)] = gzip.decompress(body).decode().splitlines()
    return out


def _shipper(settings: Settings, *, alive: bool = True, at: datetime = NINE, s3: Any = None):
    return ImpressionShipper(
        settings, s3 or aws.client("s3", settings), alive=lambda pid: alive, clock=lambda: at
    )


class CrashingS3:
    """An S3 client whose put dies, before writing the object or after it."""

    def __init__(self, settings: Settings, *, after_put: bool) -> None:
        self.real = aws.client("s3", settings)
        self.after_put = after_put

    def put_object(self, **kwargs: Any) -> None:
        if self.after_put:
            self.real.put_object(**kwargs)
        raise ConnectionError("killed mid-delivery")


def test_complete_lines_land_and_a_line_being_written_waits(settings: Settings) -> None:
    _write(settings, "41-000000.jsonl", '{"n":1}\n{"n":2}\n{"n":')

    first = _shipper(settings).ship()
    _write(settings, "41-000000.jsonl", '3}\n{"n":4}\n')
    _shipper(settings, at=TEN).ship()

    assert (first.lines, first.objects) == (2, 1)
    assert _landed(settings) == {
        "2026/03/07/09/41-000000-000000000000.json.gz": ['{"n":1}', '{"n":2}'],
        "2026/03/07/10/41-000000-000000000016.json.gz": ['{"n":3}', '{"n":4}'],
    }


def test_a_rerun_lands_nothing_again(settings: Settings) -> None:
    _write(settings, "41-000000.jsonl", '{"n":1}\n')
    _shipper(settings).ship()

    again = _shipper(settings, at=TEN).ship()

    assert (again.lines, again.objects) == (0, 0)
    assert list(_landed(settings)) == ["2026/03/07/09/41-000000-000000000000.json.gz"]


@pytest.mark.parametrize("after_put", [False, True], ids=["before-the-object", "after-it"])
def test_a_delivery_killed_midway_is_redone_under_the_same_key(
    settings: Settings, after_put: bool
) -> None:
    _write(settings, "41-000000.jsonl", '{"n":1}\n{"n":2}\n')
    with pytest.raises(ConnectionError):
        _shipper(settings, s3=CrashingS3(settings, after_put=after_put)).ship()
    _write(settings, "41-000000.jsonl", '{"n":3}\n')  # more arrives before the rerun

    _shipper(settings, at=TEN).ship()

    assert _landed(settings) == {
        "2026/03/07/09/41-000000-000000000000.json.gz": ['{"n":1}', '{"n":2}'],
        "2026/03/07/10/41-000000-000000000016.json.gz": ['{"n":3}'],
    }


def test_a_finished_segment_is_removed_once_shipped_and_the_newest_kept(
    settings: Settings,
) -> None:
    _write(settings, "41-000000.jsonl", '{"n":1}\n')
    _write(settings, "41-000001.jsonl", '{"n":2}\n')

    stats = _shipper(settings).ship()

    assert stats.removed == 1
    assert sorted(p.name for p in settings.local_impressions_dir.glob("*.jsonl")) == [
        "41-000001.jsonl"
    ]
    assert sorted(_landed(settings).values()) == [['{"n":1}'], ['{"n":2}']]


def test_a_dead_services_cut_off_line_is_landed_for_the_lake_to_quarantine(
    settings: Settings,
) -> None:
    _write(settings, "41-000000.jsonl", '{"n":1}\n{"n":')

    _shipper(settings, alive=False).ship()

    assert _landed(settings) == {
        "2026/03/07/09/41-000000-000000000000.json.gz": ['{"n":1}', '{"n":'],
    }
    assert list(settings.local_impressions_dir.glob("*.jsonl")) == []
    assert (settings.local_impressions_dir / "shipped.json").read_text() == "{}"


def test_the_aws_profile_never_uses_the_local_path(tmp_path: Path) -> None:
    aws_settings = Settings(profile="aws", state_dir=tmp_path)
    (tmp_path / "impressions").mkdir()
    (tmp_path / "impressions" / "41-000000.jsonl").write_text('{"n":1}\n')

    stats = local_impressions.ship(aws_settings, s3=object())  # any S3 call would fail

    assert (stats.lines, stats.objects) == (0, 0)
    assert sorted(p.name for p in (tmp_path / "impressions").iterdir()) == ["41-000000.jsonl"]
    with pytest.raises(ValueError, match="local profile only"):
        ImpressionShipper(aws_settings, object())
