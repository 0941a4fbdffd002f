"""Where every Delta table of the lake lives, derived from settings in one place.

Jobs take their paths from here and never from each other, so a job can move, split or be
replaced without its readers noticing; and since every path comes from
``Settings.table_path``, the same job runs against a local lake or one on S3.

The streaming job writes bronze and silver (:class:`StreamPaths`), the nightly run the gold
tables (:class:`GoldPaths`, their rows described in :mod:`spark_jobs.gold`).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from newslake.settings import Settings


@dataclass(frozen=True)
class StreamPaths:
    """Bronze, silver and the landing query's checkpoint."""

    bronze: str
    events: str
    visits: str
    quarantine: str
    ingest_log: str
    checkpoint: str
    impressions: str
    # Its quarantine and its query's checkpoint (spark_jobs/impressions.py).
    impressions_quarantine: str
    impressions_checkpoint: str

    @classmethod
    def of(cls, settings: Settings) -> StreamPaths:
        t = settings.table_path
        return cls(
            bronze=t("bronze", "pageviews"),
            events=t("silver", "events"),
            visits=t("silver", "pageviews"),
            quarantine=t("silver", "quarantine"),
            ingest_log=t("silver", "ingest_log"),
            checkpoint=t("_checkpoints", "landing_pageviews"),
            impressions=t("silver", "impressions"),
            impressions_quarantine=t("silver", "impressions_quarantine"),
            impressions_checkpoint=t("_checkpoints", "landing_impressions"),
        )

    def silver_tables(self) -> tuple[str, ...]:
        return (self.events, self.visits, self.quarantine, self.ingest_log)

    def tables(self) -> dict[str, str]:
        """The Delta tables by name (the checkpoint is not one)."""
        return {
            "bronze.pageviews": self.bronze,
            "silver.events": self.events,
            "silver.pageviews": self.visits,
            "silver.quarantine": self.quarantine,
            "silver.ingest_log": self.ingest_log,
            "silver.impressions": self.impressions,
            "silver.impressions_quarantine": self.impressions_quarantine,
        }


@dataclass(frozen=True)
class GoldPaths:
    """The nightly run's tables: published lists, its inputs and its records."""

    interactions: str
    popular: str
    trending: str
    recommendations: str
    related: str
    id_map: str
    hyperparams: str
    model_runs: str
    rec_performance: str
    rec_checks: str
    experiment_results: str

    @classmethod
    def of(cls, settings: Settings) -> GoldPaths:
        """Each table at ``gold/<field name>``."""
        return cls(**{f.name: settings.table_path("gold", f.name) for f in fields(cls)})

    def tables(self) -> dict[str, str]:
        return {f"gold.{name}": path for name, path in self.__dict__.items()}


def editorial_audit_path(settings: Settings) -> str:
    """The newsroom's changes to the editorial controls (spark_jobs/editorial_audit.py)."""
    return settings.table_path("silver", "editorial_audit")


def lake_tables(settings: Settings) -> dict[str, str]:
    """Every Delta table newslake writes, by name."""
    return {
        **StreamPaths.of(settings).tables(),
        **GoldPaths.of(settings).tables(),
        "silver.editorial_audit": editorial_audit_path(settings),
    }
