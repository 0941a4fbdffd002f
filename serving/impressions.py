"""Impressions: what each answer showed, recorded without making the answer wait.

Every list answer is one :class:`Impression` (its recommendation id, the portal and route,
the reader or article, the variant, the model version, the items with their source and
position, the time), written as one JSON line on the logger ``newslake.impressions``. In
AWS that line is what a CloudWatch Logs subscription carries towards the lake, so the
line is the record: its fields are documented in serving/README.md.

The request only puts the record on a queue (``logging.handlers.QueueHandler``); a
listener thread (``QueueListener``) serialises and writes it. The service's lifespan starts
the listener and, at shutdown, stops it, which writes every queued record first: a normal
shutdown loses none.

In the ``local`` profile there is no log group to subscribe to, so the listener also
appends each line to a file under the state directory (:class:`SegmentFile`), which the
local shipper (``ingestion/local_impressions.py``) lands where Firehose would. The ``aws``
profile writes standard output only.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import re
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from logging.handlers import QueueHandler, QueueListener
from pathlib import Path
from typing import IO, Literal

from newslake.settings import Settings
from serving.experiments import Assignment
from serving.recommender import Answer, Source

LOGGER_NAME = "newslake.impressions"
logger = logging.getLogger(LOGGER_NAME)

Route = Literal["reader", "related", "trending", "popular"]


@dataclass(frozen=True)
class ImpressionItem:
    article_id: str
    source: Source
    position: int  # 1-based, as the answer lists it


@dataclass(frozen=True)
class Impression:
    """One answer as the reader was shown it; ``as_json()`` is the logged line."""

    recommendation_id: str
    portal: str
    route: Route
    user_id: str | None
    article_id: str | None
    variant: Assignment | None
    model_version: str | None
    items: tuple[ImpressionItem, ...]
    served_at: int  # epoch milliseconds

    @classmethod
    def of(
        cls,
        answer: Answer,
        route: Route,
        portal: str,
        *,
        user_id: str | None = None,
        article_id: str | None = None,
        variant: Assignment | None = None,
    ) -> Impression:
        """The impression of ``answer``, under a new recommendation id (uuid4, 32 hex)."""
        items = tuple(
            ImpressionItem(item.article_id, item.source, position)
            for position, item in enumerate(answer.items, start=1)
        )
        served_at = time.time_ns() // 1_000_000
        return cls(
            uuid.uuid4().hex,
            portal,
            route,
            user_id,
            article_id,
            variant,
            answer.model_version,
            items,
            served_at,
        )

    def as_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))

    def __str__(self) -> str:
        # What a log record's message becomes, in whichever thread formats it.
        return self.as_json()


class _Stdout(logging.StreamHandler):
    """The impression lines on the standard output of the moment (servers and tests
    replace ``sys.stdout``), apart from the service's own logs on standard error."""

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stdout
        super().emit(record)


SEGMENT = re.compile(r"(?P<pid>\d+)-(?P<seq>\d{6})\.jsonl")
"""A segment's name: the writing process's id and its segment number."""


def segment_name(pid: int, seq: int) -> str:
    return f"{pid}-{seq:06d}.jsonl"


class SegmentFile(logging.Handler):
    """The impression lines appended to ``<directory>/<pid>-<seq>.jsonl``, a new segment
    once one passes ``segment_bytes``: what a log group holds for the local shipper.

    A segment is only ever appended to, a whole line at a time, so the shipper can take
    every complete line up to the end it sees while this writes on. Each line goes to the
    file at once (no buffer in this process): a crash loses no line already written.
    """

    def __init__(self, directory: Path, segment_bytes: int, pid: int | None = None) -> None:
        super().__init__()
        self.directory = directory
        self.segment_bytes = segment_bytes
        self.pid = os.getpid() if pid is None else pid
        self._file: IO[bytes] | None = None
        self._seq = -1
        self._size = 0

    @property
    def path(self) -> Path:
        return self.directory / segment_name(self.pid, self._seq)

    def _next_segment(self) -> None:
        self.close_file()
        self.directory.mkdir(parents=True, exist_ok=True)
        if self._seq < 0:  # after this process's segments, if its id was used before
            taken = [
                int(m["seq"])
                for p in self.directory.iterdir()
                if (m := SEGMENT.fullmatch(p.name)) and int(m["pid"]) == self.pid
            ]
            self._seq = max(taken, default=-1)
        self._seq += 1
        self._size = 0

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = (self.format(record) + "\n").encode()
            if self._seq < 0 or (self._size and self._size + len(line) > self.segment_bytes):
                self._next_segment()
            if self._file is None:
                self._file = self.path.open("ab", buffering=0)
                self._size = self._file.tell()
            self._file.write(line)
            self._size += len(line)
        except Exception:
            self.handleError(record)

    def close_file(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def close(self) -> None:
        self.close_file()
        super().close()


def default_outputs(settings: Settings) -> tuple[logging.Handler, ...]:
    """Standard output (what CloudWatch Logs carries in AWS); locally also the segment
    files the local shipper lands."""
    if settings.profile != "local":
        return (_Stdout(),)
    segment_bytes = int(settings.local_impressions_segment_mib * 1024 * 1024)
    return (_Stdout(), SegmentFile(settings.local_impressions_dir, segment_bytes))


class _Enqueue(QueueHandler):
    """Puts the record on the queue as it is: the impression becomes JSON in the
    listener's thread, not in the request's."""

    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        return record


class ImpressionLog:
    """The impressions' way out: the logger ``newslake.impressions`` to a queue, and a
    listener writing the queue to ``handler``, or by default to :func:`default_outputs`
    of ``settings`` (read at start-up, so building the log reads no settings).

    Between ``start()`` and ``stop()`` a request only enqueues. Outside them (an app run
    without its lifespan: a bare TestClient, Mangum with ``lifespan="off"``) a record is
    written in the request, so none waits in a queue nobody drains.
    """

    def __init__(
        self,
        handler: logging.Handler | None = None,
        *,
        settings: Callable[[], Settings] | None = None,
    ) -> None:
        self._given = handler
        self._settings = settings
        self._outputs: tuple[logging.Handler, ...] = ()
        self._queue: queue.SimpleQueue[logging.LogRecord] = queue.SimpleQueue()
        self._enqueue = _Enqueue(self._queue)
        self._listener: QueueListener | None = None
        self._lock = threading.Lock()
        self._running = False

    @property
    def running(self) -> bool:
        return self._running

    def outputs(self) -> tuple[logging.Handler, ...]:
        """Where the lines go, chosen on first use."""
        if not self._outputs:
            if self._given is not None:
                outputs: tuple[logging.Handler, ...] = (self._given,)
            elif self._settings is not None:
                outputs = default_outputs(self._settings())
            else:
                outputs = (_Stdout(),)
            for handler in outputs:
                handler.setFormatter(logging.Formatter("%(message)s"))
            self._outputs = outputs
        return self._outputs

    def start(self) -> None:
        """Starts the listener (the service's start-up); again after a stop is fine."""
        with self._lock:
            if self._running:
                return
            logger.propagate = False  # the line is the record: no other handler rewraps it
            logger.setLevel(logging.INFO)  # whatever the root's level
            if self._listener is None:
                self._listener = QueueListener(self._queue, *self.outputs())
            self._listener.start()
            logger.addHandler(self._enqueue)
            self._running = True

    def stop(self) -> None:
        """Writes every queued record, then stops the listener (the service's shutdown)."""
        with self._lock:
            if not self._running or self._listener is None:
                return
            logger.removeHandler(self._enqueue)
            self._listener.stop()  # its sentinel goes after every record, then it joins
            for handler in self._listener.handlers:
                handler.flush()
                if isinstance(handler, SegmentFile):
                    handler.close_file()  # reopened by the next line, if any
            self._running = False

    def record(self, impression: Impression) -> None:
        """Records one answer's impression; never raises into the request."""
        with self._lock:
            if self._running:
                logger.info(impression)
            else:
                for handler in self.outputs():
                    handler.handle(_record(impression))


def _record(impression: Impression) -> logging.LogRecord:
    return logger.makeRecord(LOGGER_NAME, logging.INFO, __file__, 0, impression, (), None)
