"""The nightly chain on hand-made silver visits, against the tests' moto server.

Four portals, as of 2026-01-10 00:00 (test period: the day before):

The reader's list served at the cutoff is trending alone here (the settings below; no read
is recent enough to lend its co-visitation), and trending shows 15 popular fillers, f00 first.

* g1: six readers last read a_i; a_i and b_i are read together in other sessions; in the
  test period each reader reads b_i. Served without personal lists: NDCG 0; ALS finds b_i
  through the co-reading, so the personal lists earn a weight: published.
* ge: the same history, but the readers read f00 next: served without personal lists it is
  first (NDCG 1), nothing can lift that, so the personal lists' weight is 0: published.
* regress: the readers read b_i, which is older than the freshness horizon (ALS never
  recommends it); the version in service lists it first for each reader, at weight 2:
  served with it NDCG 1, with the candidate 0: rejected, the version in service stays.
* gshow: no data at all: skipped. quiet: history, but no clicks in the test period: skipped.
"""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime, timedelta

import pytest
from delta.tables import DeltaTable
from pyspark import cloudpickle
from pyspark.sql import functions as F

from newslake import aws, store, versions
from newslake.privacy import ErasureRequests
from newslake.settings import Settings
from spark_jobs import als, export, gold, nightly, portal_run
from spark_jobs.search import search_portal
from spark_jobs.tables import GoldPaths, StreamPaths
from tests.utils.store import stored_lists

pytestmark = pytest.mark.slow
cloudpickle.register_pickle_by_value(sys.modules[__name__])  # fakes shipped to executors

AS_OF = datetime(2026, 1, 10, tzinfo=UTC)
CUTOFF = AS_OF - timedelta(days=1)
VERSION = "v20260110T000000Z"
ERASED = "nightly-erased-reader"
SILVER = (
    "pageview_id string, portal string, user_id string, session_id string, article_id string, "
    "visit_start timestamp, dwell_ms long, scroll_depth int, clicks int, silver_at timestamp"
)


def _portal_rows(portal, test_read):
    """Visits of one portal; ``test_read(i)`` is what reader t_i reads in the test period."""
    rows = []

    def visit(user, session, article, at):
        n = len(rows)
        rows.append((f"{portal}-{n}", portal, user, session, article, at, 0, 0, 0, at))

    for j in range(15):  # fillers f00..f14: 30 - j views in the last two hours
        for c in range(30 - j):
            visit(f"c{c:02d}", f"cs{c:02d}", f"f{j:02d}", CUTOFF - timedelta(minutes=120 - j))
    for i in range(6):
        for j in range(3):  # a_i and b_i read together
            at = CUTOFF - timedelta(hours=10)
            visit(f"p{i}{j}", f"ps{i}{j}", f"a{i}", at)
            visit(f"p{i}{j}", f"ps{i}{j}", f"b{i}", at + timedelta(minutes=5))
        visit(f"t{i}", f"ts{i}", f"a{i}", CUTOFF - timedelta(hours=5))
        if test_read is not None:
            visit(f"t{i}", f"tt{i}", test_read(i), CUTOFF + timedelta(hours=2))
    return rows


def _regress_rows():
    """g1's history without the co-reading; b_i read once, 8 days before the cutoff."""
    rows = [r for r in _portal_rows("regress", lambda i: f"b{i}") if not r[2].startswith("p")]
    for i in range(6):
        at = CUTOFF - timedelta(days=8)
        rows.append((f"regress-old-{i}", "regress", f"o{i}", f"os{i}", f"b{i}", at, 0, 0, 0, at))
    return rows


def _in_service(spark, settings):
    """regress's version in service: b_i first for each t_i, earned weight 2."""
    paths = GoldPaths.of(settings)
    recs = [(f"t{i}", 1, f"b{i}", 1.0, "regress", "v-old") for i in range(6)]
    spark.createDataFrame(
        recs,
        "user_id string, rank int, article_id string, score double, portal string, version string",
    ).write.format("delta").save(paths.recommendations)
    gold.write_model_runs(
        spark, paths.model_runs, portal="regress", version="v-old", as_of=CUTOFF, cutoff=None,
        k=10, status="published", decision="promote", reason="", input_versions={}, stage_s={},
        runs=[gold.ModelRun("served", {}, {"served": {"personal_weight": 2.0}})],
    )  # fmt: skip


def _settings(local_platform, tmp_path):
    return Settings(
        **{
            **local_platform.model_dump(),
            "lake_uri": f"file://{tmp_path}/lake",
            "portals": ("g1", "ge", "gshow", "quiet", "regress"),
            "reader_w_hot": 0.0,  # the served list: trending alone (module docstring)
            "reader_w_trending": 1.0,
            # the weekly search's blend
            "blend_w_hot": 0.0,
            "blend_w_trending": 1.0,
            "blend_w_covisit": 2.0,
            "blend_w_als": 0.0,
            "related_window_hours": 48,
            "als_rank": 4,
            "als_max_iter": 3,
            # lists of 4, gold ranking 2 more for the export to draw on past blocked articles
            "top_n": 4,
            "published_spare_ranks": 2,
        }
    )


class FailingDynamo:
    """A DynamoDB client that writes ``ok`` items, then fails like a dropped connection."""

    def __init__(self, settings, ok):
        self.inner, self.left = aws.client("dynamodb", settings), ok

    def batch_write_item(self, RequestItems):
        ((_table, requests),) = RequestItems.items()
        if self.left < len(requests):
            raise ConnectionError("injected: connection dropped mid-export")
        self.left -= len(requests)
        return self.inner.batch_write_item(RequestItems=RequestItems)


class FailAfter:
    def __init__(self, ok):
        self.ok = ok

    def __call__(self, settings):
        return FailingDynamo(settings, self.ok)


@pytest.fixture(scope="module")
def nightly_run(spark, local_platform, tmp_path_factory):
    settings = _settings(local_platform, tmp_path_factory.mktemp("nightly"))
    rows = _portal_rows("g1", lambda i: f"b{i}") + _portal_rows("ge", lambda i: "f00")
    rows += _portal_rows("quiet", None) + _regress_rows()
    spark.createDataFrame(rows, SILVER).write.format("delta").save(StreamPaths.of(settings).visits)
    _in_service(spark, settings)
    ddb = aws.client("dynamodb", settings)
    for portal in settings.portals:  # a clean pointer table for these portals
        ddb.delete_item(TableName=settings.versions_table, Key=store.version_key(portal))
    for portal in ("ge", "regress"):
        versions.switch_active_version(ddb, settings.versions_table, portal, "v-old", None)
    # a reader the lake never saw asks for erasure: the chain's erase stage completes it
    ErasureRequests.of(settings).ask("g1", ERASED, asked_by="test", now=time.time())
    report = nightly.run(spark, settings, as_of=AS_OF, version=VERSION)
    return settings, report, ddb


def test_the_chain_erases_pending_readers_before_the_interactions(nightly_run):
    settings, report, _ = nightly_run
    stages = list(report.stages_s)
    assert stages[:4] == ["catch_up", "rec_performance", "erase", "interactions"]
    done = ErasureRequests.of(settings).get("g1", ERASED)
    assert done is not None and done.status == "done"


def test_each_portal_ends_published_rejected_or_skipped(nightly_run):
    _, report, _ = nightly_run
    assert {p: r["status"] for p, r in report.portals.items()} == {
        "g1": "published",
        "ge": "published",
        "regress": "rejected",
        "gshow": "skipped",
        "quiet": "skipped",
    }
    assert (
        report.portals["quiet"]["reason"] == "too few users with clicks in the test period (0 < 5)"
    )


def test_metrics_of_every_model_on_the_next_day(nightly_run):
    _, report, _ = nightly_run
    g1, ge = report.portals["g1"]["metrics"], report.portals["ge"]["metrics"]
    regress = report.portals["regress"]["metrics"]
    assert {m: g1[m]["ndcg_at_10"] for m in ("popular", "trending", "served")} == {
        "popular": 0.0,
        "trending": 0.0,
        "served": 0.0,
    }
    assert g1["served"]["users"] == 6
    assert (ge["trending"]["ndcg_at_10"], ge["served"]["ndcg_at_10"]) == (1.0, 1.0)
    assert (regress["served"]["ndcg_at_10"], regress["in_service"]["ndcg_at_10"]) == (0.0, 1.0)
    trials = {f"served_personal_{w}" for w in ("0.05", "0.1", "0.25", "0.5", "1")}
    assert set(g1) == {"als", "popular", "trending", "served"} | trials


def test_personal_lists_earn_a_weight_only_where_they_lift_the_served_list(nightly_run):
    _, report, _ = nightly_run
    g1, ge = report.portals["g1"]["gate"], report.portals["ge"]["gate"]
    assert float(g1["personal_weight"]) > 0
    assert "lift ndcg_at_10 from 0.0000 to" in g1["reason"]
    assert ge["personal_weight"] == "0"
    assert "fall short" in ge["reason"] and "against 1.0000 without them" in ge["reason"]


def test_a_rejected_portal_keeps_its_version_and_a_promoted_one_switches(nightly_run):
    settings, report, ddb = nightly_run
    table = settings.versions_table
    assert versions.active_version(ddb, table, "g1") == VERSION
    assert versions.active_version(ddb, table, "ge") == VERSION
    assert versions.active_version(ddb, table, "regress") == "v-old"
    assert report.portals["regress"]["gate"]["decision"] == "reject"
    assert (
        "0.0000 served is below the version in service's 1.0000"
        in (report.portals["regress"]["reason"])
    )


def test_the_published_lists_are_in_the_store(nightly_run):
    settings, _, ddb = nightly_run
    items = stored_lists(ddb, settings.recommendations_table, version=VERSION)
    assert items(store.related_key("g1", "a0"))[0] == "b0"
    # the day before as_of: the readers' test-period reads, one view each (fillers are older)
    assert items(store.popular_key("g1")) == ["b0", "b1", "b2", "b3"]
    # c29 read only f00; the fillers read with it in other sessions follow
    personal = items(store.user_key("g1", "c29"))  # ALS's list, less what c29 read
    assert personal and "f00" not in personal

    def weights(portal):
        key = store.record_key(store.weights_key(portal), VERSION)
        got = ddb.get_item(TableName=settings.recommendations_table, Key=key)["Item"]
        return [(i.article_id, i.score) for i in store.items_of(got)]

    assert weights("ge") == [("personal", 0.0)]
    ((name, earned),) = weights("g1")
    assert name == "personal" and earned > 0


def test_gold_lists_keep_spare_ranks_past_top_n(spark, nightly_run):
    settings, _, _ = nightly_run
    popular = gold.version_rows(spark, GoldPaths.of(settings).popular, "g1", VERSION)
    ranked = [r["article_id"] for r in popular.orderBy("rank").collect()]
    assert ranked == ["b0", "b1", "b2", "b3", "b4", "b5"]  # top_n 4 and 2 spare


def test_model_runs_record_metrics_inputs_and_the_decision(spark, nightly_run):
    settings, _, _ = nightly_run
    runs = spark.read.format("delta").load(GoldPaths.of(settings).model_runs)
    g1 = {r["model"]: r for r in runs.where("portal = 'g1'").collect()}
    assert {"als", "popular", "trending", "served"} <= set(g1)
    assert {(r["status"], r["decision"], r["version"]) for r in g1.values()} == {
        ("candidate", "promote", VERSION)
    }
    assert g1["served"]["ndcg"] == 0.0
    assert '"silver.pageviews": 0' in g1["served"]["input_versions"]
    assert '"served": {"personal_weight": 0.0}' not in g1["served"]["params"]
    assert '"served": {"personal_weight": 0.0}' in runs.where("portal = 'ge'").first()["params"]
    regress = runs.where(f"portal = 'regress' AND version = '{VERSION}'")
    assert [r["decision"] for r in regress.select("decision").distinct().collect()] == ["reject"]


def test_export_refuses_a_version_the_gate_rejected(spark, nightly_run):
    settings, _, _ = nightly_run
    with pytest.raises(export.ExportError, match="gate decision is reject, not promote"):
        export.export_version(spark, settings, "regress", VERSION, 0)


def test_an_export_failing_halfway_leaves_the_active_version(spark, nightly_run):
    settings, _, ddb = nightly_run
    paths, v2 = GoldPaths.of(settings), "v-halfway"
    for path in (paths.recommendations, paths.popular, paths.related, paths.model_runs):
        rows = gold.version_rows(spark, path, "g1", VERSION)
        renamed = [F.lit(v2).alias(c) if c == "version" else F.col(c) for c in rows.columns]
        rows.select(*renamed).write.format("delta").mode("append").save(path)
    with pytest.raises(Exception, match="injected: connection dropped"):
        export.export_version(spark, settings, "g1", v2, 0, client_factory=FailAfter(25))
    assert versions.active_version(ddb, settings.versions_table, "g1") == VERSION


def test_als_failing_fails_the_portal_only_and_keeps_the_service(spark, nightly_run, monkeypatch):
    settings, _, ddb = nightly_run

    def broken(*args, **kwargs):
        raise RuntimeError("injected: ALS diverged")

    monkeypatch.setattr(als, "train", broken)
    outcome = portal_run.train_portal(spark, settings, "g1", AS_OF, "v-broken", ddb=ddb)
    assert (outcome.status, outcome.reason) == ("failed", "RuntimeError: injected: ALS diverged")
    assert versions.active_version(ddb, settings.versions_table, "g1") == VERSION
    decision = gold.gate_decision(spark, GoldPaths.of(settings).model_runs, "g1", "v-broken")
    assert decision == "reject"


def test_check_finds_visits_in_the_day_before_and_none_in_a_quiet_day(spark, nightly_run):
    settings, _, _ = nightly_run
    ok = nightly.check(spark, settings, AS_OF)
    assert ok["ok"] and ok["per_portal"]["gshow"] == 0 and ok["per_portal"]["g1"] > 0
    later = nightly.check(spark, settings, AS_OF + timedelta(days=3))
    assert later == {
        "ok": False,
        "visits": 0,
        "per_portal": {"g1": 0, "ge": 0, "gshow": 0, "quiet": 0, "regress": 0},
        "as_of": (AS_OF + timedelta(days=3)).isoformat(),
    }


def test_a_stage_result_goes_to_s3_or_a_local_file(local_platform, tmp_path):
    import json

    from newslake.errors import NewslakeError
    from spark_jobs.nightly import write_result

    result = {"stage": "check", "ok": False, "exit_code": 3}
    write_result(str(tmp_path / "results" / "check.json"), result, local_platform)
    assert json.loads((tmp_path / "results" / "check.json").read_text()) == result

    bucket = local_platform.lake_bucket
    write_result(f"s3://{bucket}/results/v1/check.json", result, local_platform)
    got = aws.client("s3", local_platform).get_object(Bucket=bucket, Key="results/v1/check.json")
    assert json.loads(got["Body"].read()) == result

    with pytest.raises(NewslakeError, match="expected s3://bucket/key"):
        write_result(f"s3://{bucket}", result, local_platform)


def test_the_weekly_search_records_its_choice_and_every_trial(spark, nightly_run):
    settings, _, _ = nightly_run
    as_of = AS_OF + timedelta(days=1)  # validates on the day before AS_OF: ge's readers read f00
    chosen = search_portal(spark, settings, "ge", as_of, quick=True)
    # the quick grid: one ALS, then 2 x 2 x 1 x 2 weightings; trending puts f00 first
    assert (chosen["status"], chosen["trials"]) == ("searched", 9)
    assert chosen["blend"] == {
        "trending": 1.0,
        "covisit": 0.0,
        "als": 0.0,
        "popular": 0.0,
        "hot": 1.0,
    }
    assert chosen["blend_ndcg_at_10"] == 1.0
    row = gold.latest_hyperparams(spark, GoldPaths.of(settings).hyperparams, "ge", as_of)
    assert (row["w_trending"], row["w_hot"], row["validation_ndcg"]) == (1.0, 1.0, 1.0)
    assert search_portal(spark, settings, "quiet", as_of, quick=True) == {
        "status": "skipped",
        "reason": "too little data for a validation split ending 2026-01-10 00:00:00+00:00",
    }


def test_the_maintain_stage_enforces_the_retention_limits(spark, local_platform, tmp_path):
    lake = {"lake_uri": f"file://{tmp_path}/lake", "delta_log_retention_days": 9}
    settings = Settings(**{**local_platform.model_dump(), **lake})
    path = f"{tmp_path}/lake/silver/pageviews"
    spark.createDataFrame([("pv0", 0)], "pageview_id string, n int").write.format("delta").save(
        path
    )

    code, out = nightly.run_stage(nightly._parse_args(["--stage", "maintain"]), settings)

    assert code == 0
    assert out["retention"]["properties_set"] == ["silver.pageviews"]
    assert out["retention"]["checkpointed"] == ["silver.pageviews"]
    props = DeltaTable.forPath(spark, path).detail().first()["properties"]
    assert props["delta.logRetentionDuration"] == "interval 9 days"
