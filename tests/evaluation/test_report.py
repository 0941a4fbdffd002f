"""make report: the summary table from protocol 2's JSON, placeholders for what is missing."""

from __future__ import annotations

import json

import pytest

from evaluation import report

RESULT = {
    "hours": {"first": 1, "last": 2, "scored": 2},
    "paper": {"V-SkNN": [0.3511, 0.6601]},
    **{
        mode: {
            "last_click": {
                "newslake": {
                    "ndcg_at_20": 0.4,
                    "hr_at_20": 0.7,
                    "per_hour": {"1": [0.3, 0.6], "2": [0.5, 0.8]},
                }
            },
            "every_position": {
                "newslake": {"ndcg_at_20": 0.35, "hr_at_20": 0.65, "per_hour": {"1": [0.35, 0.65]}}
            },
            "exposure": {"newslake": {"coverage": 1.2, "popularity_bias": 0.7}},
        }
        for mode in ("online", "strict")
    },
}


def test_the_summary_table_has_every_variant_and_the_papers_rows():
    table = report.summary_markdown(RESULT)
    newslake_row = next(line for line in table.splitlines() if line.startswith("| newslake"))
    assert newslake_row.count("0.4000 / 0.7000") == 2  # online and strict, last click
    assert newslake_row.count("0.3500 / 0.6500") == 2  # every position
    assert "| 1.2 | 0.7 |" in newslake_row
    assert "| paper: V-SkNN (hours 0-384, last click) | 0.3511 / 0.6601 |" in table


def test_the_page_says_what_is_missing_and_shows_the_bench_json(tmp_path):
    pytest.importorskip("matplotlib")
    (tmp_path / "eval").mkdir()
    (tmp_path / "eval" / "protocol2.json").write_text(json.dumps(RESULT))
    (tmp_path / "bench").mkdir()
    (tmp_path / "bench" / "ingest.json").write_text(json.dumps({"events_per_s": 761, "lost": 0}))

    page, markdown = report.render(tmp_path)

    assert "Protocol 1: nightly batch, next-day evaluation (placeholder)" in page
    assert "<h3>ingest</h3>" in page and "<td>events_per_s</td><td>761</td>" in page
    assert page.count("data:image/png;base64,") == 2
    assert markdown == report.summary_markdown(RESULT)


PROTOCOL1 = {
    "k": 10,
    "test_days": {
        "2017-10-02": {"trending": {"ndcg_at_10": 0.1, "hr_at_10": 0.3, "coverage": 0.01}},
        "2017-10-03": {"trending": {"ndcg_at_10": 0.2, "hr_at_10": 0.4, "coverage": 0.02}},
    },
    "skipped_days": {},
    "mean": {
        "trending": {
            "ndcg_at_10": 0.15,
            "hr_at_10": 0.35,
            "precision_at_10": 0.04,
            "recall_at_10": 0.12,
            "map_at_10": 0.08,
            "coverage": 0.015,
        }
    },
}


def test_protocol1_means_go_to_the_summary_and_the_days_to_the_page(tmp_path):
    pytest.importorskip("matplotlib")
    (tmp_path / "eval").mkdir()
    (tmp_path / "eval" / "protocol2.json").write_text(json.dumps(RESULT))
    (tmp_path / "eval" / "protocol1.json").write_text(json.dumps(PROTOCOL1))

    page, markdown = report.render(tmp_path)

    row = (
        "| trending (3 h, half-life 30 min) | 0.1500 | 0.3500 | 0.0400 | 0.1200 | 0.0800 | 0.0150 |"
    )
    assert row in markdown
    assert "2 test days (2017-10-02 to 2017-10-03)" in markdown
    assert "Protocol 1: nightly batch, next-day evaluation</h2>" in page
    assert "placeholder" not in page
    assert page.count("data:image/png;base64,") == 3


def test_the_arrivals_table_follows_the_protocol_2_table():
    arrived = {
        **RESULT,
        "arrival": {
            "predictions": 12,
            "models": {
                "reader": {"ndcg_at_20": 0.45, "hr_at_20": 0.8},
                "trending": {"ndcg_at_20": 0.44, "hr_at_20": 0.79},
            },
        },
    }

    table = report.arrival_markdown(arrived)

    assert "(12 predictions)" in table
    assert "| newslake reader's list (request time) | 0.4500 / 0.8000 |" in table
    assert "| trending (last 15 min), less the reader's reads | 0.4400 / 0.7900 |" in table
    assert report.arrival_markdown(RESULT) == ""  # results from before the arrivals


def _variant(name: str, **figures):
    return {
        "experiment": "reader-list", "day": "2026-03-04", "first_day": "2026-03-03",
        "variant": name, "control": "request-time", "readers": 2, "lift": None,
        "lift_low": None, "lift_high": None, "p_value": None, "srm_p_value": 1.0,
        "srm": False, **figures,
    }  # fmt: skip


MEASURED = {
    "by_variant_day": [
        {"experiment": "reader-list", "variant": "request-time", "day": "2026-03-03", "ctr": 0.4},
        {"experiment": "reader-list", "variant": "nightly", "day": "2026-03-03", "ctr": 0.25},
    ],
    "by_position": [
        {"route": "reader", "position": 1, "ctr": 0.3},
        {"route": "reader", "position": 2, "ctr": 0.1},
    ],
    "experiments": [
        _variant("request-time", impressions=5, clicks=2, ctr=0.4, ctr_low=0.1176, ctr_high=0.7693),
        _variant(
            "nightly",
            impressions=4,
            clicks=1,
            ctr=0.25,
            ctr_low=0.0456,
            ctr_high=0.6994,
            lift=-0.375,
            lift_low=-0.9,
            lift_high=2.5,
            p_value=0.6547,
        ),
    ],
}


def test_the_served_lists_section_waits_for_the_lakes_figures(tmp_path):
    pytest.importorskip("matplotlib")
    page, markdown = report.render(tmp_path)
    assert "<h2>The served lists on the portals (CTR)</h2><p><b>Not available yet.</b>" in page
    assert "reader-list" not in markdown


def test_the_served_lists_ctr_is_plotted_and_each_variant_tabled(tmp_path):
    pytest.importorskip("matplotlib")
    (tmp_path / "eval").mkdir()
    (tmp_path / "eval" / "rec_performance.json").write_text(json.dumps(MEASURED))

    page, markdown = report.render(tmp_path)

    assert "Not available yet.</b> The nightly" not in page
    assert page.count("data:image/png;base64,") == 1
    assert (
        "| reader-list | 2026-03-03 to 2026-03-04 | request-time | 2 | 5 | 2 | "
        "40.00% (11.76% to 76.93%) | control | - | 1 (no) |"
    ) in markdown
    assert (
        "| nightly | 2 | 4 | 1 | 25.00% (4.56% to 69.94%) | -37.50% (-90.00% to 250.00%) "
        "| 0.655 | 1 (no) |"
    ) in markdown
