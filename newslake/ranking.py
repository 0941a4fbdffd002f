"""The article-page ranking, in plain Python: what serving answers and what evaluation scores.

An article page shows "read next": the articles co-visited with the one being read (in
sessions of the last few hours, each pair weighted by how close the two reads were and
more when read after it), blended with what is trending now, never an article the reader
has already seen.

* :func:`covisitation` and :func:`top_by_views` define the two lists. The streaming job
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
from dataclasses import dataclass, field
from typing import Generic, NamedTuple, TypeVar

from newslake.settings import Settings, setting_default

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


def top_by_views(
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


def hot_list(
    buckets: Mapping[int, Mapping[A, int]],
    *,
    as_of: float,
    bucket_s: float,
    half_life_s: float,
    top_n: int,
) -> list[tuple[A, float]]:
    """What is being read in the last minutes: the views counted in time buckets, each
    bucket's views halved every ``half_life_s`` of its age (taken at its middle, never
    negative), summed per article; the ``top_n`` best, ties by article id as text.

    Args:
        buckets: ``{bucket start: {article: views}}`` (``newslake.store.hot_counts_of``).
        as_of: now, in the buckets' unit (epoch seconds).
        bucket_s: a bucket's length.
        half_life_s: how long until a view weighs half.
        top_n: articles kept.
    """
    scores: dict[A, float] = defaultdict(float)
    for start, counts in buckets.items():
        age = max(0.0, as_of - (start + bucket_s / 2))
        weight = 0.5 ** (age / half_life_s)
        for article, views in counts.items():
            scores[article] += weight * views
    return top(scores, top_n)


# ---- the reader's list ----------------------------------------------------------------------
READER_SOURCES = ("covisited", "hot", "trending", "personal", "popular")
"""The lists a reader's list is fused from, in the order that breaks a tie of contributions."""


@dataclass(frozen=True)
class ReaderParams:
    """How the reader's list fuses its sources; chosen on the validation half of G1
    (``evaluation/README.md``, "The reader's list").

    Each source is scaled so that its best item scores 1 and weighed; an article's score
    is the sum over the sources that list it. ``covisited`` is itself the sum of the
    co-visitation lists of the reader's ``last_reads`` newest reads, the i-th newest
    (from 0) weighing ``read_decay ** i``, each scaled by its best first.

    Attributes:
        covisited: weight of the co-visitation of the reader's recent reads.
        hot: weight of what is being read in the last minutes.
        trending: weight of the trending list.
        personal: weight of the nightly personal list (ALS and its blend).
        popular: weight of the popular list (most read in the last day).
        last_reads: how many of the newest reads lend their co-visitation list.
        read_decay: how much less each older read's list weighs.
        limit: how many articles the reader's page asks for.
    """

    covisited: float = setting_default("reader_w_covisited")
    hot: float = setting_default("reader_w_hot")
    trending: float = setting_default("reader_w_trending")
    personal: float = setting_default("reader_w_personal")
    popular: float = setting_default("reader_w_popular")
    last_reads: int = setting_default("reader_last_reads")
    read_decay: float = setting_default("reader_read_decay")
    limit: int = 20

    @classmethod
    def from_settings(cls, settings: Settings, *, limit: int = 20) -> ReaderParams:
        return cls(
            **{name: getattr(settings, f"reader_w_{name}") for name in READER_SOURCES},
            last_reads=settings.reader_last_reads,
            read_decay=settings.reader_read_decay,
            limit=limit,
        )

    def weight(self, source: str) -> float:
        return float(getattr(self, source))


READER = ReaderParams()


@dataclass(frozen=True)
class ReaderLists(Generic[A]):
    """What one reader's list is fused from, at one moment.

    Attributes:
        recent: the reader's reads, newest first (each left out of the answer).
        covisited: live co-visitation lists by article, best first; only those of the
            newest ``last_reads`` reads are used, missing ones count as empty.
        hot, trending, personal, popular: ranked lists, best first.
    """

    recent: Sequence[A] = ()
    covisited: Mapping[A, Sequence[tuple[A, float]]] = field(default_factory=dict)
    hot: Sequence[tuple[A, float]] = ()
    trending: Sequence[tuple[A, float]] = ()
    personal: Sequence[tuple[A, float]] = ()
    popular: Sequence[tuple[A, float]] = ()


class Pick(NamedTuple, Generic[A]):
    """One article of a reader's list: its fused score and the source that gave most."""

    article: A
    score: float
    source: str


def _scaled(items: Sequence[tuple[A, float]]) -> dict[A, float]:
    """``items`` divided by their best score (empty when nothing scores above 0)."""
    best = max((score for _, score in items), default=0.0)
    if best <= 0:
        return {}
    scaled: dict[A, float] = {}
    for article, score in items:
        scaled.setdefault(article, score / best)
    return scaled


def recent_covisitation(lists: ReaderLists[A], params: ReaderParams) -> dict[A, float]:
    """The co-visitation of the reader's newest reads, each list scaled by its best and
    weighed ``read_decay ** i`` (i: 0 for the newest), summed, then scaled by its best."""
    summed: dict[A, float] = defaultdict(float)
    for i, read in enumerate(lists.recent[: params.last_reads]):
        for article, score in _scaled(lists.covisited.get(read, ())).items():
            summed[article] += params.read_decay**i * score
    return _scaled(list(summed.items()))


def reader_list(lists: ReaderLists[A], params: ReaderParams = READER) -> list[Pick[A]]:
    """The reader's list: every source scaled by its best and weighed, summed per article,
    the reader's reads left out; then, while the list is short, the rest of trending,
    popular and hot in their own order (score 0), so an answer is full whenever the
    portal has enough articles.

    Returns:
        Up to ``params.limit`` picks, best first, ties by article id as text.
    """
    sources: dict[str, dict[A, float]] = {
        "covisited": recent_covisitation(lists, params),
        **{name: _scaled(getattr(lists, name)) for name in READER_SOURCES[1:]},
    }
    read = set(lists.recent)
    parts: dict[A, dict[str, float]] = defaultdict(dict)
    for name in READER_SOURCES:
        weight = params.weight(name)
        if weight > 0:
            for article, score in sources[name].items():
                if article not in read:
                    parts[article][name] = weight * score
    fused = top({article: sum(p.values()) for article, p in parts.items()}, params.limit)
    picks = [Pick(a, s, max(parts[a], key=lambda n: parts[a][n])) for a, s in fused]
    return _topped_up(picks, lists, read, params.limit)


def _topped_up(
    picks: list[Pick[A]], lists: ReaderLists[A], read: set[A], limit: int
) -> list[Pick[A]]:
    taken = read | {p.article for p in picks}
    for name in ("trending", "popular", "hot"):
        for article, _ in getattr(lists, name):
            if len(picks) >= limit:
                return picks
            if article not in taken:
                taken.add(article)
                picks.append(Pick(article, 0.0, name))
    return picks
