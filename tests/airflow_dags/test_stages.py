"""The stage contract as the DAG reads it: arguments, results, and each portal's outcome."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from airflow_dags import stages

PROMOTED = {
    "portal": "g1",
    "version": "v20260303T033000Z",
    "status": "candidate",
    "reason": "",
    "metrics": {"ndcg@10": 0.3},
    "gate": {"decision": "promote", "reason": "beats popular"},
}


def test_the_version_is_the_logical_date_in_utc() -> None:
    moment = datetime(2026, 3, 3, 0, 30, 15, 999, tzinfo=timezone(timedelta(hours=-3)))
    assert stages.version_of(stages.run_time(moment, datetime.now(UTC))) == "v20260303T033015Z"


def test_a_run_without_logical_date_takes_its_run_after() -> None:
    run_after = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
    assert stages.iso(stages.run_time(None, run_after)) == "2026-03-04T05:06:07Z"


def test_each_stage_gets_only_what_it_takes() -> None:
    kw = {"portal": "ge", "as_of": "2026-03-03T03:30:00Z", "version": "v1"}
    assert stages.stage_args("catch_up", **kw) == ["--stage", "catch_up"]
    assert stages.stage_args("erase", **kw) == ["--stage", "erase"]
    assert stages.stage_args("check", **kw) == ["--stage", "check", "--as-of", kw["as_of"]]
    assert stages.stage_args("rec_performance", **kw) == [
        "--stage", "rec_performance", "--as-of", kw["as_of"],
    ]  # fmt: skip
    assert stages.stage_args("export", **kw, result_uri="s3://r/x.json") == [
        "--stage", "export", "--portal", "ge", "--version", "v1", "--result-uri", "s3://r/x.json",
    ]  # fmt: skip


def test_a_stage_missing_an_input_is_refused() -> None:
    with pytest.raises(ValueError, match="stage train needs --portal"):
        stages.stage_args("train", as_of="2026-03-03T03:30:00Z", version="v1")


def test_the_result_is_the_last_json_object_line_on_stdout() -> None:
    lines = ['{"a": 1}', '{"ok": true}', "2026-03-03 py4j.clientserver Closing down", ""]
    assert stages.last_json_object(lines) == {"ok": True}
    assert stages.last_json_object(["{not json", "[1, 2]", "log"]) is None


def test_check_exit_3_is_missing_data() -> None:
    with pytest.raises(stages.MissingData, match="day's silver data is missing"):
        stages.interpret("check", 3, {"ok": False, "visits": 0}, [])


def test_a_failed_training_fails_even_with_exit_0() -> None:
    with pytest.raises(stages.StageError, match=r"train ge: failed \(out of memory\)"):
        result = {"portal": "ge", "status": "failed", "reason": "out of memory"}
        stages.interpret("train", 0, result, [])


def test_a_non_zero_exit_names_the_last_error_line() -> None:
    with pytest.raises(stages.StageError, match="export: exited 1; last error line: boom"):
        stages.interpret("export", 1, None, ["boom", ""])


def test_exit_0_without_a_result_is_an_error() -> None:
    with pytest.raises(stages.StageError, match="printed no JSON result"):
        stages.interpret("maintain", 0, None, [])


def test_only_a_promoted_candidate_goes_on() -> None:
    assert stages.promotes(PROMOTED) == (True, "beats popular")
    rejected = PROMOTED | {"gate": {"decision": "reject", "reason": "worse than in service"}}
    assert stages.promotes(rejected) == (False, "gate reject: worse than in service")
    skipped = {"status": "skipped", "reason": "4 users with test clicks"}
    assert stages.promotes(skipped) == (False, "skipped: 4 users with test clicks")


def test_a_switched_portal_is_published() -> None:
    switched = {"version": "v20260303T033000Z", "previous_version": "v20260302T033000Z"}
    outcome = stages.portal_outcome("g1", PROMOTED, switched)
    assert outcome.outcome == "published"
    assert outcome.line.startswith("g1: now serves v20260303T033000Z (was v20260302T033000Z)")


def test_a_promoted_portal_without_a_switch_failed() -> None:
    assert stages.portal_outcome("g1", PROMOTED, None).outcome == "failed"


def test_a_portal_without_a_train_result_failed_unless_the_run_was_skipped() -> None:
    assert stages.portal_outcome("g1", None, None).outcome == "failed"
    assert stages.portal_outcome("g1", None, None, skipped_run=True).outcome == "kept"
