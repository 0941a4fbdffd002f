"""Every portal's editorial controls, copied into the process and refreshed in the
background, and their application to an answer.

A block must hold on every instance within seconds, so each instance keeps its own copy
of the controls, re-read every ``editorial_refresh_s`` by a thread (started with the app)
or, where no thread runs (an app without its lifespan, a Lambda frozen between
invocations), by the first request that finds the copy old. Reading the controls costs
one Query per portal per refresh, never a read per request.

When the store fails, the last-known controls keep applying: a blocked article never comes
back because DynamoDB is down. Before the controls were ever read (the store unreadable at
start), answers are served as the recommender made them, marked degraded, and the first
failure is logged once.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Literal, Protocol

from newslake import aws
from newslake.editorial import Block, Controls, Draw, Promote, apply, reader_draw, refill
from newslake.editorial_store import ControlsStoreError, DynamoControls
from newslake.settings import Settings
from serving.recommender import Answer, Recommendation

logger = logging.getLogger(__name__)


class ControlsStore(Protocol):
    """Where the controls are kept (``newslake.editorial_store.DynamoControls``)."""

    def load(self, portal: str) -> Controls: ...

    def block(self, portal: str, block: Block) -> None: ...

    def promote(self, portal: str, promotion: Promote) -> None: ...

    def end(self, portal: str, kind: Literal["block", "promote"], article_id: str, by: str) -> bool:
        """Ends the article's block or promotion; False when it had none."""
        ...


class NoControls:
    """The store of an app given its own reader (tests, the overhead benchmark): it holds
    no controls and takes none."""

    def load(self, portal: str) -> Controls:
        return Controls()

    def block(self, portal: str, block: Block) -> None:
        raise ControlsStoreError("this app was built without a controls store")

    def promote(self, portal: str, promotion: Promote) -> None:
        raise ControlsStoreError("this app was built without a controls store")

    def end(self, portal: str, kind: Literal["block", "promote"], article_id: str, by: str) -> bool:
        raise ControlsStoreError("this app was built without a controls store")


def editorial_store(settings: Settings) -> DynamoControls:
    """The controls in the serving store, read and written with the serving timeouts: a
    refresh that waits on a slow store only makes the copy a little older."""
    client = aws.client(
        "dynamodb",
        settings,
        timeout_s=settings.serving_store_timeout_s,
        max_attempts=settings.serving_store_max_attempts,
    )
    return DynamoControls(client, settings.recommendations_table)


class EditorialCopy:
    """The in-process copy of every portal's controls.

    Args:
        store: where the controls are read from (and written to, by the route).
        portals: the portals served.
        refresh_s: how often the copy is read again.
        clock: monotonic seconds, for the copy's age; tests pass their own.
        wall_clock: epoch seconds, when controls start and end; tests pass their own.
    """

    def __init__(
        self,
        store: ControlsStore,
        portals: Sequence[str],
        *,
        refresh_s: float,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.wall_clock = wall_clock
        self._portals = tuple(portals)
        self._refresh_s = refresh_s
        self._clock = clock
        self._controls: dict[str, Controls] = {}
        self._failing: set[str] = set()
        self._read_at: float | None = None
        self._refreshing = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def refresh(self) -> None:
        """Reads every portal's controls; a portal that fails keeps its last-known ones."""
        if not self._refreshing.acquire(blocking=False):
            return  # another caller is at it; the copy it makes will do
        try:
            self._read_at = self._clock()
            for portal in self._portals:
                self._refresh(portal)
        finally:
            self._refreshing.release()

    def _refresh(self, portal: str) -> None:
        try:
            controls = self.store.load(portal)
        except ControlsStoreError as exc:
            if portal not in self._failing:  # once per outage, not every refresh
                known = "keeping the last-known ones" if portal in self._controls else "none loaded"
                logger.warning("editorial controls of %s not read (%s): %s", portal, known, exc)
            self._failing.add(portal)
            return
        self._controls[portal] = controls
        if portal in self._failing:
            logger.info("editorial controls of %s read again", portal)
        self._failing.discard(portal)

    def current(self, portal: str) -> tuple[Controls | None, bool]:
        """The portal's controls (None: never read) and whether they may be out of date
        (their last read failed)."""
        due = self._refresh_s * (2 if self._running else 1)
        if self._read_at is None or self._clock() - self._read_at >= due:
            self.refresh()
        return self._controls.get(portal), portal in self._failing

    @property
    def _running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    # ---- the background thread -------------------------------------------------------------
    def start(self) -> None:
        """Reads the copy now, then every ``refresh_s`` in a daemon thread until ``stop``."""
        self.refresh()
        if self._running:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="editorial-refresh", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(self._refresh_s):
            try:
                self.refresh()
            except Exception:  # a bug must not end the refreshes: the copy would age for good
                logger.exception("editorial controls refresh failed")

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    # ---- answers ------------------------------------------------------------------------------
    def wanted(self, portal: str, limit: int, most: int) -> int:
        """How many items to ask the recommender for, so ``limit`` remain after the blocks."""
        controls, _ = self.current(portal)
        if controls is None:
            return limit
        return refill(limit, controls, now=self.wall_clock(), most=most)

    def controlled(
        self,
        portal: str,
        answer: Answer,
        limit: int,
        section: str | None = None,
        *,
        reader: str | None = None,
    ) -> Answer:
        """``answer`` with the portal's controls applied, ``limit`` items at most; marked
        degraded when the controls were never read or their last read failed.

        A share promotion is drawn per ``reader`` and day, so a reader sees it in every
        answer of the day or in none; without a reader (a machine client serving many),
        once per answer.
        """
        controls, failing = self.current(portal)
        if controls is None:
            return replace(answer, items=answer.items[:limit], degraded=True)
        now = self.wall_clock()
        draw: Draw = reader_draw(reader, now) if reader is not None else random.random()
        items = apply(
            answer.items,
            controls,
            now=now,
            limit=limit,
            promoted=_promoted,
            section=section,
            draw=draw,
        )
        return replace(answer, items=tuple(items), degraded=answer.degraded or failing)


def _promoted(article_id: str, own: Recommendation | None) -> Recommendation:
    """A promoted article keeps the score its list gave it (0 when the list had none)."""
    return Recommendation(article_id, own.score if own is not None else 0.0, "editorial")
