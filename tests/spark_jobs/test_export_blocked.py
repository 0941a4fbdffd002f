"""The nightly export leaves the articles blocked now out of a version's lists, or fails.

A version of portal ``exb`` written by hand, top_n 2, each list ranked 3 deep so that a
list losing one article keeps its length:

* reader r1: x, y, z; popular: x, y, z; related to x: y, z, w.
* y is blocked: r1 gets x, z; popular x, z; related to x: z, w.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import pytest

from newslake import aws, editorial_store, store
from newslake.editorial import Block
from newslake.editorial_store import ControlsStoreError, DynamoControls
from newslake.settings import Settings
from spark_jobs import export, gold
from spark_jobs.tables import GoldPaths
from tests.utils.store import stored_lists

pytestmark = pytest.mark.slow

VERSION = "v-blocked"
_portals = (f"exb{n}" for n in itertools.count())


@pytest.fixture()
def version(spark, local_platform, tmp_path) -> tuple[Settings, str]:
    """A promoted version of a portal of this test alone (its controls are its own)."""
    settings = Settings(
        **{**local_platform.model_dump(), "lake_uri": f"file://{tmp_path}/lake", "top_n": 2}
    )
    portal, paths = next(_portals), GoldPaths.of(settings)
    ranked = list(enumerate("xyz", start=1))
    tables = {
        paths.recommendations: (
            [("r1", rank, a, 1.0 / rank, portal, VERSION) for rank, a in ranked],
            "user_id string, rank int, article_id string, score double",
        ),
        paths.popular: (
            [(rank, a, 10 - rank, portal, VERSION) for rank, a in ranked],
            "rank int, article_id string, views long",
        ),
        paths.related: (
            [("x", rank, a, 1.0 / rank, portal, VERSION) for rank, a in enumerate("yzw", 1)],
            "source_article_id string, rank int, article_id string, score double",
        ),
    }
    for path, (rows, schema) in tables.items():
        full = f"{schema}, portal string, version string"
        spark.createDataFrame(rows, full).write.format("delta").save(path)
    gold.write_model_runs(
        spark, paths.model_runs, portal=portal, version=VERSION,
        as_of=datetime(2026, 1, 10, tzinfo=UTC), cutoff=None, k=10, status="candidate",
        decision="promote", reason="", input_versions={}, stage_s={},
        runs=[gold.ModelRun("served", {}, {"served": {"personal_weight": 1.0}})],
    )  # fmt: skip
    return settings, portal


def test_the_export_leaves_blocked_articles_out_and_lists_keep_their_length(spark, version):
    settings, portal = version
    ddb = aws.client("dynamodb", settings)
    block = Block("y", "court order", None, "newsroom", 1_800_000_000)
    DynamoControls(ddb, settings.recommendations_table).block(portal, block)

    counts = export.export_version(spark, settings, portal, VERSION, 0)

    assert counts == {"personal": 1, "popular": 1, "related": 1, "weights": 1}
    items = stored_lists(ddb, settings.recommendations_table, version=VERSION)
    assert items(store.user_key(portal, "r1")) == ["x", "z"]
    assert items(store.popular_key(portal)) == ["x", "z"]
    assert items(store.related_key(portal, "x")) == ["z", "w"]


def test_controls_that_cannot_be_read_export_nothing(spark, version, monkeypatch):
    settings, portal = version

    def down(*args, **kwargs):
        raise ControlsStoreError("injected: the store does not answer")

    monkeypatch.setattr(editorial_store, "load", down)
    with pytest.raises(export.ExportError, match="editorial controls could not be read"):
        export.export_version(spark, settings, portal, VERSION, 0)
    ddb = aws.client("dynamodb", settings)
    key = store.record_key(store.popular_key(portal), VERSION)
    assert "Item" not in ddb.get_item(TableName=settings.recommendations_table, Key=key)
