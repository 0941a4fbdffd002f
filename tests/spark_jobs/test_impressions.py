"""Landed impression lines to silver/impressions (one row per recommendation id) and the
bad ones to silver/impressions_quarantine, through the impressions' own query on the local
platform; a rerun and a replayed batch write nothing twice."""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from chispa import assert_df_equality
from pyspark.sql import DataFrame, SparkSession

from newslake import aws
from newslake.settings import Settings
from spark_jobs.impressions import IMPRESSION_SCHEMA
from spark_jobs.impressions_query import ImpressionBatch
from spark_jobs.landing_query import catch_up
from spark_jobs.tables import StreamPaths

pytestmark = pytest.mark.slow

T0 = 1_767_268_800_000  # 2026-01-01T12:00:00Z
DAY = 86_400_000
R1, R2, R3, R4 = ("1" * 32, "2" * 32, "3" * 32, "4" * 32)
ABSENT = object()


def line(**changes: Any) -> str:
    """A record as the service writes it (a reader's answer in a variant), with
    ``changes``; a field changed to ABSENT is left out."""
    record = {
        "recommendation_id": R1,
        "portal": "g1",
        "route": "reader",
        "user_id": "alice",
        "article_id": None,
        "variant": {"experiment": "reader-list", "name": "nightly"},
        "model_version": "v2",
        "items": [
            {"article_id": "a-1", "source": "personal", "position": 1},
            {"article_id": "t-1", "source": "trending", "position": 2},
        ],
        "served_at": T0,
    }
    record |= changes
    return json.dumps({k: v for k, v in record.items() if v is not ABSENT})


def item(**changes: Any) -> dict[str, Any]:
    found = {"article_id": "a-1", "source": "popular", "position": 1} | changes
    return {k: v for k, v in found.items() if v is not ABSENT}


BAD = {
    "{not json": "not JSON",
    "[1, 2]": "not a JSON object",
    line(route=ABSENT): "missing route",
    line(items=None): "missing items",
    line(served_at=str(T0)): "wrong type: served_at",
    line(user_id=5): "wrong type: user_id",
    line(items={"article_id": "a-1"}): "wrong type: items",
    line(variant="nightly"): "wrong type: variant",
    line(items=[item(), item(source=ABSENT)]): "missing items.source",
    line(items=[item(position="1")]): "wrong type: items.position",
    line(items=[item(position=0)]): "position not 1..100",
    line(items=[item(position=101)]): "position not 1..100",
    line(route="homepage"): "unknown route",
    line(portal="bbc"): "unknown portal",
    line(recommendation_id="R1"): "bad recommendation_id",
    line(variant={"experiment": "Reader List", "name": "nightly"}): "bad variant",
}
FIRST = [
    line(),
    line(
        recommendation_id=R2, route="trending", user_id=None, variant=None, model_version=None,
        items=[item(article_id="t-9", source="trending")],
    ),
    line(
        recommendation_id=R3, route="related", user_id=ABSENT, article_id="a-5", variant=None,
        items=[item(article_id="c-1", source="covisited", position=100)],
    ),
    *BAD,
]  # fmt: skip
SECOND = [line(), line(recommendation_id=R4, served_at=T0 + DAY + 5)]  # R1 delivered again

EXPECTED = [
    (R1, "g1", "reader", "alice", None, "reader-list", "nightly", "v2",
     datetime(2026, 1, 1, 12), date(2026, 1, 1),
     [("a-1", "personal", 1), ("t-1", "trending", 2)]),
    (R2, "g1", "trending", None, None, None, None, None,
     datetime(2026, 1, 1, 12), date(2026, 1, 1), [("t-9", "trending", 1)]),
    (R3, "g1", "related", None, "a-5", None, None, "v2",
     datetime(2026, 1, 1, 12), date(2026, 1, 1), [("c-1", "covisited", 100)]),
    (R4, "g1", "reader", "alice", None, "reader-list", "nightly", "v2",
     datetime(2026, 1, 2, 12, 0, 0, 5000), date(2026, 1, 2),
     [("a-1", "personal", 1), ("t-1", "trending", 2)]),
]  # fmt: skip


@dataclass(frozen=True)
class Landed:
    settings: Settings
    paths: StreamPaths
    versions_before_rerun: tuple[int, int]
    replay_paths: StreamPaths
    replayed: tuple[dict[str, int], ...]  # the same batch processed twice


def _land(settings: Settings, name: str, lines: list[str]) -> None:
    key = f"{settings.impressions_prefix}/2026/01/01/12/{name}.json.gz"
    body = gzip.compress(("\n".join(lines) + "\n").encode())
    aws.client("s3", settings).put_object(Bucket=settings.landing_bucket, Key=key, Body=body)


def _table(spark: SparkSession, path: str) -> DataFrame:
    return spark.read.format("delta").load(path)


def _version(spark: SparkSession, path: str) -> int:
    return int(spark.sql(f"DESCRIBE HISTORY delta.`{path}` LIMIT 1").first()["version"])


@pytest.fixture(scope="module")
def landed(
    spark: SparkSession, local_platform: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Landed:
    """Two landed objects caught up one after the other by the streaming job's catch-up,
    then a rerun with nothing new; and, into a lake of its own, one batch of the first
    object's lines processed twice."""
    lake: Path = tmp_path_factory.mktemp("impressions-lake")
    settings = Settings(
        **local_platform.model_dump()
        | {
            "lake_uri": f"file://{lake}/lake",
            "impressions_prefix": "impressions-spark-test",
            "landing_prefix": "impressions-spark-test-no-pageviews",
            "stream_publish_live": False,
        }
    )
    paths = StreamPaths.of(settings)
    _land(settings, "first", FIRST)
    catch_up(spark, settings)
    _land(settings, "second", SECOND)
    catch_up(spark, settings)
    before = (_version(spark, paths.impressions), _version(spark, paths.impressions_quarantine))
    catch_up(spark, settings)

    other = Settings(**settings.model_dump() | {"lake_uri": f"file://{lake}/replay"})
    lines = spark.createDataFrame(
        [(raw, None, "s3a://landing/first.json.gz", datetime(2026, 1, 1, 13)) for raw in FIRST],
        "raw string, read_error string, source_object string, ingested_at timestamp",
    )
    replayed = tuple(ImpressionBatch(other).process(lines, query="q", batch_id=7) for _ in range(2))
    return Landed(settings, paths, before, StreamPaths.of(other), replayed)


def test_good_lines_become_one_row_per_recommendation_id(
    spark: SparkSession, landed: Landed
) -> None:
    table = _table(spark, landed.paths.impressions)
    expected = spark.createDataFrame(
        EXPECTED, IMPRESSION_SCHEMA.removesuffix(", silver_at timestamp")
    )

    assert_df_equality(
        table.drop("silver_at"), expected, ignore_row_order=True, ignore_nullable=True
    )
    assert table.where("silver_at IS NULL").count() == 0


def test_the_table_is_partitioned_by_served_date(spark: SparkSession, landed: Landed) -> None:
    detail = spark.sql(f"DESCRIBE DETAIL delta.`{landed.paths.impressions}`").first()

    assert detail["partitionColumns"] == ["served_date"]


def test_each_bad_line_is_quarantined_with_its_reason_and_object(
    spark: SparkSession, landed: Landed
) -> None:
    rows = _table(spark, landed.paths.impressions_quarantine).collect()

    assert sorted((r.raw, r.reason) for r in rows) == sorted(BAD.items())
    assert {r.source_object.rsplit("/", 1)[1] for r in rows} == {"first.json.gz"}


def test_a_rerun_with_nothing_new_writes_nothing(spark: SparkSession, landed: Landed) -> None:
    after = (
        _version(spark, landed.paths.impressions),
        _version(spark, landed.paths.impressions_quarantine),
    )

    assert after == landed.versions_before_rerun


def test_a_replayed_batch_writes_once(spark: SparkSession, landed: Landed) -> None:
    assert landed.replayed == ({"new": 3, "quarantined": 16}, {"new": 3, "quarantined": 16})
    assert _table(spark, landed.replay_paths.impressions).count() == 3
    assert _table(spark, landed.replay_paths.impressions_quarantine).count() == 16
