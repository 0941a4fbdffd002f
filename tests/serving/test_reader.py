"""DynamoReader against the local platform's DynamoDB, with records written by hand."""

from __future__ import annotations

from typing import Any

import pytest

from newslake import aws
from newslake.settings import Settings
from newslake.store import ScoredItem
from serving.reader import DynamoReader, StoreUnavailableError

PORTAL = "reader-test"  # no other test writes this portal's keys


@pytest.fixture(scope="module")
def ddb(local_platform: Settings) -> Any:
    return aws.client("dynamodb", local_platform)


@pytest.fixture
def reader(local_platform: Settings) -> DynamoReader:
    return DynamoReader.from_settings(local_platform)


@pytest.mark.slow
def test_active_version_is_none_before_the_first_model(reader: DynamoReader) -> None:
    assert reader.active_version("reader-never-published") is None


@pytest.mark.slow
def test_active_version_follows_the_pointer(
    reader: DynamoReader, ddb: Any, local_platform: Settings
) -> None:
    ddb.put_item(
        TableName=local_platform.versions_table,
        Item={"portal": {"S": PORTAL}, "active_version": {"S": "v7"}},
    )

    assert reader.active_version(PORTAL) == "v7"


@pytest.mark.slow
def test_items_are_read_best_first(
    reader: DynamoReader, ddb: Any, local_platform: Settings
) -> None:
    ddb.put_item(
        TableName=local_platform.recommendations_table,
        Item={
            "pk": {"S": "reader-test#user#alice"},
            "sk": {"S": "v7"},
            "items": {"S": '[{"article_id":"a-1","score":0.9},{"article_id":"a-2","score":0.4}]'},
            "expires_at": {"N": "4102444800"},
        },
    )

    assert reader.items("reader-test#user#alice", "v7") == [
        ScoredItem("a-1", 0.9),
        ScoredItem("a-2", 0.4),
    ]


@pytest.mark.slow
def test_missing_record_is_none(reader: DynamoReader) -> None:
    assert reader.items("reader-test#user#nobody", "v7") is None


@pytest.mark.slow
def test_malformed_record_is_store_unavailable(
    reader: DynamoReader, ddb: Any, local_platform: Settings
) -> None:
    ddb.put_item(
        TableName=local_platform.recommendations_table,
        Item={"pk": {"S": "reader-test#popular"}, "sk": {"S": "v7"}, "items": {"S": "not json"}},
    )

    with pytest.raises(StoreUnavailableError, match="malformed record 'reader-test#popular'"):
        reader.items("reader-test#popular", "v7")


@pytest.mark.slow
def test_missing_table_is_store_unavailable(local_platform: Settings) -> None:
    client = aws.client("dynamodb", local_platform)
    reader = DynamoReader(client, recommendations_table="no-such-table", versions_table="nope")

    with pytest.raises(StoreUnavailableError, match="nope"):
        reader.active_version(PORTAL)


def test_unreachable_dynamodb_is_store_unavailable() -> None:
    # Nothing listens on port 9 (discard): the connection is refused.
    reader = DynamoReader.from_settings(Settings(profile="local", moto_port=9))

    with pytest.raises(StoreUnavailableError, match="DynamoDB read from"):
        reader.active_version("g1")


@pytest.mark.slow
def test_hot_counts_are_the_buckets_from_the_start_asked(
    reader: DynamoReader, ddb: Any, local_platform: Settings
) -> None:
    def bucket(start: int, **views: int) -> dict[str, Any]:
        counts = {f"v#{article}": {"N": str(n)} for article, n in views.items()}
        return {"pk": {"S": "reader-test#hot"}, "sk": {"S": f"bucket#{start:012d}"}, **counts}

    for item in (bucket(1_000, a=1), bucket(1_060, a=2, b=3), bucket(1_120, c=1)):
        ddb.put_item(TableName=local_platform.recommendations_table, Item=item)

    assert reader.hot_counts(PORTAL, 1_060) == {1_060: {"a": 2, "b": 3}, 1_120: {"c": 1}}
    assert reader.hot_counts("reader-never-read", 0) == {}
