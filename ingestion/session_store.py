"""The session-state consumer's writes to the recommendations table: no read lost, no view
counted twice, whoever else writes and however often a batch is replayed.

* **Recent reads** (``{portal}#recent#{user_id}`` / ``live``): read (one ``BatchGetItem``
  for the batch's readers), merge (:func:`newslake.store.merge_recent_reads`), put the
  whole item back (``PutItem``) on condition that the item is
  still the one read: its ``rev`` unchanged (or, for an item some other writer put without
  one, its ``items`` unchanged; or, for a new reader, no item). A writer that lost the race
  reads again and merges again. Merging is idempotent, so a replayed batch changes nothing
  and is not even written.
* **Hot counts** (``{portal}#hot`` / ``bucket#{t}``): one ``UpdateItem`` per chunk of views
  adds the counts and sets the shard's ``seq#{shard}`` to the chunk's last sequence number,
  on condition that the stored one is below the chunk's first. A chunk that fails that
  condition was (partly) counted before: the writer reads the stored sequence number and
  adds only the views past it. A bucket's chunks are written in shard order and the first
  failure stops the rest of that bucket, so a stored sequence number means "every view of
  this shard up to here is counted".

:func:`consume` runs a batch through both and says from which record on the batch must be
delivered again (``failed_from``): the Lambda reports it as a partial batch failure, the
local poller keeps its checkpoint and re-reads.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from ingestion.session_state import (
    Batch,
    HotChunk,
    Parsed,
    ReaderUpdate,
    hot_chunks,
    parse_batch,
    reader_updates,
)
from newslake import store
from newslake.privacy import log_key, logged_reader
from newslake.settings import Settings

log = logging.getLogger(__name__)

BATCH_GET_KEYS = 100  # BatchGetItem's limit


class WriteConflictError(Exception):
    """Other writers changed an item every time it was written."""


StoreFailure = (ClientError, BotoCoreError, WriteConflictError)


def _conflict(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


@dataclass
class Consumed:
    """What one batch came to."""

    reads: int = 0
    others: int = 0
    duplicates: int = 0
    skipped: int = 0
    readers_written: int = 0
    views_counted: int = 0
    failed_from: str | None = None  # the first record to deliver again (None: all applied)


class SessionStore:
    """Conditional writes of session state to the recommendations table.

    Args:
        ddb: a low-level DynamoDB client.
        settings: the table, the recent-reads window and bound, the live TTL, the attempts.
    """

    def __init__(self, ddb: Any, settings: Settings) -> None:
        self.ddb, self.settings = ddb, settings
        self.table = settings.recommendations_table

    # ---- recent reads ------------------------------------------------------------------
    def current_reads(self, portal: str, users: list[str]) -> dict[str, dict[str, Any]]:
        """The stored recent-reads items of ``users`` (absent: none yet), consistently read."""
        found: dict[str, dict[str, Any]] = {}
        by_pk = {store.recent_key(portal, u): u for u in users}
        keys = [store.record_key(pk, store.LIVE) for pk in by_pk]
        for i in range(0, len(keys), BATCH_GET_KEYS):
            pending: dict[str, Any] = {
                self.table: {"Keys": keys[i : i + BATCH_GET_KEYS], "ConsistentRead": True}
            }
            for _ in range(self.settings.session_state_write_attempts):
                resp = self.ddb.batch_get_item(RequestItems=pending)
                for item in resp.get("Responses", {}).get(self.table, []):
                    found[by_pk[item["pk"]["S"]]] = item
                pending = resp.get("UnprocessedKeys") or {}
                if not pending:
                    break
            if pending:
                raise WriteConflictError("the store kept keys unprocessed")
        return found

    def write_reads(
        self, portal: str, update: ReaderUpdate, record: dict[str, Any] | None, *, now: float
    ) -> bool:
        """Merge ``update`` into the reader's stored list (``record``, as read); True when
        the list changed and was written.

        Raises:
            WriteConflictError: other writers won every attempt.
            ClientError, BotoCoreError: the store failed.
        """
        s = self.settings
        key = store.record_key(store.recent_key(portal, update.user_id), store.LIVE)
        for _ in range(s.session_state_write_attempts):
            current = store.items_of(record) if record else []
            merged = store.merge_recent_reads(
                current,
                update.reads,
                as_of=now,
                window=timedelta(hours=s.recent_reads_hours),
                limit=s.recent_reads_limit,
            )
            if merged == current:  # nothing new, or only reads already past the window
                return False
            try:
                self.ddb.put_item(
                    TableName=self.table, **_reads_put(key, record, merged, self._ttl(now))
                )
                return True
            except ClientError as exc:
                if not _conflict(exc):
                    raise
            record = self.ddb.get_item(TableName=self.table, Key=key, ConsistentRead=True).get(
                "Item"
            )
        # privacy: the key holds the reader's id, and this message is logged
        raise WriteConflictError("a reader's recent reads changed by others on every attempt")

    def _ttl(self, now: float) -> int:
        return int(now) + self.settings.live_ttl_hours * 3600

    # ---- hot counts --------------------------------------------------------------------
    def add_hot(self, portal: str, shard_id: str, chunk: HotChunk) -> int:
        """Count ``chunk``'s views not counted yet in its bucket; returns how many were added.

        Raises:
            WriteConflictError: the shard's sequence number kept changing under this writer.
            ClientError, BotoCoreError: the store failed.
        """
        key = store.record_key(store.hot_key(portal), store.hot_bucket_sk(chunk.bucket))
        sequence = store.shard_sequence_attribute(shard_id)
        # First the condition that holds unless the chunk was seen before (no read); after
        # a failed condition, the stored sequence number as read.
        known, stored = False, None
        for _ in range(self.settings.session_state_write_attempts):
            counts = chunk.counts(after=stored)
            if not counts:
                return 0
            update = _hot_update(chunk, counts, sequence, stored=stored, known=known)
            try:
                self.ddb.update_item(TableName=self.table, Key=key, **update)
                return sum(counts.values())
            except ClientError as exc:
                if not _conflict(exc):
                    raise
            got = self.ddb.get_item(
                TableName=self.table,
                Key=key,
                ConsistentRead=True,
                ProjectionExpression="#s",
                ExpressionAttributeNames={"#s": sequence},
            ).get("Item", {})
            known, stored = True, (got[sequence]["S"] if sequence in got else None)
        raise WriteConflictError(f"{key['sk']['S']}: {sequence} changed on every attempt")


def _reads_put(
    key: dict[str, Any],
    record: dict[str, Any] | None,
    merged: list[store.ScoredItem],
    expires_at: int,
) -> dict[str, Any]:
    """The PutItem arguments writing ``merged`` over ``record``, if it is still unchanged
    (a whole item, as the list is rewritten whole: cheaper than an update expression)."""
    values: dict[str, Any] = {}
    if record is None:
        condition, revision = "attribute_not_exists(pk)", 1
    elif store.REVISION_ATTRIBUTE in record:
        revision = int(record[store.REVISION_ATTRIBUTE]["N"])
        condition, values[":rev"] = "#rev = :rev", {"N": str(revision)}
        revision += 1
    else:  # put by a writer that keeps no revision: the whole list must be unchanged
        condition, revision = "attribute_not_exists(#rev) AND #items = :old", 1
        values[":old"] = record["items"]
    item = {
        **store.item_record(key["pk"]["S"], key["sk"]["S"], merged, expires_at),
        store.REVISION_ATTRIBUTE: {"N": str(revision)},
    }
    names = {"#rev": store.REVISION_ATTRIBUTE, "#items": "items"}
    arguments: dict[str, Any] = {"Item": item, "ConditionExpression": condition}
    used = {n: v for n, v in names.items() if n in condition}
    if used:
        arguments["ExpressionAttributeNames"] = used
    if values:
        arguments["ExpressionAttributeValues"] = values
    return arguments


def _hot_update(
    chunk: HotChunk, counts: dict[str, int], sequence: str, *, stored: str | None, known: bool
) -> dict[str, Any]:
    """The UpdateItem arguments adding ``counts`` and moving the shard's sequence number,
    on condition that it is below the chunk (not ``known``) or still ``stored``."""
    names = {"#seq": sequence, "#exp": store.TTL_ATTRIBUTE}
    values: dict[str, Any] = {
        ":last": {"S": chunk.last},
        ":exp": {"N": str(chunk.expires_at)},
    }
    adds = []
    for i, (article, views) in enumerate(sorted(counts.items())):
        names[f"#a{i}"] = store.hot_count_attribute(article)
        values[f":a{i}"] = {"N": str(views)}
        adds.append(f"#a{i} :a{i}")
    if not known:
        condition = "attribute_not_exists(#seq) OR #seq < :first"
        values[":first"] = {"S": chunk.first}
    elif stored is None:
        condition = "attribute_not_exists(#seq)"
    else:
        condition = "#seq = :stored"
        values[":stored"] = {"S": stored}
    return {
        "UpdateExpression": f"ADD {', '.join(adds)} SET #seq = :last, #exp = :exp",
        "ConditionExpression": condition,
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": values,
    }


def _write_readers(
    writer: SessionStore, batch: Batch, parsed: Parsed, result: Consumed, now: float
) -> list[str]:
    """Every reader's update; returns the first sequence number of each that failed."""
    updates = reader_updates(parsed.reads)
    if not updates:
        return []
    try:
        current = writer.current_reads(batch.portal, [u.user_id for u in updates])
    except StoreFailure as exc:
        log.warning("reading %d readers' recent reads failed: %s", len(updates), exc)
        return [min(u.first_sequence for u in updates)]
    failed = []
    for update in updates:
        try:
            written = writer.write_reads(batch.portal, update, current.get(update.user_id), now=now)
        except StoreFailure as exc:
            reader = logged_reader(batch.portal, update.user_id, log_key(writer.settings))
            log.warning("recent reads of reader %s not written: %s", reader, exc)
            failed.append(update.first_sequence)
            continue
        result.readers_written += int(written)
    return failed


def _add_hot_counts(
    writer: SessionStore, batch: Batch, parsed: Parsed, result: Consumed, now: float
) -> list[str]:
    """Every chunk of hot counts, a bucket's in shard order and none after its first
    failure; returns the first sequence number of each chunk that failed."""
    failed_buckets: dict[int, str] = {}
    for chunk in hot_chunks(parsed.reads, writer.settings, now=now):
        if chunk.bucket in failed_buckets:
            continue
        try:
            result.views_counted += writer.add_hot(batch.portal, batch.shard_id, chunk)
        except StoreFailure as exc:
            log.warning("hot counts of bucket %d not added: %s", chunk.bucket, exc)
            failed_buckets[chunk.bucket] = chunk.first
    return list(failed_buckets.values())


def consume(batch: Batch, writer: SessionStore, *, now: float | None = None) -> Consumed:
    """Apply one shard batch to the store: the readers' recent reads and the hot counts.

    Store failures do not raise: ``failed_from`` names the first record whose effects may
    be missing (as a padded sequence number), and delivering the batch again from there
    changes only what is missing. Records that are no pageview are skipped and counted.
    """
    now = time.time() if now is None else now
    parsed = parse_batch(batch, writer.settings)
    result = Consumed(
        reads=len(parsed.reads),
        others=parsed.others,
        duplicates=parsed.duplicates,
        skipped=len(parsed.skipped),
    )
    for sequence_number, why in parsed.skipped:
        log.warning("skipped record %s of %s: %s", sequence_number, batch.shard_id, why)
    failed = _write_readers(writer, batch, parsed, result, now)
    failed += _add_hot_counts(writer, batch, parsed, result, now)
    result.failed_from = min(failed) if failed else None
    return result
