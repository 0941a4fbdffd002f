"""Local stand-in for the impressions' AWS path (the service's log group, a CloudWatch Logs
subscription, a Firehose delivery stream of their own): the service's impression lines,
from the segment files it appends them to locally (``serving/impressions.py``,
``SegmentFile``), into the landing bucket as Firehose writes them.

What it does, on every pass (:meth:`ImpressionShipper.ship`):

* takes each segment's complete lines after its shipped offset (a line being written has
  no newline yet and waits for the next pass);
* writes them as one GZIP JSON-lines object,
  ``{impressions_prefix}/YYYY/MM/DD/HH/<segment>-<offset>.json.gz`` by delivery hour (UTC),
  the lines byte for byte as the service wrote them;
* removes a segment once it is shipped to its end and finished: its process started a
  newer one, or has exited (a dead process's cut-off last line is shipped as it is, so
  the lake quarantines it rather than losing it silently).

No line twice, none lost: the offsets live in one file beside the segments
(``shipped.json``, replaced atomically). Before an object is written its key and end are
recorded as pending; after, the offset moves to the end. A pass that finds a pending
delivery (the last one died between the two) writes the same key with the same bytes again,
since a segment only grows, and moves on: a rerun overwrites, never adds.

In the ``aws`` profile this module does nothing: CloudWatch Logs and Firehose carry the
lines (``infra/stacks/impressions.py``). Run ``python -m ingestion.local_impressions``
(continuous) or ``--once`` (ship what is there, stop).
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import json
import logging
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from newslake import aws, logs
from newslake.settings import Settings, get_settings
from serving.impressions import SEGMENT

log = logging.getLogger(__name__)

OFFSETS_FILE = "shipped.json"


@dataclass
class ShipStats:
    lines: int = 0
    objects: int = 0
    removed: int = 0  # segments shipped to their end and deleted


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process: alive
    return True


def object_key(settings: Settings, segment: str, offset: int, at: datetime) -> str:
    """Where the lines of ``segment`` from byte ``offset`` land, by delivery hour (UTC)."""
    at = at.astimezone(UTC)
    stem = segment.removesuffix(".jsonl")
    return f"{settings.impressions_prefix}/{at:%Y/%m/%d/%H}/{stem}-{offset:012d}.json.gz"


class Offsets:
    """The shipped offset of each segment, and the delivery under way if any, kept in
    one JSON file replaced atomically (written beside it, flushed, then renamed)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.entries: dict[str, dict[str, Any]] = {}
        if path.exists():
            self.entries = json.loads(path.read_text())

    def offset(self, segment: str) -> int:
        return int(self.entries.get(segment, {}).get("offset", 0))

    def pending(self, segment: str) -> dict[str, Any] | None:
        found = self.entries.get(segment, {}).get("pending")
        return dict(found) if found else None

    def set(self, segment: str, offset: int, pending: dict[str, Any] | None = None) -> None:
        self.entries[segment] = {"offset": offset, "pending": pending}
        self.save()

    def drop(self, segment: str) -> None:
        self.entries.pop(segment, None)
        self.save()

    def save(self) -> None:
        tmp = self.path.with_suffix(".tmp")
        with tmp.open("w") as f:
            json.dump(self.entries, f, sort_keys=True)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path)


class ImpressionShipper:
    """One pass over every segment per :meth:`ship`.

    Args:
        settings: the state directory, landing bucket and impressions prefix.
        s3: a boto3 S3 client.
        alive: whether a process id still runs (tests pass their own).
        clock: the delivery time, which names the object's hour (tests pass their own).
    """

    def __init__(
        self,
        settings: Settings,
        s3: Any,
        *,
        alive: Callable[[int], bool] = pid_alive,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        if settings.profile != "local":
            raise ValueError("the local impression shipper runs in the local profile only")
        self.settings, self.s3, self.alive, self.clock = settings, s3, alive, clock
        self.directory = settings.local_impressions_dir
        self.stats = ShipStats()

    def segments(self) -> list[tuple[str, int, int]]:
        """Every segment as (name, pid, number), oldest first per process."""
        if not self.directory.is_dir():
            return []
        found = [
            (p.name, int(m["pid"]), int(m["seq"]))
            for p in self.directory.iterdir()
            if (m := SEGMENT.fullmatch(p.name))
        ]
        return sorted(found, key=lambda s: (s[1], s[2]))

    def ship(self) -> ShipStats:
        """Lands every complete line not shipped yet; removes finished, shipped segments."""
        segments = self.segments()
        if not segments:
            return self.stats
        offsets = Offsets(self.directory / OFFSETS_FILE)
        for gone in set(offsets.entries) - {name for name, _, _ in segments}:
            offsets.drop(gone)  # removed by hand: nothing left to ship
        newest = {pid: seq for _, pid, seq in segments}  # sorted: the last one wins
        for name, pid, seq in segments:
            finished = seq < newest[pid] or not self.alive(pid)
            self._ship_segment(offsets, name, finished=finished)
        return self.stats

    def _ship_segment(self, offsets: Offsets, name: str, *, finished: bool) -> None:
        path = self.directory / name
        pending = offsets.pending(name)
        if pending is not None:  # the last delivery died before its offset moved
            start = offsets.offset(name)
            self._put(pending["key"], _read(path, start, pending["end"]))
            offsets.set(name, pending["end"])
        start = offsets.offset(name)
        data = _read(path, start, None)
        if not finished:
            data = data[: data.rfind(b"\n") + 1]  # a line being written waits
        if data:
            end = start + len(data)
            key = object_key(self.settings, name, start, self.clock())
            offsets.set(name, start, {"key": key, "end": end})
            self.stats.lines += self._put(key, data)
            offsets.set(name, end)
        if finished:
            path.unlink(missing_ok=True)
            offsets.drop(name)
            self.stats.removed += 1

    def _put(self, key: str, data: bytes) -> int:
        """Writes ``data`` (whole lines, but for a dead process's cut-off last one, which
        gets its newline here) as one object; returns its lines."""
        if not data.endswith(b"\n"):
            data += b"\n"
        self.s3.put_object(
            Bucket=self.settings.landing_bucket,
            Key=key,
            Body=gzip.compress(data, mtime=0),  # the same lines, the same bytes
            ContentType="application/x-ndjson",
        )
        self.stats.objects += 1
        return data.count(b"\n")


def _read(path: Path, start: int, end: int | None) -> bytes:
    with path.open("rb") as f:
        f.seek(start)
        return f.read() if end is None else f.read(end - start)


def ship(settings: Settings, s3: Any | None = None) -> ShipStats:
    """Lands every impression line written so far (what ``make stream ONCE=1`` and the
    demo run before Spark reads); nothing in the ``aws`` profile."""
    if settings.profile != "local":
        return ShipStats()
    stats = ImpressionShipper(settings, s3 or aws.client("s3", settings)).ship()
    log.info("local impressions: %d lines in %d objects", stats.lines, stats.objects)
    return stats


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ingestion.local_impressions",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--once", action="store_true", help="ship what is there, then stop")
    args = parser.parse_args(argv)
    logs.configure()
    settings = get_settings()
    if settings.profile != "local":
        print("aws profile: CloudWatch Logs and Firehose land the impressions; nothing to do")
        return 0
    shipper = ImpressionShipper(settings, aws.client("s3", settings))
    if args.once:
        print(json.dumps(shipper.ship().__dict__))
        return 0
    log.info(
        "shipping %s to s3://%s/%s every %.0fs",
        settings.local_impressions_dir,
        settings.landing_bucket,
        settings.impressions_prefix,
        settings.local_impressions_poll_s,
    )
    with contextlib.suppress(KeyboardInterrupt):
        while True:
            shipper.ship()
            time.sleep(settings.local_impressions_poll_s)
    return 0


if __name__ == "__main__":
    sys.exit(main())
