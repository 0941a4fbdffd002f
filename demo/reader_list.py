"""What the walkthrough shows of a reader's list: which of its articles the reader reads so
that the effect shows, how a list prints, and waiting, within a bound, for it to change.

Pure: the step that calls the service and the gateway is ``demo/fresh_read.py``.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any, TypeVar

T = TypeVar("T")
Item = tuple[str, str]
"""An article of an answer and the source the service names for it."""


def items_of(answer: Mapping[str, Any]) -> list[Item]:
    """The (article, source) pairs of a recommendations answer, best first."""
    return [(str(i["article_id"]), str(i["source"])) for i in answer.get("items", [])]


def fresh_covisited(
    reads: Collection[str], covisited: Mapping[str, Sequence[str]], already_read: Collection[str]
) -> set[str]:
    """Articles co-visited with ``reads`` that the reader has read neither before nor now:
    the ones those reads can bring into the list."""
    taken = set(already_read) | set(reads)
    return {a for read in reads for a in covisited.get(read, ()) if a not in taken}


def choose_reads(
    listed: Sequence[str],
    covisited: Mapping[str, Sequence[str]],
    already_read: Collection[str],
    n: int = 2,
) -> tuple[str, ...] | None:
    """The first ``n`` articles of the list (in its order) each of whose live co-visitation
    lists names an article the reader has not read: reading them takes them out of the list
    and can bring their co-visited articles in. None when no ``n`` articles do."""
    for reads in itertools.combinations(listed, n):
        if all(fresh_covisited((read,), covisited, [*already_read, *reads]) for read in reads):
            return reads
    return None


def describe(items: Sequence[Item], marked: Collection[str] = ()) -> str:
    """``g1-00012 trending, g1-00199 covisited*``: the articles with their sources, best
    first, a star on those in ``marked``."""
    shown = [f"{article} {source}{'*' if article in marked else ''}" for article, source in items]
    return ", ".join(shown) or "(no items)"


def covisited_shown(items: Sequence[Item], brought: Collection[str]) -> list[str]:
    """The articles of the answer that the service sourced ``covisited`` and that are among
    ``brought`` (the co-visited articles of what was just read)."""
    return [article for article, source in items if source == "covisited" and article in brought]


def wait_until(
    ask: Callable[[], T],
    done: Callable[[T], bool],
    *,
    bound_s: float,
    every_s: float,
    since: float | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> tuple[T, float | None]:
    """Ask every ``every_s`` until an answer is done, for at most ``bound_s`` from ``since``
    (the clock's now when None).

    Returns:
        The last answer, and the seconds from ``since`` to it when it is done within the
        bound (None when not: an answer done only after the bound does not count).
    """
    started = clock() if since is None else since
    while True:
        answer = ask()
        elapsed = clock() - started
        if elapsed <= bound_s and done(answer):
            return answer, elapsed
        if elapsed >= bound_s:
            return answer, None
        sleep(min(every_s, bound_s - elapsed))
