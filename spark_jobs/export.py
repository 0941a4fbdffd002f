"""Publish a model version to the serving store: items first, then the pointer, atomically.

Items are written with ``BatchWriteItem`` from the executors, retrying unprocessed items with
exponential backoff. Only when every item is in does :func:`switch_active_version` move the
portal's pointer, in one conditional write; a failure before that leaves the version in
service untouched, and the half-written items expire by TTL.

The articles the newsroom blocked are left out of every list exported
(:mod:`spark_jobs.editorial_filter`), the portal's controls read once per export.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from pyspark.sql import DataFrame, Row, SparkSession
from pyspark.sql import functions as F

from newslake import aws, editorial_store, store
from newslake.editorial_store import ControlsStoreError
from newslake.errors import NewslakeError
from newslake.settings import Settings

# The pointer lives in a module without pyspark, for orchestrators; re-exported here.
from newslake.versions import VersionSwitchError, active_version, switch, switch_active_version
from spark_jobs import columns as C
from spark_jobs import gold
from spark_jobs.editorial_filter import Blocked, without_blocked
from spark_jobs.tables import GoldPaths

__all__ = [
    "ExportError",
    "VersionSwitchError",
    "active_version",
    "export_version",
    "publish_lists",
    "switch",
    "switch_active_version",
    "write_batch",
]

BATCH_WRITE_MAX = 25


class ExportError(NewslakeError):
    """The store refused items or the pointer switch; the active version is unchanged."""


def write_batch(
    ddb: Any,
    table: str,
    records: Iterable[dict[str, Any]],
    *,
    max_attempts: int = 8,
    base_delay_s: float = 0.05,
) -> int:
    """BatchWriteItem in chunks of 25, retrying unprocessed items with exponential backoff.

    Returns the number of items written. Raises ExportError when items stay unprocessed.
    """
    written = 0
    chunk: list[dict[str, Any]] = []

    def put(pending: list[dict[str, Any]]) -> list[dict[str, Any]]:
        resp = ddb.batch_write_item(RequestItems={table: pending})
        return resp.get("UnprocessedItems", {}).get(table, [])

    def flush(items: list[dict[str, Any]]) -> None:
        requests = [{"PutRequest": {"Item": i}} for i in items]
        _until_processed(
            put, requests, max_attempts, base_delay_s, f"items stayed unprocessed in {table}"
        )

    for record in records:
        chunk.append(record)
        if len(chunk) == BATCH_WRITE_MAX:
            flush(chunk)
            written += len(chunk)
            chunk = []
    if chunk:
        flush(chunk)
        written += len(chunk)
    return written


def ranked_lists(df: DataFrame, *keys: str) -> DataFrame:
    """(keys..., items[]) with each key's rows as an array sorted by rank."""
    return df.groupBy(*keys).agg(
        F.array_sort(F.collect_list(F.struct(C.RANK, C.ARTICLE_ID, C.SCORE))).alias("items")
    )


class RowKey:
    """The store key of a row: ``key_fn(row[col], ...)``; picklable, so it ships to executors.

    ``RowKey(store.user_key, "portal", "user_id")`` gives ``g1#user#u1`` for that row.
    """

    def __init__(self, key_fn: Callable[..., str], *columns: str) -> None:
        self.key_fn, self.columns = key_fn, columns

    def __call__(self, row: Row) -> str:
        return self.key_fn(*(row[c] for c in self.columns))


def read_items(
    ddb: Any,
    table: str,
    keys: list[dict[str, Any]],
    *,
    max_attempts: int = 8,
    base_delay_s: float = 0.05,
) -> dict[tuple[str, str], list[store.ScoredItem]]:
    """BatchGetItem in chunks of 100, retrying unprocessed keys with exponential backoff:
    the scored items of each record found, by (pk, sk).

    Raises ExportError when keys stay unprocessed.
    """
    found: dict[tuple[str, str], list[store.ScoredItem]] = {}

    def get(pending: list[dict[str, Any]]) -> list[dict[str, Any]]:
        resp = ddb.batch_get_item(RequestItems={table: {"Keys": pending}})
        for record in resp.get("Responses", {}).get(table, []):
            found[store.record_id_of(record)] = store.items_of(record)
        return resp.get("UnprocessedKeys", {}).get(table, {}).get("Keys", [])

    failure = f"keys of {table} stayed unprocessed"
    for start in range(0, len(keys), 100):
        _until_processed(get, keys[start : start + 100], max_attempts, base_delay_s, failure)
    return found


def _until_processed(
    send: Callable[[list[dict[str, Any]]], list[dict[str, Any]]],
    pending: list[dict[str, Any]],
    max_attempts: int,
    base_delay_s: float,
    failure: str,
) -> None:
    """Send ``pending``, then what the store left unprocessed, sleeping
    ``base_delay_s * 2**attempt`` between tries; after ``max_attempts`` tries, ExportError
    saying how many are left and then ``failure``."""
    for attempt in range(max_attempts):
        pending = send(pending)
        if not pending:
            return
        time.sleep(base_delay_s * 2**attempt)
    raise ExportError(f"{len(pending)} {failure}")


def _records(
    rows: Iterator[Row], pk_of: RowKey, version: str, expires_at: int
) -> Iterator[dict[str, Any]]:
    for row in rows:
        items = [store.ScoredItem(str(i[C.ARTICLE_ID]), float(i[C.SCORE])) for i in row["items"]]
        yield store.item_record(pk_of(row), version, items, expires_at)


def dynamodb_client(settings: Settings) -> Any:
    return aws.client("dynamodb", settings)


ClientFactory = Callable[[Settings], Any]


def write_lists(
    lists: DataFrame,
    settings: Settings,
    pk_of: RowKey,
    version: str,
    expires_at: int,
    *,
    client_factory: ClientFactory = dynamodb_client,
) -> int:
    """Write (key..., items[]) rows from the executors, each partition with its own client
    (``client_factory(settings)``, picklable; tests pass one that fails)."""
    conf = settings.model_dump()
    table = settings.recommendations_table
    written = lists.sparkSession.sparkContext.accumulator(0)

    def write_partition(rows: Iterator[Row]) -> None:
        local = Settings(**conf)
        written.add(
            write_batch(client_factory(local), table, _records(rows, pk_of, version, expires_at))
        )

    lists.foreachPartition(write_partition)
    return int(written.value)


def publish_lists(
    df: DataFrame,
    settings: Settings,
    pk_of: RowKey,
    version: str,
    expires_at: int,
    *,
    client_factory: ClientFactory = dynamodb_client,
) -> int:
    """Rank-ordered rows (keys..., rank, article_id, score) to the store, one item per key.
    Returns the items written."""
    return write_lists(
        ranked_lists(df, *pk_of.columns),
        settings,
        pk_of,
        version,
        expires_at,
        client_factory=client_factory,
    )


def export_version(
    spark: SparkSession,
    settings: Settings,
    portal: str,
    version: str,
    expires_at: int,
    *,
    client_factory: ClientFactory = dynamodb_client,
) -> dict[str, int]:
    """Write a portal's version (personal lists, popular, related, and the weights the
    gate earned) to the store, less the articles blocked now; the pointer is not touched.
    Returns the items written per list.

    The version's lists rank ``published_depth`` deep (``top_n`` and spare ranks), so a
    list keeps ``top_n`` articles while it held no more blocked ones than spare ranks.

    Raises:
        ExportError: the version was not promoted by the gate, has no lists, or the
            portal's editorial controls could not be read.
    """
    paths = GoldPaths.of(settings)
    decision = gold.gate_decision(spark, paths.model_runs, portal, version)
    if decision != "promote":
        raise ExportError(
            f"{portal} {version}: the gate decision is {decision or 'missing'}, not promote; "
            "only a promoted version is exported (run the train stage first)"
        )
    lists = {
        "personal": (paths.recommendations, RowKey(store.user_key, C.PORTAL, C.USER_ID)),
        "popular": (paths.popular, RowKey(store.popular_key, C.PORTAL)),
        "related": (paths.related, RowKey(store.related_key, C.PORTAL, C.SOURCE_ARTICLE)),
    }
    blocked = blocked_now(settings, portal)
    counts: dict[str, int] = {}
    for name, (path, key) in lists.items():
        rows = gold.version_rows(spark, path, portal, version)
        if rows is None:
            raise ExportError(f"{portal} {version}: {path} does not exist")
        rows = rows.transform(without_blocked(blocked, settings.top_n, key.columns))
        if name == "popular":
            rows = rows.withColumn(C.SCORE, F.col(C.VIEWS).cast("double"))
        counts[name] = publish_lists(
            rows, settings, key, version, expires_at, client_factory=client_factory
        )
    weights = [
        store.ScoredItem("personal", gold.earned_weight(spark, paths.model_runs, portal, version))
    ]
    record = store.item_record(store.weights_key(portal), version, weights, expires_at)
    table = settings.recommendations_table
    counts["weights"] = write_batch(client_factory(settings), table, [record])
    return counts


def blocked_now(settings: Settings, portal: str) -> Blocked:
    """The portal's articles blocked now, read from the serving store.

    Raises:
        ExportError: the controls could not be read. Failing is the safe side: the version
            in service stays and serving keeps applying its copy of the controls, where
            exporting unfiltered lists would put taken-down articles back in the store.
    """
    table = settings.recommendations_table
    try:
        controls = editorial_store.load(dynamodb_client(settings), table, portal)
    except ControlsStoreError as exc:
        raise ExportError(
            f"{portal}: the editorial controls could not be read, so nothing is exported and "
            f"the version in service stays; run the export again once the store answers ({exc})"
        ) from exc
    return {portal: controls.blocked(time.time())}


def publish_small_lists(
    df: DataFrame, ddb: Any, table: str, pk_of: RowKey, version: str, expires_at: int
) -> int:
    """Like :func:`publish_lists` for lists small enough to gather on the driver: one client,
    no per-partition set-up, which is what a streaming micro-batch wants. Returns items."""
    rows = ranked_lists(df, *pk_of.columns).collect()
    return write_batch(ddb, table, _records(iter(rows), pk_of, version, expires_at))
