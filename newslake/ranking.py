"""The article-page ranking, in plain Python: what serving answers and what evaluation scores.

An article page shows "read next": the articles co-visited with the one being read (in
sessions of the last few hours, each pair weighted by how close the two reads were and
more when read after it), blended with what is trending now, never an article the reader
has already seen.

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
            article enters the blend (on G1 it is worth +0.003 NDCG@20 and +0.01 HR@20);
            if not, trending only reorders the co-visited ones (and the rest of the
            trending list follows, after any other list).
        limit: how many articles the page asks for.
    """

    trending_weight: float = 0.5
    trending_joins: bool = True
    limit: int = 20


ARTICLE_PAGE = ArticlePageParams()


@dataclass(frozen=True)
class PairWeights:
    """What one pair of reads in a session adds to the co-visitation list of one of its
    articles: ``1 / gap ** decay`` for an article read after the source, ``backward``
    times that for one read before it (gap: their distance in the session's order).
    Chosen on the validation half of G1 (``evaluation/README.md``): what readers open
    after an article predicts their next click far better than what they opened before it.

    Attributes:
        decay: how fast a pair's weight falls with the distance of its two reads.
        backward: weight of a pair whose candidate was read before the source.
    """

    decay: float = 2.0
    backward: float = 0.1

    def __call__(self, gap: int) -> float:
        """The weight of ``gap`` = candidate's position - source's position (not 0)."""
        weight = 1.0 / abs(gap) ** self.decay
        return weight if gap > 0 else self.backward * weight


PAIR_WEIGHTS = PairWeights()


def covisitation(
    visits: Iterable[tuple[Hashable, A, int]],
    *,
    as_of: int,
    window: int,
    top_k: int,
    weights: PairWeights = PAIR_WEIGHTS,
) -> dict[A, list[tuple[A, float]]]:
    """Co-visited articles of each article, best first, from visits in ``(as_of - window,
    as_of]``.

    Args:
        visits: ``(session_id, article_id, time)``; a session's visits are put in time
            order (ties by article id) and each article counts once, at its first visit.
        as_of: end of the window (any time unit, the same as ``window``).
        window: its length.
        top_k: articles kept per source article.
        weights: what a pair adds, by its direction and gap.

    Returns:
        ``{source: [(article, score), ...]}``: every pair of articles read in one session
        adds ``weights(gap)`` to each of its two articles' lists.
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
                scores[a][ordered[j]] += weights(j - i)
                scores[ordered[j]][a] += weights(i - j)
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
