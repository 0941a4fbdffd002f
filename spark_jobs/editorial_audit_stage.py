"""``silver.editorial_audit``: every change a newsroom made to its portal's controls, kept
in the lake (who, what, when, why), from the change log in the serving store. Run by
``spark_jobs/editorial_audit.py`` (``make audit``) and by the nightly run's
``editorial_audit`` stage, which the ``all`` chain runs after publishing.

Each change's log item and its control are written in one transaction
(:mod:`newslake.editorial_store`), so the log misses none. The job reads every configured
portal's whole log, which is small (a newsroom's hand-made changes), so a change whose
transaction committed after a later-stamped one is never skipped; it merges the changes by
their log id, unique per portal, so a rerun adds nothing twice. The rows name machine
clients and articles, never a reader: the erasure has nothing to do here.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from delta.tables import DeltaTable
from pyspark.sql import DataFrame, SparkSession

from newslake import aws, editorial_store
from newslake.editorial_store import Change
from newslake.settings import Settings
from spark_jobs import delta_io
from spark_jobs.tables import editorial_audit_path

SCHEMA = (
    "portal string, log_id string, action string, article_id string, changed_by string, "
    "changed_at timestamp, reason string, until timestamp, window_start timestamp, "
    "window_end timestamp, position int, share double, sections array<string>, "
    "detail string, audited_at timestamp"
)
KEYS = ("portal", "log_id")


def extract(client: Any, settings: Settings) -> list[Change]:
    """Every configured portal's logged changes, oldest first within a portal."""
    table = settings.recommendations_table
    return [c for p in settings.portals for c in editorial_store.changes(client, table, p)]


def _time(epoch_s: Any) -> datetime | None:
    return datetime.fromtimestamp(float(epoch_s), UTC) if epoch_s is not None else None


def audit_row(change: Change, audited_at: datetime) -> tuple[Any, ...]:
    """A change as an audit row: the control's fields out of its logged JSON, which stays
    whole in ``detail`` so a field added later is not lost."""
    fields = json.loads(change.detail or "{}")
    position, share = fields.get("position"), fields.get("share")
    return (
        change.portal,
        change.log_id,
        change.action,
        change.article_id,
        change.by,
        datetime.fromtimestamp(change.at_ms / 1000, UTC),
        change.reason or fields.get("reason") or None,
        _time(fields.get("until")),
        _time(fields.get("start")),
        _time(fields.get("end")),
        int(position) if position is not None else None,
        float(share) if share is not None else None,
        [str(s) for s in fields["sections"]] if "sections" in fields else None,
        change.detail,
        audited_at,
    )


def transform(spark: SparkSession, changes: Iterable[Change], audited_at: datetime) -> DataFrame:
    return spark.createDataFrame([audit_row(c, audited_at) for c in changes], SCHEMA)


def load(rows: DataFrame, path: str) -> int:
    """Insert the changes the table lacks (by portal and log id); returns how many."""
    spark = rows.sparkSession
    if not DeltaTable.isDeltaTable(spark, path):
        delta_io.append(rows, path)
        return int(spark.read.format("delta").load(path).count())
    condition = " AND ".join(f"t.`{k}` = s.`{k}`" for k in KEYS)
    table = DeltaTable.forPath(spark, path)
    table.alias("t").merge(rows.alias("s"), condition).whenNotMatchedInsertAll().execute()
    last = table.history(1).first()
    metrics = (last["operationMetrics"] if last is not None else None) or {}
    return int(metrics.get("numTargetRowsInserted", 0))


def run(spark: SparkSession, settings: Settings, *, now: datetime | None = None) -> dict[str, Any]:
    """The audit table brought up to the change log; returns the rows added and read."""
    changes = extract(aws.client("dynamodb", settings), settings)
    audited_at = now or datetime.now(UTC)
    added = load(transform(spark, changes, audited_at), editorial_audit_path(settings))
    return {"changes": len(changes), "added": added}
