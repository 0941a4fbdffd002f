"""Reading back what a job published to the serving store (the recommendations table)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from newslake import store


def stored_lists(ddb: Any, table: str, *, version: str) -> Callable[[str], list[str]]:
    """``articles(pk)``: the article ids stored under ``pk`` in ``version`` (a model version
    or ``store.LIVE``), in the order the table keeps them.

    Args:
        ddb: a low-level DynamoDB client at the tests' platform.
        table: the recommendations table's name.
        version: the sort key to read.
    """

    def articles(pk: str) -> list[str]:
        got = ddb.get_item(TableName=table, Key=store.record_key(pk, version))
        return [item.article_id for item in store.items_of(got["Item"])]

    return articles
