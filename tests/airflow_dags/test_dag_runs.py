"""Whole runs of newslake_nightly (``dag.test()`` in the Airflow venv) with faults injected by
a stand-in stage runner (``fake_nightly.py``), against a moto server of their own: what each
portal's tasks do, what the run's state says, and which versions the store serves after."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from newslake import aws, versions
from newslake.local import server
from newslake.settings import Settings
from tests.utils.platform import start_platform

pytestmark = pytest.mark.slow

FAKE = Path(__file__).with_name("fake_nightly.py")
PORTALS = ("g1", "ge", "gshow", "globoplay")
PREVIOUS = "v20260301T033000Z"
LOGICAL_DATE = "2026-03-03T03:30:00+00:00"
VERSION = "v20260303T033000Z"


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    settings = start_platform(tmp_path_factory.mktemp("airflow-platform"))
    yield settings
    server.stop(settings)


def _env(settings: Settings, calls: Path, plan: dict[str, Any], **extra: str) -> dict[str, str]:
    return {
        "NEWSLAKE_PROFILE": "local",
        "NEWSLAKE_MOTO_PORT": str(settings.moto_port),
        "NEWSLAKE_STATE_DIR": str(settings.state_dir),
        "NEWSLAKE_PORTALS": ",".join(PORTALS),
        "NEWSLAKE_AIRFLOW_RETRIES": "0",  # dag.test() would wait out every retry delay
        "NEWSLAKE_AIRFLOW_STAGE_COMMAND": json.dumps([sys.executable, str(FAKE)]),
        "NEWSLAKE_FAKE_NIGHTLY": json.dumps(plan),
        "NEWSLAKE_FAKE_NIGHTLY_CALLS": str(calls),
        **extra,
    }


def _pointers(settings: Settings) -> dict[str, str | None]:
    ddb = aws.client("dynamodb", settings)
    return {p: versions.active_version(ddb, settings.versions_table, p) for p in PORTALS}


def _set_pointers(settings: Settings, version: str, portals: tuple[str, ...]) -> None:
    ddb = aws.client("dynamodb", settings)
    for portal in PORTALS:
        ddb.delete_item(TableName=settings.versions_table, Key={"portal": {"S": portal}})
    for portal in portals:
        versions.switch_active_version(ddb, settings.versions_table, portal, version, None)


def _calls(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


@pytest.fixture(scope="module")
def mixed_run(platform: Settings, run_dag: Any, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """g1 promoted, ge's training fails, gshow rejected by the gate, globoplay's export fails
    halfway; every portal but g1 already serves PREVIOUS."""
    _set_pointers(platform, PREVIOUS, ("ge", "gshow", "globoplay"))
    calls = tmp_path_factory.mktemp("calls") / "calls.jsonl"
    plan = {"train": {"ge": "fail", "gshow": "reject"}, "export": {"globoplay": "fail"}}
    run = run_dag(LOGICAL_DATE, _env(platform, calls, plan))
    return run, _pointers(platform), _calls(calls)


def test_a_failing_portal_leaves_the_others_running(mixed_run: Any) -> None:
    run, *_ = mixed_run
    assert {k: v for k, v in run.tasks.items() if k.startswith("portal.")} == {
        "portal.train[0]": "success",
        "portal.gate[0]": "success",
        "portal.export[0]": "success",
        "portal.switch_active_version[0]": "success",
        "portal.train[1]": "failed",
        "portal.gate[1]": "upstream_failed",
        "portal.export[1]": "upstream_failed",
        "portal.switch_active_version[1]": "upstream_failed",
        "portal.train[2]": "success",
        "portal.gate[2]": "skipped",
        "portal.export[2]": "skipped",
        "portal.switch_active_version[2]": "skipped",
        "portal.train[3]": "success",
        "portal.gate[3]": "success",
        "portal.export[3]": "failed",
        "portal.switch_active_version[3]": "upstream_failed",
    }


def test_the_run_fails_when_any_portal_failed(mixed_run: Any) -> None:
    run, *_ = mixed_run
    assert (run.state, run.tasks["summary"]) == ("failed", "failed")
    assert "portals failed: ge, globoplay" in run.log


def test_only_the_promoted_portal_switches(mixed_run: Any) -> None:
    _, pointers, _ = mixed_run
    assert pointers == {"g1": VERSION, "ge": PREVIOUS, "gshow": PREVIOUS, "globoplay": PREVIOUS}


def test_the_summary_says_what_happened_to_each_portal(mixed_run: Any) -> None:
    run, *_ = mixed_run
    assert f"g1: now serves {VERSION} (was none); gate promote" in run.log
    assert "ge: training FAILED (injected: ALS ran out of memory)" in run.log
    assert "gshow: kept the current version, rejected: injected: ndcg@10 0.20" in run.log
    assert f"globoplay: {VERSION} passed the gate but export or switch FAILED" in run.log


def test_failures_are_reported_one_line_each(mixed_run: Any) -> None:
    run, *_ = mixed_run
    assert "portal.train [ge] failed on try 1: train ge: failed" in run.log
    assert (
        "portal.export [globoplay] failed on try 1: export: exited 1; last error line: "
        "injected: export failed halfway" in run.log
    )


def test_stages_get_the_run_time_and_version(mixed_run: Any) -> None:
    *_, calls = mixed_run
    by_stage = {(c["stage"], c["portal"]): c for c in calls}
    assert by_stage[("check", None)]["as_of"] == "2026-03-03T03:30:00Z"
    assert by_stage[("interactions", None)]["version"] == VERSION
    assert ("erase", None) in by_stage
    assert ("editorial_audit", None) in by_stage
    assert by_stage[("rec_performance", None)]["as_of"] == "2026-03-03T03:30:00Z"
    assert {(p, c["as_of"], c["version"]) for (s, p), c in by_stage.items() if s == "train"} == {
        (p, "2026-03-03T03:30:00Z", VERSION) for p in PORTALS
    }
    assert sorted(p for s, p in by_stage if s == "export") == ["g1", "globoplay"]


def test_missing_data_skips_the_run_when_told_to(
    platform: Settings, run_dag: Any, tmp_path: Path
) -> None:
    _set_pointers(platform, PREVIOUS, PORTALS)
    calls = tmp_path / "calls.jsonl"
    env = _env(platform, calls, {"check": "missing"}, NEWSLAKE_AIRFLOW_MISSING_DATA="skip")
    run = run_dag("2026-03-05T03:30:00+00:00", env)
    assert run.state == "success"
    assert (run.tasks["check"], run.tasks["summary"]) == ("skipped", "success")
    assert {s for k, s in run.tasks.items() if k.startswith(("maintain", "portal."))} == {"skipped"}
    # measuring the lists served does not wait for the day's data
    assert sorted(c["stage"] for c in _calls(calls)) == [
        "catch_up",
        "check",
        "editorial_audit",
        "rec_performance",
    ]
    assert _pointers(platform) == dict.fromkeys(PORTALS, PREVIOUS)
