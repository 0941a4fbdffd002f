"""Failure reports: one line naming the task, the portal and the error, to any reporter."""

from __future__ import annotations

import logging
from types import SimpleNamespace
from typing import Any

import pytest

from airflow_dags import callbacks

received: list[str] = []


def collect(message: str, context: Any) -> None:
    received.append(message)


def broken(message: str, context: Any) -> None:
    raise RuntimeError("pager down")


def _context(map_index: int) -> dict[str, Any]:
    ti = SimpleNamespace(task_id="portal.train", map_index=map_index, try_number=3)
    return {
        "ti": ti,
        "dag_run": SimpleNamespace(run_id="scheduled__2026-03-03T03:30:00+00:00"),
        "exception": RuntimeError("train ge: failed (out of memory)\nTraceback ..."),
    }


def test_the_line_names_run_task_portal_try_and_first_error_line() -> None:
    assert callbacks.failure_message(_context(1), ["g1", "ge"]) == (
        "newslake_nightly scheduled__2026-03-03T03:30:00+00:00: portal.train [ge] failed on "
        "try 3: train ge: failed (out of memory)"
    )


def test_the_configured_reporter_gets_the_line() -> None:
    received.clear()
    callbacks.make_on_failure(f"{__name__}:collect", ["g1"])(_context(0))
    expected = "newslake_nightly scheduled__2026-03-03T03:30:00+00:00: portal.train [g1] failed on "
    assert received == [expected + "try 3: train ge: failed (out of memory)"]


def test_a_broken_reporter_is_logged_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="newslake.airflow"):
        callbacks.make_on_failure(f"{__name__}:broken", ["g1"])(_context(0))
    assert "failure reporter" in caplog.text and "portal.train [g1]" in caplog.text


def test_a_reporter_path_without_a_function_is_refused() -> None:
    with pytest.raises(ValueError, match="expected module:function"):
        callbacks.load_reporter("airflow_dags.callbacks")
