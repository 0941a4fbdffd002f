"""Model versions: their ids, and the per-portal pointer (read it, switch it in one
conditional write).

Needs boto3 only (no pyspark), so an orchestrator's task can switch a portal after a Spark
export: ``switch_active_version(aws.client("dynamodb", settings),
settings.versions_table, "g1", "v20171013T000000Z", expected=active_version(...))``.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from newslake.errors import NewslakeError
from newslake.store import ACTIVE_VERSION_ATTRIBUTE, version_key


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
