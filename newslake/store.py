"""The serving store's layout in DynamoDB, shared by its writers (Spark export) and reader (API).

Two tables:

* recommendations table, key ``pk`` (hash) + ``sk`` (range):

  ======================================  ==============  =========================
  pk                                      sk              what
  ======================================  ==============  =========================
  ``{portal}#user#{user_id}``             model version   a user's personal top-N
  ``{portal}#popular``                    model version   top by views in a day
  ``{portal}#related#{article_id}``       model version   related articles (nightly)
  ``{portal}#weights``                    model version   weights the gate earned
  ``{portal}#trending``                   ``live``        top by views in minutes
  ``{portal}#related#{article_id}``       ``live``        co-visited in recent sessions
  ``{portal}#recent#{user_id}``           ``live``        what the user read lately
  ``{portal}#hot``                        ``bucket#{t}``  views per article from t on
  ``{portal}#controls``                   ``block#{a}``   a newsroom's block of a
  ``{portal}#controls``                   ``promote#{a}`` a newsroom's promotion of a
  ``{portal}#controls#log``               ``{ms}#{id}``   one change of the controls
  ======================================  ==============  =========================

  Items with sort key ``live`` come from the streaming job and are overwritten in place
  every few seconds or minutes; versioned items come from the nightly run.

  ``items`` holds a JSON list of ``{"article_id": str, "score": float}``, best first;
  ``expires_at`` (epoch seconds) is the table's TTL attribute, so old versions age out.
  The weights record uses the same form, a source's name in ``article_id`` and its weight
  in the reader's list in ``score`` (``personal``: the weight the nightly gate earned for
  the version's personal lists).

  The session-state consumer (``ingestion/session_state.py``) keeps two kinds of items
  seconds after each pageview:

  * a reader's recent reads (``{portal}#recent#{user_id}`` / ``live``): one entry per
    article with its newest read time (``score``, epoch seconds), newest first, at most
    ``recent_reads_limit``; ``rev`` counts its writes, and each write is conditional on
    the ``rev`` it read, so two writers never lose each other's reads;
  * live hot counts (``{portal}#hot`` / ``bucket#{t}``, ``t`` the bucket's start in epoch
    seconds, zero-padded so buckets sort by time): one number attribute ``v#{article_id}``
    per article viewed in ``[t, t + hot_bucket_s)``, and ``seq#{shard_id}``, the last
    Kinesis sequence number (zero-padded) of each shard whose views are counted in it,
    which the consumer's conditional adds check so a replayed batch adds nothing.
    :func:`hot_counts_of` decodes a query's items.

  Editorial controls (``newslake/editorial.py``, written by ``newslake/editorial_store.py``):
  one item per block or promotion of an article, and, written in the same transaction,
  an append-only log item per change (who, what, when, why), sorted by its time in epoch
  milliseconds, that the lake's audit table copies.

* versions table, key ``portal``: ``active_version`` is the pointer the reader follows.
  A new version's items are written first and the pointer is switched last, in one
  conditional write, so a reader never sees half a version.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

TTL_ATTRIBUTE = "expires_at"


@dataclass(frozen=True)
class ScoredItem:
    article_id: str
    score: float


def user_key(portal: str, user_id: str) -> str:
    return f"{portal}#user#{user_id}"


def popular_key(portal: str) -> str:
    return f"{portal}#popular"


def related_key(portal: str, article_id: str) -> str:
    return f"{portal}#related#{article_id}"


def weights_key(portal: str) -> str:
    return f"{portal}#weights"


LIVE = "live"


def trending_key(portal: str) -> str:
    return f"{portal}#trending"


def recent_key(portal: str, user_id: str) -> str:
    return f"{portal}#recent#{user_id}"


def encode_items(items: Iterable[ScoredItem]) -> str:
    return json.dumps(
        [{"article_id": i.article_id, "score": round(float(i.score), 6)} for i in items],
        separators=(",", ":"),
    )


def decode_items(raw: str) -> list[ScoredItem]:
    return [ScoredItem(str(d["article_id"]), float(d["score"])) for d in json.loads(raw)]


def item_record(
    pk: str, version: str, items: Iterable[ScoredItem], expires_at: int
) -> dict[str, Any]:
    """A recommendations-table item in the low-level client's attribute-value form."""
    return {
        "pk": {"S": pk},
        "sk": {"S": version},
        "items": {"S": encode_items(items)},
        TTL_ATTRIBUTE: {"N": str(int(expires_at))},
    }


def items_of(record: Mapping[str, Any]) -> list[ScoredItem]:
    """The scored items of a recommendations-table item read with the low-level client."""
    return decode_items(record["items"]["S"])


# ---- reading (the API follows the pointer, then reads one item) -------------------------
ACTIVE_VERSION_ATTRIBUTE = "active_version"


def version_key(portal: str) -> dict[str, Any]:
    """The versions-table key of a portal, in attribute-value form."""
    return {"portal": {"S": portal}}


def record_key(pk: str, version: str) -> dict[str, Any]:
    """The recommendations-table key of ``pk`` in one model version, in attribute-value form."""
    return {"pk": {"S": pk}, "sk": {"S": version}}


def active_version_of(record: Mapping[str, Any] | None) -> str | None:
    """The version a versions-table item points to; None while the portal has no model yet."""
    if not record or ACTIVE_VERSION_ATTRIBUTE not in record:
        return None
    return str(record[ACTIVE_VERSION_ATTRIBUTE]["S"])


def record_id_of(record: Mapping[str, Any]) -> tuple[str, str]:
    """The ``(pk, sk)`` of a recommendations-table item (BatchGetItem answers unordered)."""
    return str(record["pk"]["S"]), str(record["sk"]["S"])


# ---- a reader's recent reads (kept by the session-state consumer) -----------------------
REVISION_ATTRIBUTE = "rev"


def merge_recent_reads(
    current: Iterable[ScoredItem],
    new: Mapping[str, float],
    *,
    as_of: float,
    window: timedelta,
    limit: int,
) -> list[ScoredItem]:
    """A reader's recent-reads list (score = read time, epoch seconds) with ``new`` reads
    (article -> read time) merged in: the newest time per article, reads older than
    ``window`` before ``as_of`` dropped, newest first (ties by article id), at most ``limit``.

    Merging the same reads again gives the same list, so a replayed event changes nothing.
    """
    latest: dict[str, float] = {}
    for item in current:
        latest[item.article_id] = max(latest.get(item.article_id, item.score), item.score)
    for article, at in new.items():
        latest[article] = max(latest.get(article, at), at)
    since = as_of - window.total_seconds()
    kept = sorted(((a, t) for a, t in latest.items() if t > since), key=lambda kv: (-kv[1], kv[0]))
    return [ScoredItem(a, t) for a, t in kept[:limit]]


# ---- live hot counts (kept by the session-state consumer) -------------------------------
HOT_BUCKET_PREFIX = "bucket#"
HOT_COUNT_PREFIX = "v#"
SHARD_SEQUENCE_PREFIX = "seq#"
# Kinesis sequence numbers are decimal strings of up to 128 digits; padded to that width
# they compare as strings the way they compare as numbers (DynamoDB compares strings).
SEQUENCE_DIGITS = 128
_BUCKET_DIGITS = 12  # epoch seconds up to the year 33658


def hot_key(portal: str) -> str:
    return f"{portal}#hot"


def hot_bucket_sk(start_s: int) -> str:
    """The sort key of the hot bucket starting at ``start_s`` (epoch seconds); a query for
    buckets from ``a`` to ``b`` is ``sk BETWEEN hot_bucket_sk(a) AND hot_bucket_sk(b)``."""
    return f"{HOT_BUCKET_PREFIX}{int(start_s):0{_BUCKET_DIGITS}d}"


def hot_bucket_start(sk: str) -> int:
    """The start (epoch seconds) of the hot bucket with sort key ``sk``.

    Raises:
        ValueError: ``sk`` is not a hot bucket's sort key.
    """
    if not sk.startswith(HOT_BUCKET_PREFIX):
        raise ValueError(f"not a hot bucket sort key: {sk!r}")
    return int(sk[len(HOT_BUCKET_PREFIX) :])


def hot_count_attribute(article_id: str) -> str:
    """The attribute holding ``article_id``'s views in a hot bucket item."""
    return f"{HOT_COUNT_PREFIX}{article_id}"


def shard_sequence_attribute(shard_id: str) -> str:
    """The attribute holding the last sequence number of ``shard_id`` counted in a bucket."""
    return f"{SHARD_SEQUENCE_PREFIX}{shard_id}"


def padded_sequence(sequence_number: str) -> str:
    """A Kinesis sequence number zero-padded so that string order is number order."""
    return sequence_number.zfill(SEQUENCE_DIGITS)


def hot_counts_of(records: Iterable[Mapping[str, Any]]) -> dict[int, dict[str, int]]:
    """Views per article in each hot bucket, ``{bucket start (epoch s): {article: views}}``,
    from the items of a ``{portal}#hot`` query (the low-level client's attribute-value
    form). What serving turns into the live hot list: it weighs each bucket by its age.

    Attributes other than the counts (keys, TTL, shard positions) are ignored; a bucket
    with no count yet is left out.
    """
    buckets: dict[int, dict[str, int]] = {}
    for record in records:
        counts = {
            name[len(HOT_COUNT_PREFIX) :]: int(value["N"])
            for name, value in record.items()
            if name.startswith(HOT_COUNT_PREFIX)
        }
        if counts:
            buckets[hot_bucket_start(str(record["sk"]["S"]))] = counts
    return buckets


# ---- editorial controls (newslake/editorial.py) -----------------------------------------
def controls_key(portal: str) -> str:
    return f"{portal}#controls"


def controls_log_key(portal: str) -> str:
    return f"{portal}#controls#log"
