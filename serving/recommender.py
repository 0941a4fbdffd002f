"""Choosing what a reader sees: their personal list, else the portal's popular one.

Kept free of IO and of FastAPI: it reads through a RecommendationReader, so new sources
(trending, recent reads, related articles) slot in here and are tested with a fake reader.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Literal

from newslake.store import ScoredItem, popular_key, user_key
from serving.reader import RecommendationReader, StoreUnavailableError

logger = logging.getLogger(__name__)

Source = Literal["personal", "popular"]


@dataclass(frozen=True)
class Recommendation:
    article_id: str
    score: float
    source: Source


@dataclass(frozen=True)
class Recommendations:
    """One answer for one reader; ``degraded`` says it came from memory, not the store."""

    portal: str
    user_id: str
    model_version: str | None
    items: tuple[Recommendation, ...]
    degraded: bool = False


@dataclass(frozen=True)
class _Snapshot:
    version: str
    items: tuple[ScoredItem, ...]


def _tagged(
    items: list[ScoredItem] | tuple[ScoredItem, ...], source: Source, limit: int
) -> tuple[Recommendation, ...]:
    return tuple(Recommendation(i.article_id, i.score, source) for i in items[:limit])


class Recommender:
    """Personal top-N from the active model version, with two fallbacks.

    * no personal record for the reader: the portal's popular list of the same version;
    * the store fails: the portal's popular list as last read by this process, marked
      degraded, so an outage costs relevance, never a 5xx.
    """

    def __init__(self, reader: RecommendationReader) -> None:
        self._reader = reader
        self._last_popular: dict[str, _Snapshot] = {}

    def for_user(self, portal: str, user_id: str, limit: int) -> Recommendations:
        try:
            return self._from_store(portal, user_id, limit)
        except StoreUnavailableError as exc:
            logger.warning("serving %s from the last-known popular list: %s", portal, exc)
            return self._from_memory(portal, user_id, limit)

    def _from_store(self, portal: str, user_id: str, limit: int) -> Recommendations:
        version = self._reader.active_version(portal)
        if version is None:
            return Recommendations(portal, user_id, None, ())
        personal = self._reader.items(user_key(portal, user_id), version)
        if personal:
            return Recommendations(portal, user_id, version, _tagged(personal, "personal", limit))
        popular = self._reader.items(popular_key(portal), version) or []
        if popular:
            self._last_popular[portal] = _Snapshot(version, tuple(popular))
        return Recommendations(portal, user_id, version, _tagged(popular, "popular", limit))

    def _from_memory(self, portal: str, user_id: str, limit: int) -> Recommendations:
        snapshot = self._last_popular.get(portal)
        if snapshot is None:
            return Recommendations(portal, user_id, None, (), degraded=True)
        items = _tagged(snapshot.items, "popular", limit)
        return Recommendations(portal, user_id, snapshot.version, items, degraded=True)
