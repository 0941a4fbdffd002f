"""Model versions: their ids, and the per-portal pointer (read it, switch it in one
conditional write).

Needs boto3 only (no pyspark), so an orchestrator's task can switch a portal after a Spark
export: ``switch_active_version(aws.client("dynamodb", settings),
settings.versions_table, "g1", "v20171013T000000Z", expected=active_version(...))``.
Switches record the pointer in the lake as well (:func:`switch_recorded`), so a serving
store that lost its tables can be filled again with the versions it served.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from newslake import lake_objects
from newslake.errors import NewslakeError
from newslake.settings import Settings
from newslake.store import ACTIVE_VERSION_ATTRIBUTE, version_key

# One small object per portal (portals switch in parallel tasks), beside the Delta tables.
RECORD_PREFIX = "_serving/active_version"


def version_of(moment: datetime) -> str:
    """The model version id of a model time: ``vYYYYmmddTHHMMSSZ`` of it in UTC (a time
    without a zone is taken as UTC). The nightly job and the DAG name a run's version alike."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("v%Y%m%dT%H%M%SZ")


class VersionSwitchError(NewslakeError):
    """The pointer did not read what the switch expected; nothing was changed."""


def active_version(ddb: Any, table: str, portal: str) -> str | None:
    """The version the portal serves now (strongly consistent read); None before the first."""
    item = ddb.get_item(TableName=table, Key=version_key(portal), ConsistentRead=True).get("Item")
    return str(item[ACTIVE_VERSION_ATTRIBUTE]["S"]) if item else None


def switch_active_version(
    ddb: Any, table: str, portal: str, new_version: str, expected: str | None
) -> None:
    """Point the portal at ``new_version`` if the pointer still reads ``expected``.

    ``expected=None`` means the portal has no version yet. Raises VersionSwitchError when
    another writer moved the pointer first; the pointer is then left as that writer set it.
    """
    item = {
        "portal": {"S": portal},
        ACTIVE_VERSION_ATTRIBUTE: {"S": new_version},
        "switched_at": {"N": str(int(time.time()))},
    }
    if expected is None:
        condition, values = "attribute_not_exists(portal)", None
    else:
        item["previous_version"] = {"S": expected}
        condition, values = "active_version = :expected", {":expected": {"S": expected}}
    kwargs: dict[str, Any] = {"TableName": table, "Item": item, "ConditionExpression": condition}
    if values:
        kwargs["ExpressionAttributeValues"] = values
    try:
        ddb.put_item(**kwargs)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
            raise VersionSwitchError(
                f"{portal}: the active version changed under this run (expected {expected})"
            ) from exc
        raise


def switch(ddb: Any, table: str, portal: str, new_version: str) -> str | None:
    """Read the pointer, then switch it from what was read; returns the previous version."""
    previous = active_version(ddb, table, portal)
    if previous != new_version:
        switch_active_version(ddb, table, portal, new_version, previous)
    return previous


def record_in_lake(settings: Settings, portal: str, version: str, *, s3: Any = None) -> None:
    """Write the portal's pointer under the lake's root too, where a serving store rebuilt
    after a loss (the local platform's restart, spark_jobs/restore.py) finds it."""
    doc = {"portal": portal, ACTIVE_VERSION_ATTRIBUTE: version, "switched_at": int(time.time())}
    lake_objects.write_text(settings, f"{RECORD_PREFIX}/{portal}.json", json.dumps(doc), s3=s3)


def recorded_in_lake(settings: Settings, *, s3: Any = None) -> dict[str, str]:
    """The version each configured portal served when its pointer last moved, as the lake
    records it; portals never switched are left out."""
    found: dict[str, str] = {}
    for portal in settings.portals:
        text = lake_objects.read_text(settings, f"{RECORD_PREFIX}/{portal}.json", s3=s3)
        if text is not None:
            found[portal] = str(json.loads(text)[ACTIVE_VERSION_ATTRIBUTE])
    return found


def switch_recorded(settings: Settings, ddb: Any, portal: str, new_version: str) -> str | None:
    """:func:`switch` in the versions table, then :func:`record_in_lake`; returns the
    previous version. The record follows the switch, so at worst it lags behind the
    pointer (a failed record fails the caller, whose retry switches nothing and records
    again)."""
    previous = switch(ddb, settings.versions_table, portal, new_version)
    record_in_lake(settings, portal, new_version)
    return previous
