"""Session state in seconds: what a batch of a portal's Kinesis records changes in the store.

A second consumer of each portal's stream (beside Firehose) keeps, within seconds of each
``view``, the two things a reader's next answer needs and silver would bring only after a
micro-batch: the reader's recent reads and the live hot counts (their layout is in
``newslake/store.py``). This module is the pure part, shared by the Lambda
(``ingestion/session_lambda.py``) and the local poller (``ingestion/session_poller.py``):

* :func:`parse_batch` reads each record as the collector wrote it (the pageview plus
  ``server_ts``) and keeps the reads: events that pass the collector's own checks
  (:mod:`ingestion.validation`, judged at ``server_ts``), ``view`` events that name an
  article. A record that is not such an event is skipped and counted, never raised;
* :func:`reader_updates` groups the reads by reader (one store write per reader and batch);
* :func:`hot_chunks` groups the views by hot bucket, in shard order, in pieces small enough
  for one conditional ``UpdateItem`` each (a few writes per batch, not one per view).

A read's time is its client time (as silver's ``event_time``) but never later than the
collector's clock: a browser clock running ahead would otherwise put the read in a bucket
that has not started.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from pydantic import ValidationError

from ingestion.schema import SERVER_TS, Pageview
from ingestion.validation import check_event
from newslake.settings import Settings
from newslake.store import padded_sequence

# DynamoDB allows 4 KB per expression: one ``ADD #aN :aN`` term per article keeps a
# hundred of them well below it.
HOT_ARTICLES_PER_WRITE = 100


@dataclass(frozen=True)
class StreamRecord:
    """One Kinesis record: its sequence number and the bytes the collector put."""

    sequence_number: str
    data: bytes


@dataclass(frozen=True)
class Batch:
    """Records of one shard of one portal's stream, in shard order (as Lambda gets them)."""

    portal: str
    shard_id: str
    records: Sequence[StreamRecord]


@dataclass(frozen=True)
class Read:
    """A reader's view of an article, with the record that carried it."""

    user_id: str
    article_id: str
    at: float  # epoch seconds
    sequence: str  # the record's sequence number, zero-padded (store.padded_sequence)


@dataclass
class Parsed:
    """What a batch holds: its reads, and how many records were something else."""

    reads: list[Read] = field(default_factory=list)
    others: int = 0  # accepted events that are no read (engagement, a view of no article)
    duplicates: int = 0  # a read whose event id came earlier in the batch
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (sequence number, why)


class UnusableRecordError(ValueError):
    """A record that is not a pageview the collector accepted for this stream's portal."""


def read_of(record: StreamRecord, portal: str, settings: Settings) -> tuple[str, Read | None]:
    """The event id of ``record`` and the read it holds (None: an event that is no read).

    Raises:
        UnusableRecordError: not JSON, not a pageview, another portal's, or refused by the
            collector's checks at its ``server_ts``.
    """
    try:
        doc = json.loads(record.data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise UnusableRecordError("not JSON") from exc
    if not isinstance(doc, dict):
        raise UnusableRecordError("not a JSON object")
    server_ts = doc.pop(SERVER_TS, None)
    if not isinstance(server_ts, int) or isinstance(server_ts, bool) or server_ts <= 0:
        raise UnusableRecordError(f"no {SERVER_TS}")
    try:
        event = Pageview.model_validate(doc)
    except ValidationError as exc:
        raise UnusableRecordError(f"not a pageview ({exc.error_count()} problems)") from exc
    if event.portal != portal:
        raise UnusableRecordError(f"portal {event.portal!r} in {portal}'s stream")
    problems = check_event(0, event, settings, server_ts)
    if problems:
        raise UnusableRecordError(str(problems[0]["message"]))
    if event.event_type != "view" or not event.article_id:
        return event.event_id, None
    at = min(event.client_ts, server_ts) / 1000
    return event.event_id, Read(
        event.user_id, event.article_id, at, padded_sequence(record.sequence_number)
    )


def parse_batch(batch: Batch, settings: Settings) -> Parsed:
    """The reads of a batch, in shard order; an event id seen twice counts once."""
    parsed = Parsed()
    seen: set[str] = set()
    for record in batch.records:
        try:
            event_id, read = read_of(record, batch.portal, settings)
        except UnusableRecordError as exc:
            parsed.skipped.append((record.sequence_number, str(exc)))
            continue
        if read is None:
            parsed.others += 1
        elif event_id in seen:
            parsed.duplicates += 1
        else:
            seen.add(event_id)
            parsed.reads.append(read)
    return parsed


@dataclass(frozen=True)
class ReaderUpdate:
    """A reader's reads in one batch: the newest time per article, and the first record."""

    user_id: str
    reads: dict[str, float]
    first_sequence: str


def reader_updates(reads: Iterable[Read]) -> list[ReaderUpdate]:
    """One update per reader, in the order readers first appear."""
    found: dict[str, ReaderUpdate] = {}
    for r in reads:
        update = found.get(r.user_id)
        if update is None:
            update = found[r.user_id] = ReaderUpdate(r.user_id, {}, r.sequence)
        update.reads[r.article_id] = max(update.reads.get(r.article_id, r.at), r.at)
    return list(found.values())


@dataclass(frozen=True)
class HotChunk:
    """Views of one hot bucket from consecutive records of a shard, added in one write.

    ``views`` are ``(sequence, article)`` in shard order, so after a crash the views past
    the shard's last counted sequence number are exactly those still to add.
    """

    bucket: int  # start, epoch seconds
    views: tuple[tuple[str, str], ...]
    expires_at: int

    @property
    def first(self) -> str:
        return self.views[0][0]

    @property
    def last(self) -> str:
        return self.views[-1][0]

    def counts(self, after: str | None = None) -> dict[str, int]:
        """Views per article, of the records past sequence ``after`` (all when None)."""
        counts: dict[str, int] = {}
        for sequence, article in self.views:
            if after is None or sequence > after:
                counts[article] = counts.get(article, 0) + 1
        return counts


def hot_keep_s(settings: Settings) -> int:
    """How long a bucket is kept after it closes: ``live_hot_keep_s`` or, if longer, the
    trending window (what a reader of hot counts may still weigh)."""
    return max(settings.live_hot_keep_s, settings.trending_window_minutes * 60)


def hot_chunks(reads: Sequence[Read], settings: Settings, *, now: float) -> list[HotChunk]:
    """The reads' views by hot bucket (``hot_bucket_s``), each bucket's views cut into
    chunks of at most :data:`HOT_ARTICLES_PER_WRITE` articles, in shard order.

    A view in a bucket that would already have expired by ``now`` is left out: no reader
    would weigh it.
    """
    size, keep = settings.hot_bucket_s, hot_keep_s(settings)
    by_bucket: dict[int, list[tuple[str, str]]] = {}
    for r in reads:
        bucket = int(r.at // size) * size
        if bucket + size + keep > now:
            by_bucket.setdefault(bucket, []).append((r.sequence, r.article_id))
    chunks = []
    for bucket, views in by_bucket.items():
        piece: list[tuple[str, str]] = []
        articles: set[str] = set()
        for view in views:
            if view[1] not in articles and len(articles) == HOT_ARTICLES_PER_WRITE:
                chunks.append(HotChunk(bucket, tuple(piece), bucket + size + keep))
                piece, articles = [], set()
            piece.append(view)
            articles.add(view[1])
        chunks.append(HotChunk(bucket, tuple(piece), bucket + size + keep))
    return chunks
