"""Kinesis records as the collector writes them (a pageview plus ``server_ts``), for the
session-state consumer's tests: a read is named by reader, article and time."""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

from ingestion.session_state import Batch, StreamRecord

NOW = 1_800_000_000.0  # the tests' clock, epoch seconds (2027-01-15 08:00 UTC)
SHARD = "shardId-000000000000"


def view(event_id: str, user: str, article: str | None, at: float, **fields: Any) -> dict[str, Any]:
    """A ``view`` event of ``article`` by ``user`` at ``at`` (epoch s), received then."""
    event: dict[str, Any] = {
        "event_id": event_id,
        "event_type": "view",
        "portal": "g1",
        "user_id": user,
        "session_id": f"s-{user}",
        "pageview_id": f"pv-{event_id}",
        "url": f"https://g1.globo.com/noticia/{article}.ghtml",
        "article_id": article,
        "client_ts": int(at * 1000),
        "server_ts": int(at * 1000),
    }
    return {**event, **fields}


def data(event: dict[str, Any]) -> bytes:
    return json.dumps(event, separators=(",", ":")).encode()


def batch(*events: dict[str, Any] | bytes, first: int = 1, shard: str = SHARD) -> Batch:
    """A shard batch of ``events`` (dicts, or raw bytes as they would be in the stream),
    with sequence numbers ``first``, ``first + 1``, ...."""
    return Batch(
        "g1",
        shard,
        [
            StreamRecord(str(first + i), e if isinstance(e, bytes) else data(e))
            for i, e in enumerate(events)
        ],
    )


class Flaky:
    """A boto3 client that fails its next ``failures[operation]`` calls of an operation
    with ``code`` (throttling by default), then behaves as ``client``."""

    def __init__(
        self,
        client: Any,
        failures: dict[str, int],
        code: str = "ProvisionedThroughputExceededException",
    ) -> None:
        self.client, self.failures, self.code = client, dict(failures), code
        self.calls: dict[str, int] = {}

    def __getattr__(self, operation: str) -> Any:
        real = getattr(self.client, operation)

        def call(**kwargs: Any) -> Any:
            self.calls[operation] = self.calls.get(operation, 0) + 1
            if self.failures.get(operation, 0) > 0:
                self.failures[operation] -= 1
                raise ClientError({"Error": {"Code": self.code, "Message": "injected"}}, operation)
            return real(**kwargs)

        return call
