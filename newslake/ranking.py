"""The article-page ranking, in plain Python: what serving answers and what evaluation scores.

An article page shows "read next": the articles co-visited with the one being read (in
sessions of the last few hours, each pair weighted by how close the two reads were),
blended with what is trending now, never an article the reader has already seen.

* :func:`covisitation` and :func:`most_viewed` define the two lists. The streaming job
  computes the same lists with Spark (``spark_jobs.fresh``, ``spark_jobs.popularity``) and
  publishes them; a test checks that both implementations agree on the same visits.
* :func:`blend` turns the published lists into the answer. ``serving.recommender`` calls
  it on the lists it reads from the store; ``evaluation`` calls it on the lists the
  streaming job would have published at each moment of the G1 replay.

Ties are broken by article id as text, ascending, as Spark's ``orderBy`` does on ids.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

A = TypeVar("A", bound=Hashable)


@dataclass(frozen=True)
class ArticlePageParams:
    """How the article page blends its lists; chosen on the validation half of G1
    (protocol 2, see ``evaluation/README.md``).

    Attributes:
        trending_weight: weight of the trending list against the co-visitation list, each
            scaled so that its best item scores 1.
        trending_joins: whether a trending article that is not co-visited with the page's
            article enters the blend; if not, trending only reorders the co-visited ones
            (and the rest of the trending list follows, after any other list).
        limit: how many articles the page asks for.
    """

    trending_weight: float = 0.3
    trending_joins: bool = False
    limit: int = 20


ARTICLE_PAGE = ArticlePageParams()


def pair_weight(gap: int) -> float:
    """What one pair of reads adds to the pair's co-visitation: ``1 / position gap``."""
    return 1.0 / abs(gap)


def covisitation(
    visits: Iterable[tuple[Hashable, A, int]], *, as_of: int, window: int, top_k: int
) -> dict[A, list[tuple[A, float]]]:
    """Co-visited articles of each article, best first, from visits in ``(as_of - window,
    as_of]``.

    Args:
        visits: ``(session_id, article_id, time)``; a session's visits are put in time
            order (ties by article id) and each article counts once, at its first visit.
        as_of: end of the window (any time unit, the same as ``window``).
        window: its length.
        top_k: articles kept per source article.

    Returns:
        ``{source: [(article, score), ...]}``: every pair of articles read in one session
        adds ``pair_weight(position gap)`` in both directions.
    """
    sessions: dict[Hashable, list[tuple[int, str, A]]] = defaultdict(list)
    for session, article, ts in visits:
        if as_of - window < ts <= as_of:
            sessions[session].append((ts, str(article), article))
    scores: dict[A, dict[A, float]] = defaultdict(lambda: defaultdict(float))
    for reads in sessions.values():
        seen: set[A] = set()
        ordered = []
        for _, _, article in sorted(reads, key=lambda r: (r[0], r[1])):
            if article not in seen:
                seen.add(article)
                ordered.append(article)
        for i, a in enumerate(ordered):
            for j in range(i + 1, len(ordered)):
                weight = pair_weight(j - i)
                scores[a][ordered[j]] += weight
                scores[ordered[j]][a] += weight
    return {source: top(related, top_k) for source, related in scores.items()}


def most_viewed(
    visits: Iterable[tuple[A, int]], *, as_of: int, window: int, top_n: int
) -> list[tuple[A, float]]:
    """The ``top_n`` articles with the most visits ``(article_id, time)`` in the window."""
    counts: dict[A, float] = defaultdict(float)
    for article, ts in visits:
        if as_of - window < ts <= as_of:
            counts[article] += 1.0
    return top(counts, top_n)


def top(scores: Mapping[A, float], k: int) -> list[tuple[A, float]]:
    """The ``k`` best ``(article, score)``, ties by article id as text."""
    ranked = sorted(scores.items(), key=lambda kv: (-kv[1], str(kv[0])))
    return ranked[:k]


def blend(
    covisited: Sequence[tuple[A, float]],
    trending: Sequence[tuple[A, float]],
    *,
    leave_out: Iterable[A] = (),
    params: ArticlePageParams = ARTICLE_PAGE,
) -> list[tuple[A, float]]:
    """The article page's list: co-visited and trending articles, each list scaled so its
    best scores 1, trending weighted by ``params.trending_weight``, summed per article.

    Args:
        covisited: the co-visitation list of the article being read, best first.
        trending: the trending list, best first.
        leave_out: articles never to show (the one being read, the reader's recent reads).
        params: the weights and the length of the answer.

    Returns:
        Up to ``params.limit`` ``(article, score)``, best first, ties by id as text.
    """
    excluded = set(leave_out)
    scores: dict[A, float] = {}
    for items, weight in ((covisited, 1.0), (trending, params.trending_weight)):
        best = max((score for _, score in items), default=0.0)
        if best <= 0 or weight <= 0:
            continue
        joins = params.trending_joins or items is covisited
        for article, score in items:
            if article not in excluded and (joins or article in scores):
                scores[article] = scores.get(article, 0.0) + weight * score / best
    return top(scores, params.limit)
