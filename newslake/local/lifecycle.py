"""``make up`` and ``make down`` of the local platform: the moto server started and
provisioned, the kept tables put back (:mod:`newslake.local.keep`); or snapshotted, then
the server stopped. The serving store's lists come back from the lake afterwards
(``spark_jobs/restore.py``, which ``make up`` runs next): that needs Spark, which this
package does not import.
"""

from __future__ import annotations

from botocore.exceptions import BotoCoreError, ClientError

from newslake.local import keep, provision, server
from newslake.settings import Settings


def _counted(counts: dict[str, int]) -> str:
    return ", ".join(f"{n} {name}" for name, n in counts.items())


def up(settings: Settings) -> list[str]:
    """Start (unless running), provision, put back the kept tables; the lines to print."""
    started = server.start(settings)
    app = provision.provision(settings)
    state = "started" if started else "already running"
    lines = [
        f"local platform {state} at {settings.endpoint_url}: "
        f"{len(settings.portals)} streams, retry queue + DLQ, buckets, tables, "
        f"user pool {app.pool_id}; the lake at {settings.lake_root}"
    ]
    if started:
        keep.expect_restore(settings)
    restored = keep.load(settings)
    if any(restored.values()):
        lines.append(f"put back from {keep.keep_dir(settings)}: {_counted(restored)}")
    return lines


def down(settings: Settings) -> list[str]:
    """Snapshot the kept tables, then stop the moto server; the lines to print. The lake
    on disk stays (``make clean``, or removing the state folder, starts from nothing)."""
    if not server.is_running(settings):
        stopped = server.stop(settings)  # a server that stopped answering still has a pid
        return ["local platform stopped" if stopped else "local platform was not running"]
    lines = []
    try:
        lines.append(f"kept in {keep.keep_dir(settings)}: {_counted(keep.save(settings))}")
    except (BotoCoreError, ClientError) as exc:
        lines.append(f"warning: could not snapshot the kept tables ({exc}); the last one stays")
    server.stop(settings)
    lines.append(f"local platform stopped; the lake stays at {settings.lake_root}")
    return lines
