"""The live publisher leaves blocked articles out of its lists, which keep their length.

Silver visits written by hand, top_n 2, g1 at 12:00-12:05:

* session s1 reads a, b, c; s2 reads a, b; s3 reads a, d. Views: a 3, b 2, c 1, d 1.
* trending: a, b, then c and d tied (by id): a, b. With b blocked: a, c.
* related to a: b (two sessions, next read), d (next read once), c (two reads later):
  b, d. With b blocked: d, c.
"""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta

import pytest

from newslake import aws, store
from newslake.editorial import Block
from newslake.editorial_store import ControlsStoreError
from newslake.settings import Settings
from spark_jobs.publisher import LivePublisher
from spark_jobs.tables import StreamPaths
from tests.utils.editorial import FakeControls
from tests.utils.store import stored_lists

pytestmark = pytest.mark.slow

SILVER = (
    "pageview_id string, portal string, user_id string, session_id string, article_id string, "
    "visit_start timestamp, dwell_ms long, scroll_depth int, clicks int, silver_at timestamp"
)
START = datetime(2026, 1, 1, 12, 0)
SESSIONS = {"s1": ["a", "b", "c"], "s2": ["a", "b"], "s3": ["a", "d"]}
NOW = 1_900_000_000.0  # the publisher's clock: the block below is in effect
RETRACTED = Block("b", "retraction", None, "newsroom", 1_800_000_000)
_run = itertools.count()


@pytest.fixture()
def settings(spark, local_platform, tmp_path) -> Settings:
    settings = Settings(
        **{**local_platform.model_dump(), "lake_uri": f"file://{tmp_path}/lake", "top_n": 2}
    )
    rows, n = [], itertools.count()
    for session, articles in SESSIONS.items():
        for minute, article in enumerate(articles):
            at = START + timedelta(minutes=minute)
            rows.append((f"pv{next(n)}", "g1", f"u-{session}", session, article, at, 0, 0, 0, at))
    spark.createDataFrame(rows, SILVER).write.format("delta").save(StreamPaths.of(settings).visits)
    return settings


def _lists(settings):
    items = stored_lists(
        aws.client("dynamodb", settings), settings.recommendations_table, version=store.LIVE
    )
    return items(store.trending_key("g1")), items(store.related_key("g1", "a"))


def test_blocked_articles_leave_the_live_lists_which_keep_their_length(spark, settings):
    controls = FakeControls()
    controls.block("g1", RETRACTED)
    publisher = LivePublisher(spark, settings, clock=lambda: NOW, controls=controls.load)
    assert publisher.publish()
    assert _lists(settings) == (["a", "c"], ["d", "c"])


def _feed_a_view_of_d(spark, publisher):
    views = spark.createDataFrame(
        [("g1", "u9", "d", "pv9", "view", datetime(2026, 1, 1, 12, 6))],
        "portal string, user_id string, article_id string, pageview_id string, "
        "event_type string, event_time timestamp",
    )
    publisher.feed(views)  # then a 3 views, b 2, d 2, c 1


def test_trending_from_the_fed_views_leaves_blocked_articles_out(spark, settings):
    controls = FakeControls()
    publisher = LivePublisher(spark, settings, clock=lambda: NOW, controls=controls.load)
    assert publisher.round()  # from the table, nothing blocked yet
    assert _lists(settings)[0] == ["a", "b"]
    controls.block("g1", RETRACTED)
    _feed_a_view_of_d(spark, publisher)
    assert publisher.round()
    assert _lists(settings)[0] == ["a", "d"]


def test_the_store_failing_keeps_the_last_controls_read(spark, settings, caplog):
    controls = FakeControls()
    controls.block("g1", RETRACTED)
    publisher = LivePublisher(spark, settings, clock=lambda: NOW, controls=controls.load)
    assert publisher.round()
    controls.fail = True
    _feed_a_view_of_d(spark, publisher)
    assert publisher.round()
    assert _lists(settings)[0] == ["a", "d"]
    assert "editorial controls of g1 not read; the last read apply" in caplog.text


def test_controls_never_read_publish_nothing(spark, settings):
    controls = FakeControls(fail=True)
    publisher = LivePublisher(spark, settings, clock=lambda: NOW, controls=controls.load)
    with pytest.raises(ControlsStoreError, match="controls of g1 were never read"):
        publisher.publish()
