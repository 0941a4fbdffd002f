"""What the local platform keeps on disk, so that ``make down && make up`` loses nothing a
user built: the Delta lake (``state_dir/lake``, Settings.lake_root) and snapshots of the
small tables that only the moto server's memory would hold (``state_dir/keep``).

The moto server holds everything in memory. The lake therefore lives on disk by default,
and the serving store is filled again from it after ``make up`` (``spark_jobs/restore.py``).
What neither the lake nor a model can give back, readers' erasure requests and the
newsrooms' editorial controls with their log, is written to a snapshot when the platform
stops and put back when it starts. A crash of the moto server (kill -9) skips the
snapshot: changes made since the last ``make down`` are then lost. In AWS, DynamoDB keeps
these tables itself, so nothing of this runs there.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from newslake import aws, store
from newslake.settings import Settings

SNAPSHOT_FORMAT = 1
REQUESTS = "privacy-requests"
CONTROLS = "editorial-controls"
# Left by an `up` that started the moto server (its memory, the store with it, is new);
# the restore from the lake runs while it is there and removes it when done.
RESTORE_PENDING = "restore-pending"


def lake_dir(settings: Settings) -> Path | None:
    """The folder of the default local lake; None when NEWSLAKE_LAKE_URI puts it elsewhere
    (that place is the user's, and is never removed here)."""
    if settings.profile != "local" or settings.lake_uri:
        return None
    return settings.state_dir.resolve() / "lake"


def keep_dir(settings: Settings) -> Path:
    return settings.state_dir / "keep"


def expect_restore(settings: Settings) -> None:
    """Say that the store is new and may need filling from the lake."""
    keep_dir(settings).mkdir(parents=True, exist_ok=True)
    (keep_dir(settings) / RESTORE_PENDING).touch()


def restore_pending(settings: Settings) -> bool:
    """True from a start of the moto server until the restore has run: so the restore, and
    its Spark start, is tried once per start, not on every `make up`."""
    return (keep_dir(settings) / RESTORE_PENDING).exists()


def restore_done(settings: Settings) -> None:
    (keep_dir(settings) / RESTORE_PENDING).unlink(missing_ok=True)


def forget(settings: Settings) -> None:
    """Remove what a restart would bring back: the default local lake and the snapshots.
    For runs that start from an empty platform (``make demo``, ``make replay-ab``), beside
    emptying the moto server."""
    lake = lake_dir(settings)
    if lake is not None:
        shutil.rmtree(lake, ignore_errors=True)
    shutil.rmtree(keep_dir(settings), ignore_errors=True)


def _pages(call: Any, **request: Any) -> Iterator[dict[str, Any]]:
    """Every item of a paginated Query or Scan."""
    while True:
        page = call(**request)
        yield from page.get("Items", [])
        if "LastEvaluatedKey" not in page:
            return
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _kept_items(ddb: Any, settings: Settings) -> dict[str, tuple[str, str, list[Any]]]:
    """(table, its hash key, items) of each kept part: every erasure request, and each
    portal's controls and their log (two partitions of the recommendations table)."""
    requests = list(_pages(ddb.scan, TableName=settings.privacy_requests_table))
    controls = [
        item
        for portal in settings.portals
        for pk in (store.controls_key(portal), store.controls_log_key(portal))
        for item in _pages(
            ddb.query,
            TableName=settings.recommendations_table,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": pk}},
            ConsistentRead=True,
        )
    ]
    return {
        REQUESTS: (settings.privacy_requests_table, "subject", requests),
        CONTROLS: (settings.recommendations_table, "pk", controls),
    }


def _write_whole(path: Path, text: str) -> None:
    """A snapshot is replaced whole or not at all: written aside, then renamed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w") as out:
        out.write(text)
    os.replace(tmp, path)


def save(settings: Settings) -> dict[str, int]:
    """Snapshot the kept tables of the running moto server to ``keep_dir``; returns the
    items kept per part."""
    ddb = aws.client("dynamodb", settings)
    counts: dict[str, int] = {}
    for name, (table, hash_key, items) in _kept_items(ddb, settings).items():
        doc = {"format": SNAPSHOT_FORMAT, "table": table, "hash_key": hash_key, "items": items}
        _write_whole(keep_dir(settings) / f"{name}.json", json.dumps(doc))
        counts[name] = len(items)
    return counts


def load(settings: Settings) -> dict[str, int]:
    """Put the snapshots' items back into a provisioned platform; an item whose key is
    already there is left as it is (it is newer than the snapshot). Returns the items put
    back per part."""
    ddb = aws.client("dynamodb", settings)
    counts: dict[str, int] = {}
    for name in (REQUESTS, CONTROLS):
        path = keep_dir(settings) / f"{name}.json"
        if not path.exists():
            continue
        doc = json.loads(path.read_text())
        counts[name] = sum(
            _put_if_absent(ddb, doc["table"], doc["hash_key"], item) for item in doc["items"]
        )
    return counts


def _put_if_absent(ddb: Any, table: str, hash_key: str, item: dict[str, Any]) -> bool:
    try:
        ddb.put_item(
            TableName=table,
            Item=item,
            ConditionExpression="attribute_not_exists(#k)",
            ExpressionAttributeNames={"#k": hash_key},
        )
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
            return False
        raise
    return True
