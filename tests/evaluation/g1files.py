"""Small hand-written G1 folders and sessions for the evaluation tests (never the real data)."""

from __future__ import annotations

import gzip
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from evaluation.data import Sessions
from ingestion.g1 import COLUMNS

HEADER = ",".join(COLUMNS)
H0 = 1_506_825_423_000  # the first hour's start in G1 (ms)
HOUR = 3_600_000


def row(user: int, session: int, start: int, size: int, article: int, ts: int) -> str:
    return f"{user},{session},{start},{size},{article},{ts},4,3,20,1,20,2"


def session_rows(
    user: int, session: int, start: int, clicks: Sequence[tuple[int, int]]
) -> list[str]:
    """One session's rows: ``clicks`` are (article, ms after the session's start)."""
    return [row(user, session, start, len(clicks), a, start + dt) for a, dt in clicks]


def write(folder: Path, hours: Sequence[Sequence[str]], header: str = HEADER) -> Path:
    """A G1 folder: ``hours[h]`` are the rows (text) of hourly file h."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = [header, *(r for rows in hours for r in rows)]
    (folder / "clicks.csv.gz").write_bytes(gzip.compress(("\n".join(lines) + "\n").encode()))
    sizes = "".join(f"clicks_hour_{h:03d}.csv,{len(rows)}\n" for h, rows in enumerate(hours))
    (folder / "clicks_hour_rows.csv").write_text("hour_file,rows\n" + sizes)
    return folder


def sessions(
    spec: Sequence[tuple[int, Sequence[tuple[int, int]]]],
    ids: Sequence[int] | None = None,
    users: Sequence[int] | None = None,
) -> Sessions:
    """Sessions by hand: ``(hour, [(article, ts), ...])`` each; session ids and readers
    1, 2, ... unless given."""
    lengths = [len(clicks) for _, clicks in spec]
    return Sessions(
        item=np.array([a for _, clicks in spec for a, _ in clicks], dtype=np.int64),
        ts=np.array([t for _, clicks in spec for _, t in clicks], dtype=np.int64),
        offsets=np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64),
        hour=np.array([h for h, _ in spec], dtype=np.int64),
        session_id=np.array(ids or range(1, len(spec) + 1), dtype=np.int64),
        user=np.array(users or range(1, len(spec) + 1), dtype=np.int64),
        session_start=np.array([clicks[0][1] for _, clicks in spec], dtype=np.int64),
        n_hours=max(h for h, _ in spec) + 1,
    )


MIN = 60_000
# Readers 7, 9 and 10 come back; 8 does not (times in minutes from 0).
RETURNS = sessions(
    [
        (0, [(1, 0), (2, 1 * MIN)]),  # 0: reader 7's first session
        (1, [(3, 60 * MIN), (4, 61 * MIN)]),  # 1: reader 7, 59 min after their last click
        (1, [(5, 80 * MIN), (6, 81 * MIN)]),  # 2: reader 7, 19 min after
        (0, [(1, 5 * MIN), (2, 6 * MIN)]),  # 3: reader 8's only session
        (0, [(1, 10 * MIN), (2, 11 * MIN)]),  # 4: reader 9's first session
        (1, [(3, 41 * MIN), (4, 42 * MIN)]),  # 5: reader 9, 30 min after
        (1, [(5, 71 * MIN), (6, 72 * MIN)]),  # 6: reader 9, 29 min after
        (0, [(1, 0), (9, 100 * MIN)]),  # 7: reader 10, a session still open at 50 min
        (1, [(2, 50 * MIN), (3, 51 * MIN)]),  # 8: reader 10, 50 min after their click at 0
    ],
    users=[7, 7, 7, 8, 9, 9, 9, 10, 10],
)
