"""silver.editorial_audit from the change log on the tests' moto server: every change once,
however often the job runs, and a table the erasure passes over."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import pytest
from chispa import assert_df_equality

from newslake import aws, editorial_store
from newslake.editorial import Block, Promote
from newslake.editorial_store import Change
from newslake.settings import Settings
from spark_jobs import editorial_audit_stage, reader_rows
from spark_jobs.tables import editorial_audit_path

pytestmark = pytest.mark.slow

_portals = (f"audit{n}" for n in itertools.count())
AUDITED = datetime(2026, 1, 2, tzinfo=UTC)


def _at(epoch_s: int) -> datetime:
    return datetime.fromtimestamp(epoch_s, UTC)


@pytest.fixture()
def settings(local_platform, tmp_path) -> Settings:
    """A portal of this test alone, with two changes in its log: a block, then a promotion."""
    portal = next(_portals)
    settings = Settings(
        **{
            **local_platform.model_dump(),
            "lake_uri": f"file://{tmp_path}/lake",
            "portals": (portal,),
        }
    )
    ddb, table = aws.client("dynamodb", settings), settings.recommendations_table
    block = Block("a1", "court order", 1_800_003_600, "newsroom-app", 1_800_000_000)
    editorial_store.write(
        ddb,
        table,
        editorial_store.block_item(portal, block),
        Change(
            portal, "1800000000000#b1", "block", "a1", "newsroom-app", 1_800_000_000_000,
            "court order", '{"reason":"court order","until":1800003600}',
        ),
    )  # fmt: skip
    promote = Promote(
        "a2", 1, None, 1_800_000_000, 1_800_007_200, ("sport",), "desk", 1_800_000_060
    )
    editorial_store.write(
        ddb,
        table,
        editorial_store.promote_item(portal, promote),
        Change(
            portal, "1800000060000#p1", "promote", "a2", "desk", 1_800_000_060_000, "",
            '{"end":1800007200,"position":1,"sections":["sport"],"share":null,"start":1800000000}',
        ),
    )  # fmt: skip
    return settings


def test_two_changes_audited_once_over_two_runs(spark, settings):
    first = editorial_audit_stage.run(spark, settings, now=AUDITED)
    again = editorial_audit_stage.run(spark, settings, now=AUDITED)

    assert (first, again) == ({"changes": 2, "added": 2}, {"changes": 2, "added": 0})
    (portal,) = settings.portals
    expected = spark.createDataFrame(
        [
            (
                portal, "1800000000000#b1", "block", "a1", "newsroom-app", _at(1_800_000_000),
                "court order", _at(1_800_003_600), None, None, None, None, None,
                '{"reason":"court order","until":1800003600}', _at(1_767_312_000),
            ),
            (
                portal, "1800000060000#p1", "promote", "a2", "desk", _at(1_800_000_060),
                None, None, _at(1_800_000_000), _at(1_800_007_200), 1, None, ["sport"],
                '{"end":1800007200,"position":1,"sections":["sport"],"share":null,'
                '"start":1800000000}',
                _at(1_767_312_000),
            ),
        ],
        editorial_audit_stage.SCHEMA,
    )  # fmt: skip
    audit = spark.read.format("delta").load(editorial_audit_path(settings))
    assert_df_equality(audit, expected, ignore_row_order=True, ignore_nullable=True)


def test_the_erasure_passes_over_the_audit_which_names_no_reader(spark, settings):
    editorial_audit_stage.run(spark, settings, now=AUDITED)
    names = [t.name for t in reader_rows.reader_tables(spark, settings)]
    assert "silver.editorial_audit" not in names
