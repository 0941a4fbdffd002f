"""The nightly stage contract as the DAG sees it: arguments, results, outcomes, EMR requests.

A stage is ``spark_jobs/nightly.py --stage NAME ...``; it prints one JSON object as its last
stdout line and exits 0 on success (``check`` exits 3 when the day's silver data is
missing; ``train`` exits non-zero only when training failed). On EMR, where stdout stays in
the job's logs, the DAG passes ``--result-uri s3://...`` and reads the same object there.

Pure functions only: no Airflow, no AWS, no subprocess, so the rules are tested directly.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from newslake.results import last_json_object  # noqa: F401  (re-exported for the runner)
from newslake.versions import version_of  # noqa: F401  (re-exported: the run's version id)

MISSING_DATA_EXIT = 3
PROMOTE = "promote"
CANDIDATE = "candidate"


class StageError(Exception):
    """A stage did not do its job; the message is the one line an operator needs."""


def run_time(logical_date: datetime | None, run_after: datetime) -> datetime:
    """The model time of a run: its logical date, or when it ran (a manual run may have none)."""
    moment = logical_date or run_after
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).replace(microsecond=0)


def iso(moment: datetime) -> str:
    """ISO 8601 in UTC with a ``Z``, as ``--as-of`` takes it."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# What each stage takes besides ``--stage`` (spark_jobs/nightly.py's contract).
STAGE_INPUTS: dict[str, tuple[str, ...]] = {
    "catch_up": (),
    "check": ("as_of",),
    "maintain": (),
    "erase": (),  # privacy: every pending erasure request
    "interactions": ("as_of", "version"),
    "rec_performance": ("as_of",),
    "editorial_audit": (),  # the newsroom's control changes into the lake's audit table
    "train": ("portal", "as_of", "version"),
    "export": ("portal", "version"),
    "switch": ("portal", "version"),
}


def stage_args(
    stage: str,
    *,
    portal: str | None = None,
    as_of: str | None = None,
    version: str | None = None,
    result_uri: str | None = None,
) -> list[str]:
    """The arguments after ``nightly.py``: ``--stage`` and what that stage takes.

    Raises:
        ValueError: an unknown stage, or one of its inputs is missing.
    """
    if stage not in STAGE_INPUTS:
        raise ValueError(f"unknown stage {stage!r}; stages: {', '.join(STAGE_INPUTS)}")
    given = {"portal": portal, "as_of": as_of, "version": version}
    args = ["--stage", stage]
    for name in STAGE_INPUTS[stage]:
        value = given[name]
        if value is None:
            raise ValueError(f"stage {stage} needs --{name.replace('_', '-')}")
        args += [f"--{name.replace('_', '-')}", value]
    if result_uri is not None:
        args += ["--result-uri", result_uri]
    return args


def result_uri(prefix: str, version: str, stage: str, portal: str | None = None) -> str:
    """Where an EMR stage writes its JSON result: one object per run version and stage."""
    name = f"{stage}-{portal}" if portal else stage
    return f"{prefix.rstrip('/')}/{version}/{name}.json"


# ---- per-portal outcome -----------------------------------------------------------------
def promotes(train: Mapping[str, Any]) -> tuple[bool, str]:
    """Whether a portal's trained version goes on to export, and the reason either way."""
    status = train.get("status")
    gate = train.get("gate") or {}
    reason = gate.get("reason") or train.get("reason") or ""
    if status == CANDIDATE and gate.get("decision") == PROMOTE:
        return True, reason or "the gate promoted it"
    if status == CANDIDATE:
        return False, f"gate {gate.get('decision', 'gave no decision')}: {reason or '-'}"
    return False, f"{status}: {reason or '-'}"


@dataclass(frozen=True)
class PortalOutcome:
    portal: str
    outcome: str  # published | kept | failed
    line: str

    @property
    def failed(self) -> bool:
        return self.outcome == "failed"


def portal_outcome(
    portal: str,
    train: Mapping[str, Any] | None,
    switched: Mapping[str, Any] | None,
    *,
    skipped_run: bool = False,
) -> PortalOutcome:
    """What happened to one portal this run, from its train result and its switch result."""
    if switched is not None:  # the pointer moved: whatever else was recorded, it is served
        return PortalOutcome(
            portal,
            "published",
            f"{portal}: now serves {switched.get('version')} "
            f"(was {switched.get('previous_version') or 'none'}); {_gate_text(train)}; "
            f"metrics {_metrics(train)}",
        )
    if train is None:
        if skipped_run:
            return PortalOutcome(portal, "kept", f"{portal}: not retrained (run skipped)")
        return PortalOutcome(
            portal,
            "failed",
            f"{portal}: FAILED before training reported (see the train task's log); "
            "the service keeps its current version",
        )
    if train.get("status") == "failed":
        return PortalOutcome(
            portal,
            "failed",
            f"{portal}: training FAILED ({train.get('reason') or '-'}); "
            "the service keeps its current version",
        )
    go, reason = promotes(train)
    if not go:
        line = f"{portal}: kept the current version, {reason}; metrics {_metrics(train)}"
        return PortalOutcome(portal, "kept", line)
    return PortalOutcome(
        portal,
        "failed",
        f"{portal}: {train.get('version')} passed the gate but export or switch FAILED; "
        f"the service keeps its current version; metrics {_metrics(train)}",
    )


def _metrics(train: Mapping[str, Any] | None) -> str:
    return json.dumps((train or {}).get("metrics") or {}, sort_keys=True)


def _gate_text(train: Mapping[str, Any] | None) -> str:
    gate = (train or {}).get("gate") or {}
    return f"gate {gate.get('decision', '-')} ({gate.get('reason') or '-'})"


def summarize(
    portals: Sequence[str],
    trains: Sequence[Mapping[str, Any] | None],
    switches: Sequence[Mapping[str, Any] | None],
    *,
    skipped_run: bool = False,
) -> list[PortalOutcome]:
    """One outcome per portal, in the order the DAG maps them."""
    return [
        portal_outcome(p, t, s, skipped_run=skipped_run)
        for p, t, s in zip(portals, trains, switches, strict=True)
    ]


class MissingData(StageError):
    """``check`` found no silver data for the run's day (exit 3)."""


def interpret(
    stage: str, returncode: int, result: Mapping[str, Any] | None, stderr_tail: Sequence[str]
) -> dict[str, Any]:
    """A stage's result when it did its job.

    Raises:
        MissingData: ``check`` exited 3.
        StageError: any other non-zero exit, no JSON result, or training that failed.
    """
    hint = next((line for line in reversed(stderr_tail) if line.strip()), "")
    if stage == "check" and returncode == MISSING_DATA_EXIT:
        counts = json.dumps(dict(result or {}), sort_keys=True)
        raise MissingData(
            f"check: the day's silver data is missing ({counts}); late data is retried, "
            "the service keeps its current versions"
        )
    if stage == "train" and result is not None and result.get("status") == "failed":
        raise StageError(
            f"train {result.get('portal', '')}: failed ({result.get('reason') or '-'}); "
            "the service keeps its current version"
        )
    if returncode != 0:
        raise StageError(f"{stage}: exited {returncode}; last error line: {hint or '-'}")
    if result is None:
        raise StageError(f"{stage}: exited 0 but printed no JSON result on its last line")
    return dict(result)
