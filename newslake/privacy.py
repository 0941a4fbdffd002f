"""Readers' erasure requests and the pseudonyms that name readers where their id must not be.

A request is keyed by the reader's pseudonym (``subject``), never by the id itself: once
the request is done the id leaves the record, and what stays (who asked, when, what was
removed where, when the last copy became unreadable) is the proof of erasure.

The requests table is small (erasures are rare), so the pending ones are found by a scan
rather than by an index that would have to be kept.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from newslake import aws
from newslake.ids import valid_user_id
from newslake.settings import Settings

PSEUDONYM_CHARS = 32
PENDING = "pending"
DONE = "done"
__all__ = [
    "ErasureRequest",
    "ErasureRequests",
    "log_key",
    "logged_reader",
    "pseudonym",
    "storage_delay",
    "subject_of",
    "unreadable_by",
    "valid_portal",
    "valid_user_id",
    "with_hash_key",
]


def pseudonym(value: str, *, key: str) -> str:
    """The keyed hash that stands for ``value`` in logs and keys: HMAC-SHA256, hex, cut to
    128 bits, which is plenty against collisions among readers and short in a log line."""
    digest = hmac.new(key.encode(), value.encode(), hashlib.sha256).hexdigest()
    return digest[:PSEUDONYM_CHARS]


def subject_of(portal: str, user_id: str, *, key: str) -> str:
    """A reader's pseudonym: ids are the portal's, so the same id on two portals is two
    readers."""
    return pseudonym(f"{portal}:{user_id}", key=key)


def with_hash_key(settings: Settings, secrets: Any | None = None) -> Settings:
    """``settings`` holding the pseudonyms' key: where only ``privacy_hash_key_secret``
    names it, read from Secrets Manager once (``secrets``: a client, else one is made)."""
    if settings.privacy_hash_key or not settings.privacy_hash_key_secret:
        return settings
    client = secrets or aws.client("secretsmanager", settings)
    got = client.get_secret_value(SecretId=settings.privacy_hash_key_secret)
    return settings.model_copy(update={"privacy_hash_key": got["SecretString"]})


def log_key(settings: Settings) -> str | None:
    """The pseudonyms' key for logs, or None where none is set (aws without one): a log
    line must never fail, so it then names no reader at all."""
    try:
        return settings.privacy_key
    except ValueError:
        return None


def logged_reader(portal: str, user_id: str, key: str | None) -> str:
    """How a log line names a reader: ``~`` and their subject, or ``~`` alone without a key."""
    return f"~{subject_of(portal, user_id, key=key)}" if key else "~"


def valid_portal(portal: object, settings: Settings) -> bool:
    """Whether ``portal`` is one of the configured portals, as the API and the lake see it."""
    return isinstance(portal, str) and portal in settings.portals


def storage_delay(settings: Settings) -> timedelta:
    """How long storage keeps a Delta file (or log entry) readable after Delta deleted it:
    in AWS the versioned lake bucket keeps it as a noncurrent version for
    ``lake_noncurrent_version_days``, which S3 rounds up to the next midnight (UTC), hence
    a day more; the local lake keeps no versions."""
    if settings.profile != "aws":
        return timedelta(0)
    return timedelta(days=settings.lake_noncurrent_version_days + 1)


def unreadable_by(erased_at: float, settings: Settings) -> str:
    """The ISO date by which no retained copy of rows deleted at ``erased_at`` is readable:
    Delta keeps removed files for the vacuum retention and log entries for the log
    retention, the maintenance stage that vacuums runs once a night, and storage may keep
    what it deleted a while longer (:func:`storage_delay`)."""
    kept = max(
        timedelta(hours=settings.vacuum_retention_hours),
        timedelta(days=settings.delta_log_retention_days),
    )
    gone = datetime.fromtimestamp(erased_at, UTC) + kept + timedelta(days=1)
    return (gone + storage_delay(settings)).date().isoformat()


@dataclass(frozen=True)
class ErasureRequest:
    """One reader's request: ``user_id`` is None once done (the id leaves the record);
    ``steps`` holds, per place erased, ``{"removed": rows, "at": epoch s}``."""

    subject: str
    portal: str
    user_id: str | None
    asked_at: float
    asked_by: str
    status: str
    steps: dict[str, dict[str, float]] = field(default_factory=dict)
    done_at: float | None = None
    unreadable_by: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The record as a JSON object, for the CLI's line and the route's answer."""
        return {
            "subject": self.subject,
            "portal": self.portal,
            "user_id": self.user_id,
            "asked_at": self.asked_at,
            "asked_by": self.asked_by,
            "status": self.status,
            "steps": self.steps,
            "done_at": self.done_at,
            "unreadable_by": self.unreadable_by,
        }


def _from_item(item: dict[str, Any]) -> ErasureRequest:
    steps = {
        place: {name: float(value["N"]) for name, value in step["M"].items()}
        for place, step in item.get("steps", {}).get("M", {}).items()
    }
    return ErasureRequest(
        subject=item["subject"]["S"],
        portal=item["portal"]["S"],
        user_id=item["user_id"]["S"] if "user_id" in item else None,
        asked_at=float(item["asked_at"]["N"]),
        asked_by=item["asked_by"]["S"],
        status=item["status"]["S"],
        steps=steps,
        done_at=float(item["done_at"]["N"]) if "done_at" in item else None,
        unreadable_by=item["unreadable_by"]["S"] if "unreadable_by" in item else None,
    )


def _number(value: float) -> dict[str, str]:
    return {"N": repr(float(value))}


def _failed_condition(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


class ErasureRequests:
    """The durable record of erasure requests, one item per reader (DynamoDB)."""

    def __init__(self, client: Any, table: str, key: str) -> None:
        self._ddb = client
        self.table = table
        self._key = key

    @classmethod
    def of(cls, settings: Settings) -> ErasureRequests:
        key = with_hash_key(settings).privacy_key
        return cls(aws.client("dynamodb", settings), settings.privacy_requests_table, key)

    def subject(self, portal: str, user_id: str) -> str:
        return subject_of(portal, user_id, key=self._key)

    def ask(self, portal: str, user_id: str, *, asked_by: str, now: float) -> ErasureRequest:
        """Records a request; harmless to repeat: a pending request stays as it is (its first
        asking time and asker), a done one is opened again with no steps."""
        subject = self.subject(portal, user_id)
        try:
            got = self._ddb.update_item(
                TableName=self.table,
                Key={"subject": {"S": subject}},
                UpdateExpression=(
                    "SET portal = :portal, user_id = :user, asked_at = :now, asked_by = :by, "
                    "#status = :pending, steps = :none REMOVE done_at, unreadable_by"
                ),
                ConditionExpression="attribute_not_exists(subject) OR #status = :done",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={
                    ":portal": {"S": portal},
                    ":user": {"S": user_id},
                    ":now": _number(now),
                    ":by": {"S": asked_by},
                    ":pending": {"S": PENDING},
                    ":done": {"S": DONE},
                    ":none": {"M": {}},
                },
                ReturnValues="ALL_NEW",
            )
        except ClientError as exc:
            if not _failed_condition(exc):
                raise
            current = self._get(subject)
            if current is None:  # deleted between the two calls: ask again
                return self.ask(portal, user_id, asked_by=asked_by, now=now)
            return current
        return _from_item(got["Attributes"])

    def get(self, portal: str, user_id: str) -> ErasureRequest | None:
        return self._get(self.subject(portal, user_id))

    def _get(self, subject: str) -> ErasureRequest | None:
        got = self._ddb.get_item(
            TableName=self.table, Key={"subject": {"S": subject}}, ConsistentRead=True
        )
        return _from_item(got["Item"]) if "Item" in got else None

    def pending(self) -> list[ErasureRequest]:
        """Every pending request, oldest first."""
        found: list[ErasureRequest] = []
        pages = self._ddb.get_paginator("scan").paginate(
            TableName=self.table,
            FilterExpression="#status = :pending",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={":pending": {"S": PENDING}},
            ConsistentRead=True,
        )
        for page in pages:
            found.extend(_from_item(item) for item in page.get("Items", []))
        return sorted(found, key=lambda r: (r.asked_at, r.subject))

    def record_step(self, subject: str, place: str, *, removed: int, at: float) -> None:
        """One place erased for the request; a re-run of the place overwrites its step."""
        self._ddb.update_item(
            TableName=self.table,
            Key={"subject": {"S": subject}},
            UpdateExpression="SET steps.#place = :step",
            ConditionExpression="attribute_exists(subject)",
            ExpressionAttributeNames={"#place": place},
            ExpressionAttributeValues={
                ":step": {"M": {"removed": _number(removed), "at": _number(at)}}
            },
        )

    def complete(self, subject: str, *, done_at: float, unreadable_by: str) -> None:
        """The request is done: the reader's id leaves the record, the proof stays."""
        self._ddb.update_item(
            TableName=self.table,
            Key={"subject": {"S": subject}},
            UpdateExpression=(
                "SET #status = :done, done_at = :at, unreadable_by = :by REMOVE user_id"
            ),
            ConditionExpression="attribute_exists(subject)",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={
                ":done": {"S": DONE},
                ":at": _number(done_at),
                ":by": {"S": unreadable_by},
            },
        )
