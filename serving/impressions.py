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
"""

from __future__ import annotations

import json
import logging
import queue
import sys
import threading
import time
import uuid
from dataclasses import asdict, dataclass
from logging.handlers import QueueHandler, QueueListener
from typing import Literal

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


class _Enqueue(QueueHandler):
    """Puts the record on the queue as it is: the impression becomes JSON in the
    listener's thread, not in the request's."""

    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        return record


class ImpressionLog:
    """The impressions' way out: the logger ``newslake.impressions`` to a queue, and a
    listener writing the queue to ``handler`` (default: one line each on stdout).

    Between ``start()`` and ``stop()`` a request only enqueues. Outside them (an app run
    without its lifespan: a bare TestClient, Mangum with ``lifespan="off"``) a record is
    written in the request, so none waits in a queue nobody drains.
    """

    def __init__(self, handler: logging.Handler | None = None) -> None:
        self._handler = handler or _Stdout()
        self._handler.setFormatter(logging.Formatter("%(message)s"))
        self._queue: queue.SimpleQueue[logging.LogRecord] = queue.SimpleQueue()
        self._enqueue = _Enqueue(self._queue)
        self._listener = QueueListener(self._queue, self._handler)
        self._lock = threading.Lock()
        self._running = False

    @property
    def running(self) -> bool:
        return self._running

    def start(self) -> None:
        """Starts the listener (the service's start-up); again after a stop is fine."""
        with self._lock:
            if self._running:
                return
            logger.propagate = False  # the line is the record: no other handler rewraps it
            logger.setLevel(logging.INFO)  # whatever the root's level
            self._listener.start()
            logger.addHandler(self._enqueue)
            self._running = True

    def stop(self) -> None:
        """Writes every queued record, then stops the listener (the service's shutdown)."""
        with self._lock:
            if not self._running:
                return
            logger.removeHandler(self._enqueue)
            self._listener.stop()  # its sentinel goes after every record, then it joins
            self._handler.flush()
            self._running = False

    def record(self, impression: Impression) -> None:
        """Records one answer's impression; never raises into the request."""
        with self._lock:
            if self._running:
                logger.info(impression)
            else:
                self._handler.handle(_record(impression))


def _record(impression: Impression) -> logging.LogRecord:
    return logger.makeRecord(LOGGER_NAME, logging.INFO, __file__, 0, impression, (), None)
