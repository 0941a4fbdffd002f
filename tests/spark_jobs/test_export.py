from __future__ import annotations

import pytest

from newslake import aws, store
from spark_jobs import export


class FlakyDynamo:
    """BatchWriteItem leaving the last ``drop`` items unprocessed on its first ``times`` calls."""

    def __init__(self, drop: int, times: int):
        self.drop, self.times, self.calls, self.stored = drop, times, 0, []

    def batch_write_item(self, RequestItems):
        self.calls += 1
        ((table, requests),) = RequestItems.items()
        if self.calls <= self.times:
            kept, left = requests[: -self.drop], requests[-self.drop :]
        else:
            kept, left = requests, []
        self.stored += [r["PutRequest"]["Item"]["pk"]["S"] for r in kept]
        return {"UnprocessedItems": {table: left} if left else {}}


def _records(n):
    return [store.item_record(f"g1#user#u{i}", "v1", [], 0) for i in range(n)]


def test_unprocessed_items_are_retried_until_written_once_each():
    ddb = FlakyDynamo(drop=3, times=2)
    assert export.write_batch(ddb, "t", _records(30), base_delay_s=0) == 30
    assert sorted(ddb.stored) == sorted(f"g1#user#u{i}" for i in range(30))
    # 25 items: 2 partial answers, then the rest; 5 items: one call.
    assert ddb.calls == 4


def test_items_that_stay_unprocessed_raise():
    with pytest.raises(export.ExportError, match="3 items stayed unprocessed"):
        export.write_batch(
            FlakyDynamo(drop=3, times=99), "t", _records(5), max_attempts=3, base_delay_s=0
        )


class FlakyDynamoReads:
    """BatchGetItem answering the first key of each call and leaving the rest unprocessed,
    on its first ``times`` calls; ``u2`` is not stored."""

    def __init__(self, times: int):
        self.times, self.calls, self.asked = times, 0, []

    def batch_get_item(self, RequestItems):
        self.calls += 1
        ((table, request),) = RequestItems.items()
        keys = request["Keys"]
        self.asked.append(len(keys))
        answered, left = (keys[:1], keys[1:]) if self.calls <= self.times else (keys, [])
        found = [
            store.item_record(k["pk"]["S"], k["sk"]["S"], [store.ScoredItem("a1", 2.0)], 0)
            for k in answered
            if k["pk"]["S"] != "g1#user#u2"
        ]
        return {
            "Responses": {table: found},
            "UnprocessedKeys": {table: {"Keys": left}} if left else {},
        }


def _keys(n):
    return [{"pk": {"S": f"g1#user#u{i}"}, "sk": {"S": "live"}} for i in range(n)]


def test_unprocessed_keys_are_read_again():
    ddb = FlakyDynamoReads(times=2)
    found = export.read_items(ddb, "t", _keys(4), base_delay_s=0)
    assert found == {(f"g1#user#u{i}", "live"): [store.ScoredItem("a1", 2.0)] for i in (0, 1, 3)}
    assert ddb.asked == [4, 3, 2]


def test_keys_that_stay_unprocessed_raise():
    with pytest.raises(export.ExportError, match="2 keys of t stayed unprocessed"):
        export.read_items(FlakyDynamoReads(times=99), "t", _keys(4), max_attempts=2, base_delay_s=0)


@pytest.mark.slow
def test_pointer_switch_is_conditional_on_the_version_in_service(local_platform):
    ddb = aws.client("dynamodb", local_platform)
    table, portal = local_platform.versions_table, "export-it"
    export.switch_active_version(ddb, table, portal, "v1", expected=None)
    export.switch_active_version(ddb, table, portal, "v2", expected="v1")
    with pytest.raises(export.VersionSwitchError, match="active version changed"):
        export.switch_active_version(ddb, table, portal, "v3", expected="v1")
    with pytest.raises(export.VersionSwitchError):
        export.switch_active_version(ddb, table, portal, "v3", expected=None)
    assert export.active_version(ddb, table, portal) == "v2"
