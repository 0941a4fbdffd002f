"""The serving store's layout in DynamoDB, shared by its writers (Spark export) and reader (API).

Two tables:

* recommendations table, key ``pk`` (hash) + ``sk`` (range):

  ======================================  ==============  =========================
  pk                                      sk              what
  ======================================  ==============  =========================
  ``{portal}#user#{user_id}``             model version   a user's personal top-N
  ``{portal}#popular``                    model version   most viewed in the window
  ``{portal}#related#{article_id}``       model version   related articles (nightly)
  ``{portal}#trending``                   ``live``        most viewed in the last hour
  ``{portal}#related#{article_id}``       ``live``        co-visited in recent sessions
  ``{portal}#recent#{user_id}``           ``live``        what the user read lately
  ======================================  ==============  =========================

  Items with sort key ``live`` come from the streaming job and are overwritten in place
  every few seconds or minutes; versioned items come from the nightly run.

  ``items`` holds a JSON list of ``{"article_id": str, "score": float}``, best first;
  ``expires_at`` (epoch seconds) is the table's TTL attribute, so old versions age out.

* versions table, key ``portal``: ``active_version`` is the pointer the reader follows.
  A new version's items are written first and the pointer is switched last, in one
  conditional write, so a reader never sees half a version.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
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
