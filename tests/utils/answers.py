"""Answers of the serving API compared whole, though each has a new recommendation id."""

from __future__ import annotations

import re
from typing import Any

RECOMMENDATION_ID = "<32 lowercase hex>"
"""What a body's ``recommendation_id`` reads as after :func:`with_id_checked`."""


def with_id_checked(body: dict[str, Any]) -> dict[str, Any]:
    """``body`` with its ``recommendation_id`` replaced by RECOMMENDATION_ID when it is 32
    lowercase hex characters (left as it is otherwise, so the comparison shows it)."""
    given = body.get("recommendation_id")
    if isinstance(given, str) and re.fullmatch(r"[0-9a-f]{32}", given):
        return body | {"recommendation_id": RECOMMENDATION_ID}
    return body
