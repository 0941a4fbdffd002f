"""A reader's items in the serving store: their personal lists of every model version
(``{portal}#user#{id}``) and their recent reads (``{portal}#recent#{id}``), the session
state the consumer keeps. Hot counts and the other lists name articles, never readers.

Deleting them makes the service answer the reader as it answers someone it never saw.
"""

from __future__ import annotations

from typing import Any

from newslake import store
from spark_jobs.reader_rows import Reader


def reader_keys(ddb: Any, table: str, reader: Reader) -> list[dict[str, Any]]:
    """The keys of every item of ``reader`` in the recommendations table."""
    keys = []
    for pk in (
        store.user_key(reader.portal, reader.user_id),
        store.recent_key(reader.portal, reader.user_id),
    ):
        pages = ddb.get_paginator("query").paginate(
            TableName=table,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": pk}},
            ProjectionExpression="pk, sk",
            ConsistentRead=True,
        )
        for page in pages:
            keys += [{"pk": item["pk"], "sk": item["sk"]} for item in page.get("Items", [])]
    return keys


def erase_items(ddb: Any, table: str, reader: Reader) -> int:
    """Delete every item of ``reader``; returns how many there were."""
    keys = reader_keys(ddb, table, reader)
    for key in keys:
        ddb.delete_item(TableName=table, Key=key)
    return len(keys)
