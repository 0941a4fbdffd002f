"""The G1 clicks as numpy arrays of sessions, checked, for the offline protocols.

The clicks are read from where they lie (``clicks.csv.gz`` and ``clicks_hour_rows.csv``,
format in the data folder's README), never copied. A session belongs to the hourly file it
started in; its clicks are put in time order and capped at the first ``cap`` clicks.

What is wrong in a file is either refused with one clear line (:class:`G1FormatError`: a
wrong header, a row count that disagrees with ``clicks_hour_rows.csv``) or skipped and
counted in :attr:`Sessions.issues`, which the protocols report: rows that are not all
integers, sessions whose clicks were not in time order (sorted, counted), clicks before
their session's start, empty hourly files. Nothing is dropped silently.
"""

from __future__ import annotations

import csv
import gzip
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ingestion.g1 import COLUMNS, DEFAULT_DIR, G1FormatError
from newslake.errors import NewslakeError

__all__ = ["DEFAULT_DIR", "G1FormatError", "Sessions", "load", "read_hour_sizes"]

USED = COLUMNS[:6]  # user_id, session_id, session_start, session_size, article, timestamp
SESSION_CAP = 20


@dataclass(frozen=True)
class Sessions:
    """Sessions in file order; the clicks of session ``s`` are ``offsets[s]:offsets[s+1]``.

    Attributes:
        item: article id of each click (int64), sessions in file order, each in time order.
        ts: click time (epoch ms) of each click.
        offsets: ``len(sessions) + 1`` offsets into the click arrays.
        hour: hourly file each session started in.
        session_id: the dataset's session id.
        user: the dataset's user id.
        session_start: the dataset's session start (epoch ms).
        n_hours: hourly files read (0 .. n_hours - 1).
        issues: counts of what was skipped or repaired, by name.
    """

    item: np.ndarray
    ts: np.ndarray
    offsets: np.ndarray
    hour: np.ndarray
    session_id: np.ndarray
    user: np.ndarray
    session_start: np.ndarray
    n_hours: int
    issues: dict[str, int] = field(default_factory=dict)

    @property
    def lengths(self) -> np.ndarray:
        return np.diff(self.offsets)

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def items_of(self, s: int) -> np.ndarray:
        return self.item[self.offsets[s] : self.offsets[s + 1]]

    def hour_starts(self) -> dict[int, int]:
        """Each non-empty hour's start: the earliest session start in its file (epoch ms)."""
        frame = pd.DataFrame({"h": self.hour, "t": self.session_start})
        return {int(h): int(t) for h, t in frame.groupby("h")["t"].min().items()}


def read_hour_sizes(data_dir: Path) -> list[int]:
    """Rows of each hourly file, in order, from ``clicks_hour_rows.csv``."""
    path = data_dir / "clicks_hour_rows.csv"
    if not path.exists():
        raise NewslakeError(f"{path} not found: point --data at the G1 folder (see its README)")
    with path.open(newline="") as f:
        reader = csv.reader(f)
        header = next(reader, [])
        if header != ["hour_file", "rows"]:
            raise G1FormatError(f"{path}: expected the header hour_file,rows, found {header}")
        sizes = []
        for line, row in enumerate(reader, start=2):
            if len(row) != 2 or not row[1].isdigit():
                raise G1FormatError(f"{path}: line {line} is not 'clicks_hour_NNN.csv,rows'")
            sizes.append(int(row[1]))
    return sizes


def _read_rows(path: Path, nrows: int) -> tuple[pd.DataFrame, int]:
    """``nrows`` rows; a row with too many fields keeps its place as an all-missing row (so
    hours stay aligned) and is counted; one with too few has missing fields."""
    with gzip.open(path, "rt", newline="") as f:
        header = tuple(next(csv.reader([f.readline()]), ()))
    if header != COLUMNS:
        raise G1FormatError(
            f"{path}: unexpected header {','.join(header)}; expected {','.join(COLUMNS)}"
        )
    # All twelve columns, so that a row with a field too many or too few is noticed.
    options = {"nrows": nrows, "compression": "gzip"}
    try:
        return pd.read_csv(path, **options), 0
    except pd.errors.ParserError:
        ragged = 0

        def keep_place(fields: list[str]) -> list[str]:
            nonlocal ragged
            ragged += 1
            return [""] * len(COLUMNS)

        frame = pd.read_csv(path, engine="python", on_bad_lines=keep_place, **options)
        return frame, ragged


def load(
    data_dir: Path = DEFAULT_DIR, *, last_hour: int | None = None, cap: int = SESSION_CAP
) -> Sessions:
    """Hourly files ``0 .. last_hour`` as sessions (earlier hours are the models' history).

    Raises:
        G1FormatError: a wrong header, or fewer rows than ``clicks_hour_rows.csv`` counts.
        NewslakeError: the files are not there.
    """
    path = data_dir / "clicks.csv.gz"
    if not path.exists():
        raise NewslakeError(f"{path} not found: point --data at the G1 folder (see its README)")
    sizes = read_hour_sizes(data_dir)
    last = len(sizes) - 1 if last_hour is None else min(last_hour, len(sizes) - 1)
    sizes = sizes[: last + 1]
    frame, ragged = _read_rows(path, sum(sizes))
    if len(frame) != sum(sizes):
        raise G1FormatError(
            f"{path} has {len(frame)} rows for hourly files 0..{last}, but "
            f"clicks_hour_rows.csv counts {sum(sizes)}: the two files do not belong together"
        )
    issues: dict[str, int] = {"rows_read": len(frame), "rows_wrong_field_count": ragged}
    hour = np.repeat(np.arange(len(sizes)), sizes)
    numeric = frame.apply(pd.to_numeric, errors="coerce")
    bad = numeric.isna().any(axis=1).to_numpy()
    issues["rows_not_integers_skipped"] = int(bad.sum())
    values = numeric[~bad].astype(np.int64)
    hour = hour[~bad]

    # Sessions in order of first appearance, keyed by (hour, session id).
    key = pd.MultiIndex.from_arrays([hour, values["session_id"].to_numpy()])
    codes, _ = pd.factorize(key)
    ts = values["click_timestamp"].to_numpy()
    order = np.lexsort((ts, codes))  # by session, then time; stable
    issues["sessions_out_of_time_order_sorted"] = _count_unsorted(codes, ts)
    codes, ts = codes[order], ts[order]
    columns = {c: values[c].to_numpy()[order] for c in USED}
    hour = hour[order]
    n_sessions = int(codes.max()) + 1 if len(codes) else 0
    first = np.searchsorted(codes, np.arange(n_sessions + 1))
    position = np.arange(len(codes)) - first[codes]
    issues["clicks_before_session_start"] = int((ts < columns["session_start"]).sum())
    sizes_given = columns["session_size"][first[:-1]] if n_sessions else np.array([], np.int64)
    issues["sessions_size_column_disagrees"] = int((sizes_given != np.diff(first)).sum())
    kept = position < cap
    issues["clicks_beyond_cap_dropped"] = int((~kept).sum())
    issues["hours_empty"] = int(sum(1 for n in sizes if n == 0))

    lengths = np.bincount(codes[kept], minlength=n_sessions)
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    heads = first[:-1]
    return Sessions(
        item=columns["click_article_id"][kept],
        ts=ts[kept],
        offsets=offsets,
        hour=hour[heads],
        session_id=columns["session_id"][heads],
        user=columns["user_id"][heads],
        session_start=columns["session_start"][heads],
        n_hours=len(sizes),
        issues=issues,
    )


def _count_unsorted(codes: np.ndarray, ts: np.ndarray) -> int:
    """Sessions with a click earlier than the click before it in the file."""
    if len(codes) < 2:
        return 0
    same = codes[1:] == codes[:-1]
    back = same & (ts[1:] < ts[:-1])
    return len(np.unique(codes[1:][back]))
