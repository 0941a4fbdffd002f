"""Implicit-feedback ALS for protocol 1, fitted with the ``implicit`` library on the CPU.

The nightly run trains Spark MLlib's ALS (``spark_jobs.als``); one MLlib fit per test day
would make protocol 1 a Spark job per day, so protocol 1 fits the same model with
``implicit`` (a benchmark-only dependency: ``pip install -e '.[bench]'``, which
``make bench-batch`` does) on the same interactions, with the same rank, iterations,
regularisation, alpha and seed. The two differ in details: MLlib's confidence is
``1 + alpha * strength`` and it scales the regularisation by each user's and article's
number of ratings; ``implicit`` uses ``alpha * strength`` and an unscaled regularisation.
Without ``implicit`` installed, :func:`recommend` returns None and protocol 1 says so.

Interactions are ``spark_jobs.interactions.to_interactions``'s: every visit weighs
``1 + dwell/300 s + scroll/100`` (1 on G1, which has neither), halved per
``HALF_LIFE_DAYS`` of age at the cutoff, summed per reader and article.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from spark_jobs.als import AlsParams  # the product's parameters (no Spark is started)

HALF_LIFE_DAYS = 7.0
DAY_MS = 86_400_000
USERS_PER_BLOCK = 4096


def strengths(
    users: np.ndarray, items: np.ndarray, ts: np.ndarray, as_of: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(user, item, strength) per distinct pair of the visits, ``0.5 ** (age_days / 7)``
    each, summed."""
    weight = np.power(0.5, (as_of - ts) / DAY_MS / HALF_LIFE_DAYS)
    keys, inverse = np.unique(
        users.astype(np.int64) << 32 | items.astype(np.int64), return_inverse=True
    )
    return keys >> 32, keys & 0xFFFFFFFF, np.bincount(inverse.ravel(), weights=weight)


def recommend(
    users: np.ndarray,
    items: np.ndarray,
    ts: np.ndarray,
    as_of: int,
    *,
    wanted: Sequence[int],
    candidates: Iterable[int],
    n: int,
    params: AlsParams,
) -> dict[int, list[int]] | None:
    """Each wanted reader's best ``n`` candidate articles by ALS score, best first (ties by
    article id as text); readers and articles absent from the visits get nothing (cold
    start, as MLlib's ``coldStartStrategy=drop``). None when ``implicit`` is missing.

    Args:
        users, items, ts: the visits up to ``as_of`` (reader, article, epoch ms).
        as_of: the cutoff the interactions are aged to.
        wanted: the readers to score.
        candidates: the articles that may be recommended (fresh ones).
        n: list length.
        params: the model's hyperparameters.
    """
    fitted = _fit(strengths(users, items, ts, as_of), params)
    if fitted is None:
        return None
    user_ids, item_ids, user_factors, item_factors = fitted
    cand = np.array(sorted(set(candidates)), dtype=np.int64)
    cand = cand[np.isin(cand, item_ids)]
    wanted_arr = np.array(sorted(set(wanted)), dtype=np.int64)
    known = wanted_arr[np.isin(wanted_arr, user_ids)]
    if len(cand) == 0 or len(known) == 0:
        return {}
    return _best(
        known,
        user_factors[np.searchsorted(user_ids, known)],
        cand,
        item_factors[np.searchsorted(item_ids, cand)],
        min(n, len(cand)),
    )


def _fit(
    interactions: tuple[np.ndarray, np.ndarray, np.ndarray], params: AlsParams
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None:
    """Reader ids, article ids (both sorted) and their factors, fitted on ``(user, item,
    strength)``; None when ``implicit`` is missing."""
    try:
        import scipy.sparse as sp
        from implicit.cpu.als import AlternatingLeastSquares
        from threadpoolctl import threadpool_limits
    except ImportError:
        return None

    u, i, strength = interactions
    user_ids, u_idx = np.unique(u, return_inverse=True)
    item_ids, i_idx = np.unique(i, return_inverse=True)
    matrix = sp.csr_matrix(
        (strength.astype(np.float32), (u_idx.ravel(), i_idx.ravel())),
        shape=(len(user_ids), len(item_ids)),
    )
    with threadpool_limits(1, "blas"):  # implicit parallelises itself over users
        model = AlternatingLeastSquares(
            factors=params.rank,
            regularization=params.reg_param,
            alpha=params.alpha,
            iterations=params.max_iter,
            random_state=params.seed,
            calculate_training_loss=False,
        )
        model.fit(matrix, show_progress=False)
    return user_ids, item_ids, np.asarray(model.user_factors), np.asarray(model.item_factors)


def _best(
    readers: np.ndarray,
    reader_factors: np.ndarray,
    cand: np.ndarray,
    cand_factors: np.ndarray,
    k: int,
) -> dict[int, list[int]]:
    """Each reader's ``k`` best candidates, best first, ties by article id as text; readers
    in blocks so the score matrix stays small."""
    text_rank = np.argsort(np.argsort(cand.astype(str), kind="stable"), kind="stable")
    out: dict[int, list[int]] = {}
    for start in range(0, len(readers), USERS_PER_BLOCK):
        scores = reader_factors[start : start + USERS_PER_BLOCK] @ cand_factors.T
        part = np.argpartition(-scores, k - 1, axis=1)[:, :k]
        top = np.take_along_axis(scores, part, axis=1)
        order = np.lexsort((text_rank[part], -top), axis=1)
        best = cand[np.take_along_axis(part, order, axis=1)]
        for reader, row in zip(
            readers[start : start + USERS_PER_BLOCK].tolist(), best.tolist(), strict=True
        ):
            out[reader] = row
    return out
