"""The session-state consumer on the local platform: a poller in place of Lambda's Kinesis
event source mapping (moto runs no Lambda triggers).

Every shard of every portal's stream is read from its checkpoint, one ``GetRecords`` page
(at most ``session_state_batch_size`` records) at a time, and each page goes through
:func:`ingestion.session_store.consume` as one batch, exactly as a Lambda invocation would
get it. Then the shard's checkpoint moves:

* a stream's checkpoint (every shard's last applied sequence number, in one S3 object in
  the landing bucket, beside the Firehose stand-in's) is written only after the batch's
  writes succeeded, so a process killed between the two re-reads the batch on restart,
  and the writes are idempotent (:mod:`ingestion.session_store`): no read lost, no view
  counted twice;
* Kinesis throttling, the store down or a conflict that does not settle: the shard backs
  off (``session_state_backoff_s``, doubled per failure up to
  ``session_state_backoff_max_s``) and re-reads from its checkpoint; the other shards go on.

``make up`` runs it in the background (``python -m ingestion.session_daemon start``);
``make session-state`` runs it in the foreground::

    python -m ingestion.session_poller           # until Ctrl-C
    python -m ingestion.session_poller --once    # catch up, then exit
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from botocore.exceptions import ClientError

from ingestion.session_state import Batch, StreamRecord
from ingestion.session_store import Consumed, SessionStore, StoreFailure, consume
from newslake import aws, logs
from newslake.settings import Settings, get_settings

log = logging.getLogger(__name__)

CHECKPOINT_PREFIX = "_checkpoints/session-state"


class BatchNotAppliedError(Exception):
    """Some of a batch's writes failed: the shard must read it again from its checkpoint."""


@dataclass
class PollStats:
    records: int = 0
    reads: int = 0
    skipped: int = 0
    readers_written: int = 0
    views_counted: int = 0
    failures: int = 0  # batches or reads that failed and were tried again

    def add(self, consumed: Consumed) -> None:
        self.reads += consumed.reads
        self.skipped += consumed.skipped
        self.readers_written += consumed.readers_written
        self.views_counted += consumed.views_counted


@dataclass
class _Shard:
    portal: str
    stream: str
    shard_id: str
    iterator: str | None = None  # None: (re)open from the checkpoint
    closed: bool = False  # a parent shard after resharding, read to its end
    failures: int = 0  # in a row
    retry_at: float = 0.0  # clock time before which it is not read again


class Checkpoints:
    """Each stream's applied positions, ``{shard id: sequence number}``, in one S3 object
    (so a stream's positions move together)."""

    def __init__(self, s3: Any, bucket: str) -> None:
        self.s3, self.bucket = s3, bucket

    @staticmethod
    def key(stream: str) -> str:
        return f"{CHECKPOINT_PREFIX}/{stream}.json"

    def load(self, stream: str) -> dict[str, str]:
        """The stream's positions; {} before its first checkpoint."""
        try:
            body = self.s3.get_object(Bucket=self.bucket, Key=self.key(stream))["Body"].read()
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in {"NoSuchKey", "404"}:
                return {}
            raise
        return {shard: str(sequence) for shard, sequence in json.loads(body)["shards"].items()}

    def save(self, stream: str, positions: dict[str, str]) -> None:
        document = {"shards": dict(sorted(positions.items()))}
        self.s3.put_object(Bucket=self.bucket, Key=self.key(stream), Body=json.dumps(document))


class SessionPoller:
    """Reads every portal's stream into the session state, one shard page at a time.

    Args:
        settings: portals and streams, batch size, poll and backoff times.
        kinesis: a Kinesis client.
        checkpoints: where each stream's applied positions are kept.
        writer: the session state's store.
        clock: monotonic seconds, for backoff (tests pass a fake one).
        now: epoch seconds, for expiries and the recent-reads window.
        fault: called with ``"applied"`` between a batch's writes and its checkpoint (tests
            raise there to kill the poller at the worst moment).
    """

    def __init__(
        self,
        settings: Settings,
        kinesis: Any,
        checkpoints: Checkpoints,
        writer: SessionStore,
        *,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], float] = time.time,
        fault: Callable[[str], None] = lambda step: None,
    ) -> None:
        self.settings, self.kinesis, self.checkpoints, self.writer = (
            settings,
            kinesis,
            checkpoints,
            writer,
        )
        self.clock, self.now, self.fault = clock, now, fault
        self.stats = PollStats()
        self.behind = False  # the last round filled a page: poll again at once
        self._positions: dict[str, dict[str, str]] = {}  # stream -> shard -> sequence
        self._shards: list[_Shard] = []

    def _open(self) -> None:
        shards = []
        for portal in self.settings.portals:
            stream = self.settings.stream_name(portal)
            self._positions[stream] = self.checkpoints.load(stream)
            listed = self.kinesis.list_shards(StreamName=stream)["Shards"]
            shards += [_Shard(portal, stream, s["ShardId"]) for s in listed]
        self._shards = shards

    def poll(self) -> int:
        """One round: a page from every shard that is not backing off. Returns the records
        applied; ``behind`` says whether a shard had more than a page to give."""
        if not self._shards:
            self._open()
        applied, behind = 0, False
        for shard in self._shards:
            if shard.closed or self.clock() < shard.retry_at:
                continue
            try:
                read = self._step(shard)
            except (*StoreFailure, BatchNotAppliedError) as exc:
                self._back_off(shard, exc)
                continue
            shard.failures = 0
            applied += read
            behind = behind or read >= self.settings.session_state_batch_size
        self.behind = behind
        return applied

    def _step(self, shard: _Shard) -> int:
        if shard.iterator is None:
            shard.iterator = self._iterator(shard)
        resp = self.kinesis.get_records(
            ShardIterator=shard.iterator, Limit=self.settings.session_state_batch_size
        )
        records = resp.get("Records", [])
        if records:
            batch = Batch(
                shard.portal,
                shard.shard_id,
                [StreamRecord(r["SequenceNumber"], r["Data"]) for r in records],
            )
            consumed = consume(batch, self.writer, now=self.now())
            self.stats.add(consumed)
            if consumed.failed_from is not None:
                raise BatchNotAppliedError(f"{len(records)} records from {shard.shard_id}")
            self.fault("applied")
            positions = {
                **self._positions[shard.stream],
                shard.shard_id: batch.records[-1].sequence_number,
            }
            self.checkpoints.save(shard.stream, positions)
            self._positions[shard.stream] = positions
            self.stats.records += len(records)
        shard.iterator = resp.get("NextShardIterator")
        shard.closed = shard.iterator is None
        return len(records)

    def _iterator(self, shard: _Shard) -> str:
        """An iterator after the shard's checkpoint, or at its oldest record. After a
        failure the checkpoint is read again: the platform may have been reset meanwhile."""
        if shard.failures:
            self._positions[shard.stream] = self.checkpoints.load(shard.stream)
        kwargs: dict[str, Any] = {"StreamName": shard.stream, "ShardId": shard.shard_id}
        position = self._positions[shard.stream].get(shard.shard_id)
        if position is None:
            kwargs["ShardIteratorType"] = "TRIM_HORIZON"
        else:
            kwargs |= {
                "ShardIteratorType": "AFTER_SEQUENCE_NUMBER",
                "StartingSequenceNumber": position,
            }
        return str(self.kinesis.get_shard_iterator(**kwargs)["ShardIterator"])

    def _back_off(self, shard: _Shard, exc: Exception) -> None:
        """Wait before the shard is read again, from its checkpoint."""
        s = self.settings
        shard.failures += 1
        delay = min(
            s.session_state_backoff_s * 2 ** (shard.failures - 1), s.session_state_backoff_max_s
        )
        shard.iterator, shard.retry_at = None, self.clock() + delay
        self.stats.failures += 1
        log.warning("%s/%s: %s; again in %.1fs", shard.stream, shard.shard_id, exc, delay)

    def waiting_s(self) -> float | None:
        """Seconds until the next shard that backs off may be read (None: none does)."""
        due = [s.retry_at for s in self._shards if not s.closed and s.retry_at > self.clock()]
        return max(0.0, min(due) - self.clock()) if due else None

    def drain(self, sleep: Callable[[float], None] = time.sleep) -> PollStats:
        """Read every shard to its end, then stop; a shard that fails is waited for."""
        while True:
            if self.poll() or self.behind:
                continue
            wait = self.waiting_s()
            if wait is None:
                return self.stats
            sleep(wait)


def build(settings: Settings, **kwargs: Any) -> SessionPoller:
    """A poller at the platform the settings name."""
    return SessionPoller(
        settings,
        aws.client("kinesis", settings),
        Checkpoints(aws.client("s3", settings), settings.landing_bucket),
        SessionStore(aws.client("dynamodb", settings), settings),
        **kwargs,
    )


def run(poller: SessionPoller, settings: Settings) -> None:
    """Poll until interrupted, pausing ``session_state_poll_s`` once caught up."""
    while True:
        try:
            poller.poll()
        except StoreFailure as exc:  # the platform is not up (yet): listing its streams failed
            log.warning(
                "cannot read the streams: %s; again in %.1fs",
                exc,
                settings.session_state_backoff_max_s,
            )
            time.sleep(settings.session_state_backoff_max_s)
            continue
        if not poller.behind:
            time.sleep(settings.session_state_poll_s)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ingestion.session_poller",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--once", action="store_true", help="catch up, then exit")
    args = parser.parse_args(argv)
    logs.configure()
    settings = get_settings()
    poller = build(settings)
    try:
        if args.once:
            print(json.dumps(asdict(poller.drain())))
            return 0
        log.info(
            "session state from %s every %.2fs",
            ", ".join(settings.portals),
            settings.session_state_poll_s,
        )
        run(poller, settings)
    except KeyboardInterrupt:
        return 0
    except StoreFailure as exc:
        print(f"session state: {exc} (is the platform up? run `make up`)", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
