"""Failure reporting for the nightly DAG: one line per failed task, to a pluggable reporter.

A reporter is any ``function(message, context)`` named ``module:function`` in
``NEWSLAKE_AIRFLOW_ON_FAILURE`` (a pager, a chat webhook); the default logs the line.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

log = logging.getLogger("newslake.airflow")

Reporter = Callable[[str, Mapping[str, Any]], None]


def log_failure(message: str, context: Mapping[str, Any]) -> None:
    """The default reporter: one ERROR line in the task's log."""
    log.error("%s", message)


def load_reporter(path: str) -> Reporter:
    """The reporter ``module:function`` names.

    Raises:
        ValueError: ``path`` is not ``module:function`` or does not name a callable.
    """
    module_name, _, attribute = path.partition(":")
    if not module_name or not attribute:
        raise ValueError(f"failure reporter {path!r}: expected module:function")
    reporter = getattr(importlib.import_module(module_name), attribute, None)
    if not callable(reporter):
        raise ValueError(f"failure reporter {path!r}: no such function")
    return reporter


def failure_message(context: Mapping[str, Any], portals: Sequence[str]) -> str:
    """``newslake_nightly <run>: portal.train [ge] failed on try 3: <first line of the error>``."""
    ti = context["ti"]
    map_index = getattr(ti, "map_index", -1)
    where = f" [{portals[map_index]}]" if 0 <= map_index < len(portals) else ""
    error = str(context.get("exception") or "no exception recorded").strip().splitlines()
    first = error[0] if error else ""
    run_id = getattr(context.get("dag_run"), "run_id", "?")
    return (
        f"newslake_nightly {run_id}: {ti.task_id}{where} failed on try "
        f"{getattr(ti, 'try_number', '?')}: {first[:300]}"
    )


def make_on_failure(reporter_path: str, portals: Sequence[str]) -> Callable[[Any], None]:
    """The DAG's ``on_failure_callback``: formats the line and hands it to the reporter.

    A broken reporter is logged, never raised: it must not hide the task's own failure.
    """

    def on_failure(context: Any) -> None:
        message = failure_message(context, portals)
        try:
            load_reporter(reporter_path)(message, context)
        except Exception:
            log.exception("failure reporter %s failed; the failure was: %s", reporter_path, message)

    return on_failure
