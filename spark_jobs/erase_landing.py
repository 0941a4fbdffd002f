"""Readers' lines in the landing zone: found, counted, and removed by rewriting objects.

Landed objects are GZIP JSON lines (pageviews under ``landing_prefix``, the service's
impression lines under ``impressions_prefix``). An object holding a reader's lines is
replaced at the same key by one without them, a single PUT (S3 replaces an object
atomically), and deleted when every line was theirs. The key stays, so the streaming
job, which remembers the objects it has read by path, never reads the rewritten object
as new: nothing reaches bronze twice.

boto3 only: the stage and the check call it from the driver.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from newslake.errors import NewslakeError
from newslake.settings import Settings
from spark_jobs.bronze import decode_object
from spark_jobs.reader_rows import Reader, line_of

SUFFIX = ".json.gz"
ARCHIVED = frozenset({"GLACIER", "DEEP_ARCHIVE"})
THREADS = 8  # objects are read and rewritten in parallel: each is one or two S3 calls


@dataclass(frozen=True)
class Landing:
    """Where landed objects are: the bucket and the prefixes that hold readers' lines."""

    bucket: str
    prefixes: tuple[str, ...]

    @classmethod
    def of(cls, settings: Settings) -> Landing:
        return cls(settings.landing_bucket, (settings.landing_prefix, settings.impressions_prefix))


def _keys(s3: Any, landing: Landing) -> Iterator[str]:
    for prefix in landing.prefixes:
        pages = s3.get_paginator("list_objects_v2").paginate(
            Bucket=landing.bucket, Prefix=f"{prefix.rstrip('/')}/"
        )
        for page in pages:
            for obj in page.get("Contents", []):
                if not obj["Key"].endswith(SUFFIX):
                    continue
                if obj.get("StorageClass") in ARCHIVED:  # unreadable without a restore
                    raise NewslakeError(
                        f"landing object {obj['Key']} is in {obj['StorageClass']}: restore it "
                        "(or let the lifecycle expire it) before erasing; landing objects "
                        "are meant to expire before any archive tier"
                    )
                yield obj["Key"]


def split_lines(text: str, readers: Iterable[Reader]) -> tuple[list[str], dict[Reader, int]]:
    """The lines of no reader of ``readers``, and how many lines each reader had."""
    readers = list(readers)
    kept: list[str] = []
    found: dict[Reader, int] = {}
    for line in text.splitlines():
        owner = line_of(line, readers) if line.strip() else None
        if owner is None:
            kept.append(line)
        else:
            found[owner] = found.get(owner, 0) + 1
    return kept, found


def _object(
    s3: Any, bucket: str, key: str, readers: list[Reader], rewrite: bool
) -> dict[Reader, int]:
    body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    decoded = decode_object(body)
    text = (decoded.text or "") + (f"\n{decoded.tail}" if decoded.tail else "")
    kept, found = split_lines(text, readers)
    if rewrite and found:
        if any(line.strip() for line in kept):
            new = gzip.compress(("\n".join(kept).rstrip("\n") + "\n").encode())
            s3.put_object(Bucket=bucket, Key=key, Body=new)
        else:
            s3.delete_object(Bucket=bucket, Key=key)
    return found


def scan(
    s3: Any, landing: Landing, readers: Iterable[Reader], *, rewrite: bool
) -> dict[Reader, int]:
    """Lines of each reader in every landed object; with ``rewrite``, the objects that
    held any are rewritten without them (or deleted when nothing else is left)."""
    readers = list(readers)
    totals = dict.fromkeys(readers, 0)
    if not readers:
        return totals
    with ThreadPoolExecutor(THREADS) as pool:
        per_object = pool.map(
            lambda key: _object(s3, landing.bucket, key, readers, rewrite), _keys(s3, landing)
        )
        for found in per_object:
            _add(totals, found)
    return totals


def _add(totals: dict[Reader, int], found: Mapping[Reader, int]) -> None:
    for reader, n in found.items():
        totals[reader] += n
