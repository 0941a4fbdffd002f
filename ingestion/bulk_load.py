"""Bulk-load events straight into the landing zone, as Firehose would have written them.

For backfills and benchmarks: the events skip the API and Kinesis and land as GZIP JSON
lines under the same portal/hour layout (by collector time). Object keys are deterministic
(portal, hour, chunk), so loading the same events again rewrites the same objects.

``python -m ingestion.bulk_load g1 --last-hour 120`` loads G1 clicks (hourly files 0..120).
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tqdm import tqdm

from ingestion import g1
from newslake import aws
from newslake.errors import NewslakeError
from newslake.settings import Settings, get_settings

OBJECT_EVENTS = 50_000


@dataclass
class LoadStats:
    events: int = 0
    objects: int = 0


def _key(settings: Settings, portal: str, hour: datetime, chunk: int) -> str:
    return (
        f"{settings.landing_prefix}/portal={portal}/year={hour:%Y}/month={hour:%m}/"
        f"day={hour:%d}/hour={hour:%H}/bulk-{portal}-{hour:%Y%m%d%H}-{chunk:04d}.json.gz"
    )


def bulk_load(
    settings: Settings,
    s3: Any,
    events: Iterable[dict[str, Any]],
    *,
    object_events: int = OBJECT_EVENTS,
    progress: bool = True,
    total: int | None = None,
) -> LoadStats:
    """Write ``events`` (dicts of the pageview schema, with ``server_ts``) to the landing zone."""
    stats = LoadStats()
    buffers: dict[tuple[str, datetime], list[bytes]] = {}
    chunks: dict[tuple[str, datetime], int] = {}

    def flush(key: tuple[str, datetime]) -> None:
        lines = buffers.pop(key)
        chunk = chunks.get(key, 0)
        chunks[key] = chunk + 1
        s3.put_object(
            Bucket=settings.landing_bucket,
            Key=_key(settings, key[0], key[1], chunk),
            Body=gzip.compress(b"".join(lines), compresslevel=5),
            ContentType="application/x-ndjson",
            ContentEncoding="gzip",
        )
        stats.objects += 1

    with tqdm(total=total, desc="bulk load", unit="ev", disable=not progress) as bar:
        for e in events:
            arrived = datetime.fromtimestamp(e["server_ts"] / 1000, UTC)
            key = (e["portal"], arrived.replace(minute=0, second=0, microsecond=0))
            buf = buffers.setdefault(key, [])
            buf.append(json.dumps(e, separators=(",", ":")).encode() + b"\n")
            stats.events += 1
            if len(buf) >= object_events:
                flush(key)
            if stats.events % 10_000 == 0:
                bar.update(10_000)
        for key in list(buffers):
            flush(key)
        bar.update(stats.events % 10_000)
    return stats


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ingestion.bulk_load",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("source", choices=["g1"])
    parser.add_argument("--data", type=Path, default=g1.DEFAULT_DIR, help="G1 data folder")
    parser.add_argument("--first-hour", type=int, default=0)
    parser.add_argument("--last-hour", type=int, default=None)
    args = parser.parse_args(argv)
    settings = get_settings()
    try:
        sizes = g1.hour_sizes(args.data)
        last = len(sizes) - 1 if args.last_hour is None else args.last_hour
        total = sum(sizes[args.first_hour : last + 1])
        clicks = g1.read_clicks(args.data, first_hour=args.first_hour, last_hour=last)
        stats = bulk_load(
            settings, aws.client("s3", settings), map(g1.to_event, clicks), total=total
        )
    except NewslakeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(json.dumps({"events": stats.events, "objects": stats.objects}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
