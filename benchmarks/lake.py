"""Where a benchmark's Delta lake lives: where the local platform keeps its own by default
(``state_dir/lake``, on local disk), but under a state folder of the bench's own.

So a bench measures the default configuration (the same file system, paths and Spark
settings as ``make up``'s lake) and never touches the user's lake, which it empties at the
start. ``NEWSLAKE_LAKE_URI``, when set, wins: ``s3a://<prefix>-lake`` measures the lake on
the moto server's S3 instead.
"""

from __future__ import annotations

from newslake.settings import Settings


def own_lake(settings: Settings, *folders: str) -> str:
    """The lake root of a bench whose state folder is ``state_dir/<folders...>``."""
    if settings.lake_uri:
        return settings.lake_uri.rstrip("/")
    own = settings.model_copy(update={"state_dir": settings.state_dir.joinpath(*folders)})
    return own.lake_root
