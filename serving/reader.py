"""Reading the serving store (layout in newslake.store) from DynamoDB, on the request path.

Every failure of DynamoDB, whether down, slow, throttling or a malformed record, becomes
one StoreUnavailableError, so the caller has a single thing to degrade on.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError

from newslake import aws
from newslake import store as layout
from newslake.settings import Settings
from newslake.store import ScoredItem

# A BatchGetItem may leave keys unprocessed under throttling; asked again once, then given up.
BATCH_ROUNDS = 2

RecordKey = tuple[str, str]
"""A recommendations-table key: ``(pk, sk)``, sk being a model version or ``live``."""


class StoreUnavailableError(Exception):
    """The store could not answer; serve what is known instead of failing the request."""


class RecommendationReader(Protocol):
    """What the recommender reads: a portal's active version, and records by key.

    A reader whose calls never block (records in process) sets ``blocking = False``, and
    the API then calls it on the event loop instead of in the thread pool.
    """

    def active_version(self, portal: str) -> str | None: ...

    def items(self, pk: str, sk: str) -> list[ScoredItem] | None: ...

    def items_many(self, keys: Sequence[RecordKey]) -> dict[RecordKey, list[ScoredItem]]:
        """The records that exist among ``keys``, in one round trip."""
        ...

    def hot_counts(self, portal: str, since_s: int) -> dict[int, dict[str, int]]:
        """The portal's live hot counts from bucket ``since_s`` on (``newslake.store``)."""
        ...


class DynamoReader:
    """RecommendationReader over the two DynamoDB tables, with the low-level client.

    Args:
        client: a boto3 ``dynamodb`` client (see ``from_settings`` for the hot-path timeouts).
        recommendations_table: table of ``pk``/``sk`` records.
        versions_table: table of per-portal ``active_version`` pointers.
    """

    def __init__(self, client: Any, *, recommendations_table: str, versions_table: str) -> None:
        self._client = client
        self._recommendations_table = recommendations_table
        self._versions_table = versions_table

    @classmethod
    def from_settings(cls, settings: Settings) -> DynamoReader:
        """A reader with the serving timeouts: short, so a slow DynamoDB degrades a request
        instead of hanging it, and few attempts (serving_store_*)."""
        client = aws.client(
            "dynamodb",
            settings,
            timeout_s=settings.serving_store_timeout_s,
            max_attempts=settings.serving_store_max_attempts,
        )
        return cls(
            client,
            recommendations_table=settings.recommendations_table,
            versions_table=settings.versions_table,
        )

    def active_version(self, portal: str) -> str | None:
        """The version the portal's pointer names; None before the first model is published."""
        record = self._get(self._versions_table, layout.version_key(portal))
        try:
            return layout.active_version_of(record)
        except (KeyError, TypeError) as exc:
            raise StoreUnavailableError(f"malformed version pointer for {portal!r}") from exc

    def items(self, pk: str, sk: str) -> list[ScoredItem] | None:
        """The scored items stored under ``pk`` in ``sk``; None when there is no record."""
        record = self._get(self._recommendations_table, layout.record_key(pk, sk))
        return None if record is None else _decoded(record, pk, sk)

    def items_many(self, keys: Sequence[RecordKey]) -> dict[RecordKey, list[ScoredItem]]:
        """The records that exist among ``keys`` (at most 100), with one BatchGetItem."""
        table = self._recommendations_table
        wanted = list(dict.fromkeys(keys))
        if not wanted:
            return {}
        request: dict[str, Any] = {
            table: {"Keys": [layout.record_key(pk, sk) for pk, sk in wanted]}
        }
        found: dict[RecordKey, list[ScoredItem]] = {}
        for _ in range(BATCH_ROUNDS):
            try:
                response = self._client.batch_get_item(RequestItems=request)
            except (BotoCoreError, ClientError) as exc:
                raise StoreUnavailableError(
                    f"DynamoDB batch read from {table} failed: {exc}"
                ) from exc
            for record in response.get("Responses", {}).get(table, []):
                try:
                    pk, sk = layout.record_id_of(record)
                except (KeyError, TypeError) as exc:
                    raise StoreUnavailableError(f"record without a key in {table}") from exc
                found[(pk, sk)] = _decoded(record, pk, sk)
            request = response.get("UnprocessedKeys") or {}
            if not request:
                return found
        raise StoreUnavailableError(f"DynamoDB left keys of {table} unprocessed twice")

    def hot_counts(self, portal: str, since_s: int) -> dict[int, dict[str, int]]:
        """The portal's hot buckets that start at ``since_s`` or later, with one Query
        (a page holds an hour of buckets many times over; more pages are read if not)."""
        table = self._recommendations_table
        query: dict[str, Any] = {
            "TableName": table,
            "KeyConditionExpression": "pk = :pk AND sk BETWEEN :from AND :to",
            "ExpressionAttributeValues": {
                ":pk": {"S": layout.hot_key(portal)},
                ":from": {"S": layout.hot_bucket_sk(since_s)},
                ":to": {"S": layout.hot_bucket_sk(10**12 - 1)},
            },
        }
        records: list[dict[str, Any]] = []
        try:
            while True:
                response = self._client.query(**query)
                records.extend(response.get("Items", []))
                if "LastEvaluatedKey" not in response:
                    break
                query["ExclusiveStartKey"] = response["LastEvaluatedKey"]
            return layout.hot_counts_of(records)
        except (BotoCoreError, ClientError) as exc:
            raise StoreUnavailableError(f"DynamoDB query of {table} failed: {exc}") from exc
        except (KeyError, TypeError, ValueError) as exc:
            raise StoreUnavailableError(f"malformed hot bucket of {portal!r}") from exc

    def _get(self, table: str, key: dict[str, Any]) -> dict[str, Any] | None:
        try:
            response = self._client.get_item(TableName=table, Key=key)
        except (BotoCoreError, ClientError) as exc:
            raise StoreUnavailableError(f"DynamoDB read from {table} failed: {exc}") from exc
        item = response.get("Item")
        return dict(item) if item is not None else None


def _decoded(record: dict[str, Any], pk: str, sk: str) -> list[ScoredItem]:
    try:
        return layout.items_of(record)
    except (KeyError, TypeError, ValueError) as exc:
        raise StoreUnavailableError(f"malformed record {_kind(pk)!r} in version {sk!r}") from exc


def _kind(pk: str) -> str:
    """A record's key without the reader or article it names (``g1#user#...``): the error
    is logged, and logs hold no reader ids."""
    parts = pk.split("#", 2)
    return "#".join(parts[:2]) + ("#..." if len(parts) > 2 else "")
