"""Editorial controls in the serving store (layout in :mod:`newslake.store`), with the
low-level DynamoDB client: read a portal's controls, change them, read their change log.

Every change writes the control and its log item in one transaction, so the audit never
misses a change and never records one that did not happen. Callers pass the client
(serving, the CLI, the jobs), so nothing here builds one.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

from newslake.editorial import Block, Controls, Promote
from newslake.store import TTL_ATTRIBUTE, controls_key, controls_log_key

BLOCK_PREFIX = "block#"
PROMOTE_PREFIX = "promote#"
# An ended control stays readable a while after its end before the table's TTL drops it.
KEEP_AFTER_END_S = 7 * 86400

Action = Literal["block", "unblock", "promote", "unpromote"]


class ControlsStoreError(Exception):
    """The store could not read or write the controls; nothing was changed."""


@dataclass(frozen=True)
class Change:
    """One change of a portal's controls, as its log item records it."""

    portal: str
    log_id: str  # the log item's sort key: ``{epoch ms:013d}#{uuid hex}``
    action: Action
    article_id: str
    by: str
    at_ms: int
    reason: str
    detail: str  # the control's fields as JSON ("{}" when one ends)


def _number(value: float | int) -> dict[str, str]:
    return {"N": str(value)}


def block_item(portal: str, block: Block) -> dict[str, Any]:
    item: dict[str, Any] = {
        "pk": {"S": controls_key(portal)},
        "sk": {"S": BLOCK_PREFIX + block.article_id},
        "reason": {"S": block.reason},
        "by": {"S": block.by},
        "at": _number(block.at),
    }
    if block.until is not None:
        item["until"] = _number(block.until)
        item[TTL_ATTRIBUTE] = _number(block.until + KEEP_AFTER_END_S)
    return item


def promote_item(portal: str, p: Promote) -> dict[str, Any]:
    item: dict[str, Any] = {
        "pk": {"S": controls_key(portal)},
        "sk": {"S": PROMOTE_PREFIX + p.article_id},
        "start": _number(p.start),
        "end": _number(p.end),
        "sections": {"S": json.dumps(list(p.sections))},
        "by": {"S": p.by},
        "at": _number(p.at),
        TTL_ATTRIBUTE: _number(p.end + KEEP_AFTER_END_S),
    }
    if p.position is not None:
        item["position"] = _number(p.position)
    if p.share is not None:
        item["share"] = _number(p.share)
    return item


def _opt(item: dict[str, Any], name: str) -> str | None:
    return str(item[name]["N"]) if name in item else None


def controls_of(items: list[dict[str, Any]]) -> Controls:
    """A portal's controls from the items of its ``{portal}#controls`` query.

    Raises:
        ControlsStoreError: an item is malformed (read as the store failing, so the
            last-known controls keep applying rather than none).
    """
    blocks: list[Block] = []
    promotions: list[Promote] = []
    try:
        for item in items:
            sk = str(item["sk"]["S"])
            by, at = str(item["by"]["S"]), int(item["at"]["N"])
            if sk.startswith(BLOCK_PREFIX):
                until = _opt(item, "until")
                blocks.append(
                    Block(
                        sk[len(BLOCK_PREFIX) :],
                        str(item["reason"]["S"]),
                        int(until) if until is not None else None,
                        by,
                        at,
                    )
                )
            elif sk.startswith(PROMOTE_PREFIX):
                position, share = _opt(item, "position"), _opt(item, "share")
                promotions.append(
                    Promote(
                        sk[len(PROMOTE_PREFIX) :],
                        int(position) if position is not None else None,
                        float(share) if share is not None else None,
                        int(item["start"]["N"]),
                        int(item["end"]["N"]),
                        tuple(str(s) for s in json.loads(item["sections"]["S"])),
                        by,
                        at,
                    )
                )
    except (KeyError, TypeError, ValueError) as exc:
        raise ControlsStoreError(f"malformed editorial control: {exc!r}") from exc
    return Controls(tuple(blocks), tuple(promotions))


def _query(client: Any, table: str, pk: str, after: str | None = None) -> Iterator[dict[str, Any]]:
    query: dict[str, Any] = {
        "TableName": table,
        "KeyConditionExpression": "pk = :pk",
        "ExpressionAttributeValues": {":pk": {"S": pk}},
        "ConsistentRead": True,
    }
    if after is not None:
        query["KeyConditionExpression"] += " AND sk > :after"
        query["ExpressionAttributeValues"][":after"] = {"S": after}
    try:
        while True:
            response = client.query(**query)
            yield from response.get("Items", [])
            if "LastEvaluatedKey" not in response:
                return
            query["ExclusiveStartKey"] = response["LastEvaluatedKey"]
    except ControlsStoreError:
        raise
    except Exception as exc:  # botocore's errors, whatever the transport raised
        raise ControlsStoreError(f"reading {pk} from {table} failed: {exc}") from exc


def load(client: Any, table: str, portal: str) -> Controls:
    """The portal's controls, expired ones included (``apply`` checks the time)."""
    return controls_of(list(_query(client, table, controls_key(portal))))


def _log_item(change: Change) -> dict[str, Any]:
    return {
        "pk": {"S": controls_log_key(change.portal)},
        "sk": {"S": change.log_id},
        "action": {"S": change.action},
        "article_id": {"S": change.article_id},
        "by": {"S": change.by},
        "at_ms": _number(change.at_ms),
        "reason": {"S": change.reason},
        "detail": {"S": change.detail},
    }


def new_change(
    portal: str, action: Action, article_id: str, by: str, *, reason: str = "", detail: str = "{}"
) -> Change:
    """A change made now, under a log id that sorts by time and is unique."""
    at_ms = time.time_ns() // 1_000_000
    log_id = f"{at_ms:013d}#{uuid.uuid4().hex}"
    return Change(portal, log_id, action, article_id, by, at_ms, reason, detail)


def write(client: Any, table: str, control: dict[str, Any] | None, change: Change) -> bool:
    """Put ``control`` (or, when None, delete the change's control) and its log item, in
    one transaction. Returns False when there was nothing to delete (nothing written).

    Raises:
        ControlsStoreError: the store failed; nothing was written.
    """
    log = {"Put": {"TableName": table, "Item": _log_item(change)}}
    if control is not None:
        first: dict[str, Any] = {"Put": {"TableName": table, "Item": control}}
    else:
        prefix = BLOCK_PREFIX if change.action == "unblock" else PROMOTE_PREFIX
        first = {
            "Delete": {
                "TableName": table,
                "Key": {
                    "pk": {"S": controls_key(change.portal)},
                    "sk": {"S": prefix + change.article_id},
                },
                "ConditionExpression": "attribute_exists(pk)",
            }
        }
    try:
        client.transact_write_items(TransactItems=[first, log])
    except Exception as exc:  # botocore's errors, whatever the transport raised
        reasons = getattr(exc, "response", {}).get("CancellationReasons") or []
        if control is None and any(r.get("Code") == "ConditionalCheckFailed" for r in reasons):
            return False
        raise ControlsStoreError(f"writing the controls of {change.portal} failed: {exc}") from exc
    return True


def changes(client: Any, table: str, portal: str, after: str | None = None) -> list[Change]:
    """The portal's logged changes, oldest first, those after log id ``after`` only."""
    found = []
    for item in _query(client, table, controls_log_key(portal), after):
        try:
            found.append(
                Change(
                    portal,
                    str(item["sk"]["S"]),
                    item["action"]["S"],
                    str(item["article_id"]["S"]),
                    str(item["by"]["S"]),
                    int(item["at_ms"]["N"]),
                    str(item["reason"]["S"]),
                    str(item["detail"]["S"]),
                )
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ControlsStoreError(f"malformed change log item: {exc!r}") from exc
    return found


def _detail(control: Block | Promote) -> str:
    fields = {k: v for k, v in vars(control).items() if k not in {"article_id", "by", "at"}}
    return json.dumps(fields, separators=(",", ":"), sort_keys=True)


class DynamoControls:
    """A table's editorial controls: what serving reads every few seconds and what the
    newsroom's route writes.

    Args:
        client: a boto3 ``dynamodb`` client.
        table: the recommendations table's name.
    """

    def __init__(self, client: Any, table: str) -> None:
        self._client = client
        self._table = table

    def load(self, portal: str) -> Controls:
        return load(self._client, self._table, portal)

    def block(self, portal: str, block: Block) -> None:
        change = new_change(
            portal, "block", block.article_id, block.by, reason=block.reason, detail=_detail(block)
        )
        write(self._client, self._table, block_item(portal, block), change)

    def promote(self, portal: str, promotion: Promote) -> None:
        change = new_change(
            portal, "promote", promotion.article_id, promotion.by, detail=_detail(promotion)
        )
        write(self._client, self._table, promote_item(portal, promotion), change)

    def end(self, portal: str, kind: Literal["block", "promote"], article_id: str, by: str) -> bool:
        """Ends the article's block or promotion; False when it had none."""
        action: Action = "unblock" if kind == "block" else "unpromote"
        return write(self._client, self._table, None, new_change(portal, action, article_id, by))
