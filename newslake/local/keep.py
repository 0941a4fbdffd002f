"""What the local platform keeps on disk, so that ``make down && make up`` loses nothing a
user built: the Delta lake (``state_dir/lake``, Settings.lake_root) and snapshots of the
small tables that only the moto server's memory would hold (``state_dir/keep``).

The moto server holds everything in memory. The lake therefore lives on disk by default,
and the serving store is filled again from it after ``make up`` (``spark_jobs/restore.py``).
What neither the lake nor a model can give back, readers' erasure requests and the
newsrooms' editorial controls with their log, is written to a snapshot when the platform
stops and put back when it starts. A crash of the moto server (kill -9) skips the
snapshot: changes made since the last ``make down`` are then lost. In AWS, DynamoDB keeps
these tables itself, so nothing of this runs there.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from newslake.settings import Settings

SNAPSHOT_VERSION = 1


def lake_dir(settings: Settings) -> Path | None:
    """The folder of the default local lake; None when NEWSLAKE_LAKE_URI puts it elsewhere
    (that place is the user's, and is never removed here)."""
    if settings.profile != "local" or settings.lake_uri:
        return None
    return settings.state_dir.resolve() / "lake"


def keep_dir(settings: Settings) -> Path:
    return settings.state_dir / "keep"


def forget(settings: Settings) -> None:
    """Remove what a restart would bring back: the default local lake and the snapshots.
    For runs that start from an empty platform (``make demo``, ``make replay-ab``), beside
    emptying the moto server."""
    lake = lake_dir(settings)
    if lake is not None:
        shutil.rmtree(lake, ignore_errors=True)
    shutil.rmtree(keep_dir(settings), ignore_errors=True)
