"""Globo.com G1 clicks as newslake pageview events (evaluation and benchmarks only).

The clicks (``clicks.csv.gz``; format in the data folder's README) are read from where they
lie, never copied into the repository: their terms are non-commercial. Each click becomes
one ``view`` event of portal ``g1``: the click time is both client and collector time, the
article URL is built from the article id, and there is no dwell time or scroll depth.
"""

from __future__ import annotations

import csv
import gzip
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from newslake.errors import NewslakeError

DEFAULT_DIR = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "globo-g1"
COLUMNS = (
    "user_id", "session_id", "session_start", "session_size", "click_article_id",
    "click_timestamp", "click_environment", "click_deviceGroup", "click_os", "click_country",
    "click_region", "click_referrer_type",
)  # fmt: skip
_NAMESPACE = uuid.UUID("6f1c3d52-9a0e-4c43-9d1b-2f7d8e5b1a01")


class G1FormatError(NewslakeError):
    """The file is not in the G1 clicks format."""


class G1MissingError(NewslakeError):
    """The folder holds no copy of the G1 clicks."""


@dataclass(frozen=True)
class Click:
    hour: int  # index of the hourly file the session started in
    user_id: int
    session_id: int
    session_start: int
    article_id: int
    ts: int  # ms


def hour_sizes(data_dir: Path) -> list[int]:
    """Rows of each hourly file, in order (``clicks_hour_rows.csv``).

    Raises:
        G1MissingError: the folder has no ``clicks_hour_rows.csv``.
        G1FormatError: the file has other columns.
    """
    path = data_dir / "clicks_hour_rows.csv"
    if not path.is_file():
        raise G1MissingError(
            f"{data_dir}: no G1 clicks here ({path.name} missing); name the folder with --data"
        )
    with path.open() as f:
        rows = list(csv.DictReader(f))
    if not rows or set(rows[0]) != {"hour_file", "rows"}:
        raise G1FormatError(f"{path}: expected columns hour_file,rows")
    return [int(r["rows"]) for r in rows]


def read_clicks(
    data_dir: Path = DEFAULT_DIR, *, first_hour: int = 0, last_hour: int | None = None
) -> Iterator[Click]:
    """The clicks of hourly files ``first_hour``..``last_hour`` (inclusive), in file order.

    Raises:
        G1FormatError: a wrong header or a row that is not all integers.
    """
    clicks = data_dir / "clicks.csv.gz"
    if not clicks.exists():
        raise NewslakeError(f"G1 clicks not found at {clicks}: set the data folder")
    sizes = hour_sizes(data_dir)
    last = len(sizes) - 1 if last_hour is None else min(last_hour, len(sizes) - 1)
    with gzip.open(clicks, "rt", newline="") as f:
        reader = csv.reader(f)
        header = tuple(next(reader, ()))
        if header != COLUMNS:
            raise G1FormatError(f"{clicks}: unexpected header {header}")
        line = 1
        for hour, size in enumerate(sizes):
            if hour > last:
                return
            for _ in range(size):
                row = next(reader)
                line += 1
                if hour < first_hour:
                    continue
                try:
                    yield Click(
                        hour, int(row[0]), int(row[1]), int(row[2]), int(row[4]), int(row[5])
                    )
                except (ValueError, IndexError) as exc:
                    raise G1FormatError(f"{clicks}: line {line} is not a click row: {row}") from exc


def to_event(click: Click) -> dict[str, Any]:
    """The pageview event of one click; its ids are stable, so a reload deduplicates."""
    event_id = str(uuid.uuid5(_NAMESPACE, f"{click.session_id}:{click.ts}:{click.article_id}"))
    return {
        "event_id": event_id,
        "event_type": "view",
        "portal": "g1",
        "user_id": str(click.user_id),
        "session_id": str(click.session_id),
        "pageview_id": event_id,
        "url": f"https://g1.globo.com/noticia/{click.article_id}.html",
        "referrer": None,
        "article_id": str(click.article_id),
        "dwell_ms": 0,
        "scroll_depth": 0,
        "clicks": 0,
        "clicked_urls": [],
        "client_ts": click.ts,
        "server_ts": click.ts,
    }


def event_id(session_id: int, ts: int, article_id: int) -> str:
    """The id :func:`to_event` gives a click's event (and visit): a vectorised loader that
    skips the landing zone uses it to write the same ids."""
    return str(uuid.uuid5(_NAMESPACE, f"{session_id}:{ts}:{article_id}"))
