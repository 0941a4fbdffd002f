"""Checks transforms run at entry, so a wrong input fails with a message, not deep in Spark."""

from __future__ import annotations

from collections.abc import Iterable

from pyspark.sql import DataFrame


def require_columns(df: DataFrame, columns: Iterable[str], *, where: str) -> None:
    """Raise ValueError naming every column ``where`` needs that ``df`` lacks."""
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(f"{where} needs columns {missing}; the input has {df.columns}")
