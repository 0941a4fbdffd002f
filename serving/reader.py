"""Reading the serving store (layout in newslake.store) from DynamoDB, on the request path.

Every failure of DynamoDB, whether down, slow, throttling or a malformed record, becomes
one StoreUnavailableError, so the caller has a single thing to degrade on.
"""

from __future__ import annotations

from typing import Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError

from newslake import aws
from newslake import store as layout
from newslake.settings import Settings
from newslake.store import ScoredItem

# Short, so a slow DynamoDB degrades a request instead of hanging it.
READ_TIMEOUT_S = 0.5
READ_MAX_ATTEMPTS = 2


class StoreUnavailableError(Exception):
    """The store could not answer; serve what is known instead of failing the request."""


class RecommendationReader(Protocol):
    """What the recommender reads: the portal's active version and one record of it."""

    def active_version(self, portal: str) -> str | None: ...

    def items(self, pk: str, version: str) -> list[ScoredItem] | None: ...


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
        client = aws.client(
            "dynamodb", settings, timeout_s=READ_TIMEOUT_S, max_attempts=READ_MAX_ATTEMPTS
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

    def items(self, pk: str, version: str) -> list[ScoredItem] | None:
        """The scored items stored under ``pk`` in ``version``; None when there is no record."""
        record = self._get(self._recommendations_table, layout.record_key(pk, version))
        if record is None:
            return None
        try:
            return layout.items_of(record)
        except (KeyError, TypeError, ValueError) as exc:
            raise StoreUnavailableError(f"malformed record {pk!r} in version {version!r}") from exc

    def _get(self, table: str, key: dict[str, Any]) -> dict[str, Any] | None:
        try:
            response = self._client.get_item(TableName=table, Key=key)
        except (BotoCoreError, ClientError) as exc:
            raise StoreUnavailableError(f"DynamoDB read from {table} failed: {exc}") from exc
        item = response.get("Item")
        return dict(item) if item is not None else None
