"""V-SkNN on a hand-made history: decayed weights, nearest neighbours, their votes."""

from __future__ import annotations

from evaluation.vsknn import VSkNN, VSkNNParams


def _knn(k: int) -> VSkNN:
    knn = VSkNN(VSkNNParams(k=k, sample_size=500))
    for session, item in [(1, 1), (1, 2), (2, 1), (2, 3), (3, 4), (3, 3)]:
        knn.add(session, item)
    return knn


def test_neighbours_weigh_the_sessions_articles_by_position_and_prefer_recent_ones():
    # Prefix [4, 1]: 4 weighs 1/2, 1 weighs 1. Sessions 1 and 2 share 1 (similarity 1;
    # session 2 read it later), session 3 shares 4 (1/2).
    assert _knn(2).neighbours([4, 1]) == [(2, 1.0), (1, 1.0)]
    assert _knn(3).neighbours([4, 1]) == [(2, 1.0), (1, 1.0), (3, 0.5)]


def test_neighbours_vote_with_their_similarity_and_the_sessions_articles_are_left_out():
    # 3: session 2 (1) + session 3 (1/2) = 1.5; 2: session 1 (1); 1 and 4 are the session's.
    assert _knn(3).recommend([4, 1], n=5) == [3, 2]


def test_a_one_click_session_takes_the_most_recent_sessions_with_that_article():
    assert _knn(1).recommend([3], n=5) == [4]  # session 3 read 3 after session 2
    assert _knn(2).recommend([3], n=5, session=3) == [1]  # its own session is no neighbour
