"""The rec_performance stage on two tiny days: CTR rows, checks and experiment results, all
counted by hand, and a rerun that changes nothing.

Day 2026-03-03 on g1 (all model v1): R1 (reader, request-time) and R5 (reader,
request-time, 23:50) show [a1 personal, a2 trending (, a3 hot)]; R2 (reader, nightly) shows
[a1 personal, a4 popular]; R3 (related, no variant) [a5, a6 covisited]; 35 article-page
answers of the experiment ``page`` (30 readers in ``a``, 5 in ``b``). On ge, R4 (popular)
shows [x1]. R6 was served on 03-01 and landed on 03-03. Day 03-04: R7 (reader, nightly) at
03:25, five minutes before the run's time, its window still open.
"""

from __future__ import annotations

import argparse
import json
from datetime import UTC, date, datetime, timedelta

import pytest

from newslake.abstats import compare, ctr_interval, sample_ratio
from newslake.settings import Settings
from spark_jobs import nightly, rec_report
from spark_jobs.tables import GoldPaths, StreamPaths
from tests.utils.impressions import answer, impressions_df, visit, visits_df

pytestmark = pytest.mark.slow

AS_OF = datetime(2026, 3, 4, 3, 30, tzinfo=UTC)
D1, D2 = date(2026, 3, 3), date(2026, 3, 4)
R1, R2, R3, R4, R5, R6, R7, UNKNOWN = (f"{n:x}" * 32 for n in range(1, 9))
EXPERIMENTS = [
    {
        "name": "reader-list",
        "route": "reader",
        "enabled": True,
        "variants": [
            {"name": "request-time", "share": 0.5},
            {"name": "nightly", "share": 0.5, "overrides": {"reader_mode": "nightly"}},
        ],
    },
    {
        "name": "page",
        "route": "related",
        "enabled": True,
        "variants": [{"name": "a", "share": 0.5}, {"name": "b", "share": 0.5}],
    },
]


def _t(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)


def _answers() -> list[tuple]:
    rl = "reader-list"
    rows = [
        answer(R1, _t(D1, 10), [("a1", "personal"), ("a2", "trending"), ("a3", "hot")],
               user="u1", variant=(rl, "request-time")),
        answer(R2, _t(D1, 11), [("a1", "personal"), ("a4", "popular")],
               user="u2", variant=(rl, "nightly")),
        answer(R3, _t(D1, 12), [("a5", "covisited"), ("a6", "covisited")],
               route="related", user=None),
        answer(R4, _t(D1, 12), [("x1", "popular")], portal="ge", route="popular", user=None),
        answer(R5, _t(D1, 23, 50), [("a1", "personal"), ("a2", "trending")],
               user="u3", variant=(rl, "request-time")),
        answer(R6, _t(date(2026, 3, 1), 9), [("a1", "personal")],
               user="u1", landed_after=timedelta(days=2, hours=3)),
        answer(R7, _t(D2, 3, 25), [("a1", "personal")], user="u4", variant=(rl, "nightly")),
    ]  # fmt: skip
    for i in range(35):
        rec, group = f"{i:032x}", "a" if i < 30 else "b"
        at = _t(D1, 14) + timedelta(minutes=i)
        rows.append(answer(rec, at, [("a5", "covisited")], route="related", user=f"r{i}",
                           variant=("page", group)))  # fmt: skip
    return rows


def _visits() -> list[tuple]:
    return [
        visit("pv1", _t(D1, 10, 5), "a2", (R1, 2)),
        visit("pv1-again", _t(D1, 10, 7), "a2", (R1, 2)),
        visit("pv2", _t(D1, 11, 10), "a1", (R2, 1), user="u2"),
        visit("pv3-late", _t(D1, 12), "a4", (R2, 2), user="u2"),
        visit("pv4-related", _t(D1, 12, 1), "a5", (R3, 1)),
        visit("pv5-ge", _t(D1, 12, 5), "x1", (R4, 1), portal="ge"),
        visit("pv6-foreign", _t(D1, 12, 5), "x1", (R4, 1)),
        visit("pv7-unknown", _t(D1, 13), "a1", (UNKNOWN, 1)),
        visit("pv8-wrong", _t(D1, 10, 10), "a9", (R1, 1)),
        visit("pv9-after-midnight", _t(D2, 0, 10), "a2", (R5, 2), user="u3"),
        visit("pv10-organic", _t(D1, 15), "a7"),
    ]


@pytest.fixture(scope="module")
def measured(spark, local_platform, tmp_path_factory):
    settings = Settings(
        **{
            **local_platform.model_dump(),
            "lake_uri": f"file://{tmp_path_factory.mktemp('rec')}/lake",
            "portals": ("g1", "ge"),
            "experiments": json.dumps(EXPERIMENTS),
            "rec_performance_days": 2,
        }
    )
    silver = StreamPaths.of(settings)
    impressions_df(spark, _answers()).write.format("delta").partitionBy("served_date").save(
        silver.impressions
    )
    visits_df(spark, _visits()).write.format("delta").save(silver.visits)
    first = nightly.measure(spark, settings, AS_OF)
    tables = _tables(spark, settings)
    second = nightly.measure(spark, settings, AS_OF)
    return settings, first, tables, second


def _tables(spark, settings) -> dict[str, list[dict]]:
    paths = GoldPaths.of(settings)
    read = {
        name: spark.read.format("delta").load(getattr(paths, name))
        for name in ("rec_performance", "rec_checks", "experiment_results")
    }
    return {n: sorted((r.asDict() for r in df.collect()), key=repr) for n, df in read.items()}


def _performance(tables, day):
    return {
        (r["portal"], r["route"], r["source"], r["position"], r["model_version"],
         r["experiment"], r["variant"]): (r["impressions"], r["clicks"], r["ctr"])
        for r in tables["rec_performance"] if r["day"] == day
    }  # fmt: skip


def test_ctr_per_portal_route_source_position_version_and_variant(measured) -> None:
    _, _, tables, _ = measured
    rl, page = "reader-list", "page"
    assert _performance(tables, D1) == {
        ("g1", "reader", "personal", 1, "v1", rl, "request-time"): (2, 0, 0.0),
        ("g1", "reader", "trending", 2, "v1", rl, "request-time"): (2, 2, 1.0),
        ("g1", "reader", "hot", 3, "v1", rl, "request-time"): (1, 0, 0.0),
        ("g1", "reader", "personal", 1, "v1", rl, "nightly"): (1, 1, 1.0),
        ("g1", "reader", "popular", 2, "v1", rl, "nightly"): (1, 0, 0.0),
        ("g1", "related", "covisited", 1, "v1", None, None): (1, 1, 1.0),
        ("g1", "related", "covisited", 2, "v1", None, None): (1, 0, 0.0),
        ("g1", "related", "covisited", 1, "v1", page, "a"): (30, 0, 0.0),
        ("g1", "related", "covisited", 1, "v1", page, "b"): (5, 0, 0.0),
        ("ge", "popular", "popular", 1, "v1", None, None): (1, 1, 1.0),
    }
    assert _performance(tables, D2) == {
        ("g1", "reader", "personal", 1, "v1", rl, "nightly"): (1, 0, 0.0),
    }


def test_checks_count_open_windows_late_answers_and_every_reason(measured) -> None:
    _, _, tables, _ = measured
    checks = {(r["day"], r["portal"]): r for r in tables["rec_checks"]}
    names = ("impressions", "impressions_open", "impressions_late", "pageviews_with_rec",
             "attributed", "unknown_rec", "foreign_rec", "wrong_article", "late")  # fmt: skip
    counts = {key: tuple(r[n] for n in names) for key, r in checks.items()}
    assert counts == {
        (D1, "g1"): (39, 0, 1, 8, 4, 1, 1, 1, 1),
        (D1, "ge"): (1, 0, 0, 1, 1, 0, 0, 0, 0),
        (D2, "g1"): (1, 1, 0, 1, 1, 0, 0, 0, 0),
    }


def test_the_experiment_rows_are_the_statistics_of_their_counts(measured) -> None:
    _, _, tables, _ = measured
    rows = {
        r["variant"]: r for r in tables["experiment_results"] if r["experiment"] == "reader-list"
    }
    control, treatment = rows["request-time"], rows["nightly"]
    assert {(r["day"], r["first_day"], r["control"]) for r in rows.values()} == {
        (D2, D1, "request-time")
    }
    assert [(r["readers"], r["impressions"], r["clicks"]) for r in (control, treatment)] == [
        (2, 5, 2),
        (2, 3, 1),
    ]
    assert (control["ctr"], treatment["ctr"]) == (2 / 5, 1 / 3)
    c, t = ctr_interval(2, 5, 0.95), ctr_interval(1, 3, 0.95)
    assert (control["ctr_low"], control["ctr_high"]) == (c.low, c.high)
    versus = compare(t, c, 0.95)
    assert treatment["lift"] == pytest.approx(-1 / 6)
    assert (treatment["lift_low"], treatment["lift_high"], treatment["p_value"]) == (
        versus.low,
        versus.high,
        versus.p_value,
    )
    assert (control["lift"], control["p_value"]) == (None, None)
    assert (control["srm_p_value"], control["srm"]) == (1.0, False)


def test_a_skewed_split_is_flagged(measured) -> None:
    _, first, tables, _ = measured
    rows = [r for r in tables["experiment_results"] if r["experiment"] == "page"]
    assert {(r["variant"], r["readers"]) for r in rows} == {("a", 30), ("b", 5)}
    expected = sample_ratio([30, 5], [0.5, 0.5], 0.001).p_value
    assert expected is not None and expected < 0.001
    assert {(r["srm_p_value"], r["srm"]) for r in rows} == {(expected, True)}
    assert first["experiments"]["page"]["srm"] is True


def test_the_stage_result_names_each_days_totals_and_the_variants(measured) -> None:
    _, first, _, _ = measured
    day = first["days"]["2026-03-03"]
    assert (day["rows"], day["impressions"], day["clicks"]) == (10, 45, 5)
    reader_list = first["experiments"]["reader-list"]
    assert reader_list["variants"]["nightly"]["impressions"] == 3
    assert reader_list["lift"] == pytest.approx(-1 / 6)
    assert (reader_list["first_day"], reader_list["last_day"]) == ("2026-03-03", "2026-03-04")


def test_a_rerun_replaces_the_days_rows_with_the_same(spark, measured) -> None:
    settings, first, tables, second = measured
    assert _tables(spark, settings) == tables
    assert second == first


def test_the_reports_figures_sum_the_days(spark, measured) -> None:
    settings, *_ = measured
    paths = GoldPaths.of(settings)
    performance = spark.read.format("delta").load(paths.rec_performance)
    results = spark.read.format("delta").load(paths.experiment_results)

    found = rec_report.figures(performance, results)

    by_variant_day = {
        (r["experiment"], r["variant"], r["day"]): (r["impressions"], r["clicks"])
        for r in found["by_variant_day"]
    }
    assert by_variant_day == {
        ("page", "a", D1): (30, 0),
        ("page", "b", D1): (5, 0),
        ("reader-list", "nightly", D1): (2, 1),
        ("reader-list", "nightly", D2): (1, 0),
        ("reader-list", "request-time", D1): (5, 2),
    }
    reader_by_position = {
        r["position"]: (r["impressions"], r["clicks"], r["ctr"])
        for r in found["by_position"]
        if r["route"] == "reader"
    }
    assert reader_by_position == {1: (4, 1, 0.25), 2: (3, 2, 2 / 3), 3: (1, 0, 0.0)}
    assert {(r["experiment"], r["variant"]) for r in found["experiments"]} == {
        ("page", "a"), ("page", "b"), ("reader-list", "request-time"), ("reader-list", "nightly"),
    }  # fmt: skip


def test_the_stage_runs_from_the_command_line_contract(measured) -> None:
    settings, first, _, _ = measured
    args = argparse.Namespace(stage="rec_performance", as_of=AS_OF, version=None, portal=None)
    code, out = nightly.run_stage(args, settings)
    assert code == 0
    assert {k: v for k, v in out.items() if k != "seconds"} == first


def test_before_any_answer_landed_the_stage_says_so(spark, local_platform, tmp_path) -> None:
    settings = Settings(**{**local_platform.model_dump(), "lake_uri": f"file://{tmp_path}/lake"})
    assert nightly.measure(spark, settings, AS_OF) == {
        "as_of": AS_OF.isoformat(),
        "skipped": "silver.impressions does not exist yet: no answer has landed",
    }
