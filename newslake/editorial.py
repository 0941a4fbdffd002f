"""A newsroom's controls over its portal's lists: blocks that take an article out of every
list, and promotions that put one at a chosen place.

Pure: what a control is and how a list looks once the controls in effect are applied.
Serving applies them to every answer, the streaming and nightly jobs leave blocked
articles out of what they publish, so a takedown holds whichever list a reader sees.
How controls are stored is :mod:`newslake.editorial_store`.

A block always wins over a promotion of the same article: a retraction must not come
back because someone promoted it earlier.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

DAY_S = 86_400

# A share promotion's draw: one number for the whole answer, or one per promoted article.
Draw = float | Callable[[str], float]


@dataclass(frozen=True)
class Block:
    """The article is left out of every list until ``until`` (epoch s; None: until ended).

    ``by`` is who set it (a machine client's id), ``at`` when (epoch s).
    """

    article_id: str
    reason: str
    until: int | None
    by: str
    at: int

    def in_effect(self, now: float) -> bool:
        return self.until is None or now < self.until


@dataclass(frozen=True)
class Promote:
    """The article is placed at ``position`` (from 1) of every list from ``start`` until
    ``end`` (epoch s), or, with ``share`` instead of a position, first in that share of
    the answers. With ``sections`` it applies only to the article pages of those sections.
    """

    article_id: str
    position: int | None
    share: float | None
    start: int
    end: int
    sections: tuple[str, ...]
    by: str
    at: int

    def in_effect(self, now: float, section: str | None) -> bool:
        if not self.start <= now < self.end:
            return False
        return not self.sections or section in self.sections


@dataclass(frozen=True)
class Controls:
    """A portal's controls as stored; which of them apply depends on the time asked."""

    blocks: tuple[Block, ...] = ()
    promotions: tuple[Promote, ...] = ()

    def blocked(self, now: float) -> frozenset[str]:
        """The articles no list may show at ``now``."""
        return frozenset(b.article_id for b in self.blocks if b.in_effect(now))


NO_CONTROLS = Controls()


class _HasArticle(Protocol):
    @property
    def article_id(self) -> str: ...


T = TypeVar("T", bound=_HasArticle)


def apply(
    items: Sequence[T],
    controls: Controls,
    *,
    now: float,
    limit: int,
    promoted: Callable[[str, T | None], T],
    section: str | None = None,
    draw: Draw = 0.0,
) -> list[T]:
    """``items`` (best first) with the controls in effect at ``now`` applied, at most
    ``limit`` of them.

    Blocked articles are dropped. Each promotion in effect (and not blocked) is placed at
    its position, the article moving there if the list already had it; promotions to the
    same position go newest first. A share promotion goes first when its draw (uniform in
    [0, 1): ``draw``, or ``draw(article_id)``) falls below its share. The caller asks its
    lists for enough items to refill what blocks take (:func:`refill`).

    Args:
        items: the list as the recommender made it.
        controls: the portal's controls.
        now: epoch seconds.
        limit: how many items the answer holds.
        promoted: the item shown for a promoted article, given the list's own item for it
            (None when the list did not have it).
        section: the section of the article page asked for; None elsewhere.
        draw: the draw for share promotions: one per answer, or per promoted article
            (:func:`reader_draw`, so a reader sees a promotion all day or not at all).
    """
    blocked = controls.blocked(now)
    placed = _placements(controls.promotions, blocked, now, section, draw)
    moved = {p.article_id for p in placed}
    own = {i.article_id: i for i in items}
    kept = [i for i in items if i.article_id not in blocked and i.article_id not in moved]
    for promotion in placed:
        item = promoted(promotion.article_id, own.get(promotion.article_id))
        kept.insert(min(_position(promotion) - 1, len(kept)), item)
    return kept[:limit]


def refill(limit: int, controls: Controls, *, now: float, most: int) -> int:
    """How many items to ask the lists for so ``limit`` remain once blocked articles are
    dropped: one more per block in effect, never more than ``most``."""
    return min(limit + len(controls.blocked(now)), max(limit, most))


def unblocked(items: Iterable[T], blocked: frozenset[str], limit: int) -> list[T]:
    """``items`` (best first) without the ``blocked`` articles, at most ``limit``: what the
    jobs publish, asked for ``limit`` plus one item per block so the list keeps its length."""
    return [i for i in items if i.article_id not in blocked][:limit]


def reader_draw(reader: str, now: float) -> Callable[[str], float]:
    """A reader's draw for each promoted article on the UTC day of ``now``: uniform in
    [0, 1) over readers, the same for every answer that day, so a reader shown a share
    promotion keeps seeing it (and one not shown never does) rather than it flickering
    from one answer to the next; a new day draws again."""
    day = int(now // DAY_S)

    def draw(article_id: str) -> float:
        key = f"{reader}\x1f{article_id}\x1f{day}".encode()
        return int.from_bytes(hashlib.blake2b(key, digest_size=8).digest(), "big") / 2**64

    return draw


def _position(promotion: Promote) -> int:
    return promotion.position if promotion.position is not None else 1


def _placements(
    promotions: Iterable[Promote],
    blocked: frozenset[str],
    now: float,
    section: str | None,
    draw: Draw,
) -> list[Promote]:
    """The promotions to place, in insertion order: by position, then oldest first, so
    that of two at one position the newest, inserted last, ends up in front."""
    chosen: dict[str, Promote] = {}
    for p in promotions:
        if p.article_id in blocked or not p.in_effect(now, section):
            continue
        if p.share is not None and (draw(p.article_id) if callable(draw) else draw) >= p.share:
            continue
        chosen[p.article_id] = p
    return sorted(chosen.values(), key=lambda p: (_position(p), p.at, p.article_id))
