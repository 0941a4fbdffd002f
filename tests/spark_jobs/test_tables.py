"""Every table's path comes from one place, under the lake root in settings."""

from __future__ import annotations

from newslake.settings import Settings
from spark_jobs.tables import GoldPaths, StreamPaths, lake_tables


def test_every_table_lies_under_the_lake_root_by_layer_and_name():
    settings = Settings(lake_uri="file:///lake")
    assert StreamPaths.of(settings).visits == "file:///lake/silver/pageviews"
    assert GoldPaths.of(settings).model_runs == "file:///lake/gold/model_runs"
    assert lake_tables(settings) == {
        "bronze.pageviews": "file:///lake/bronze/pageviews",
        "silver.events": "file:///lake/silver/events",
        "silver.pageviews": "file:///lake/silver/pageviews",
        "silver.quarantine": "file:///lake/silver/quarantine",
        "silver.ingest_log": "file:///lake/silver/ingest_log",
        "silver.impressions": "file:///lake/silver/impressions",
        "silver.impressions_quarantine": "file:///lake/silver/impressions_quarantine",
        "gold.interactions": "file:///lake/gold/interactions",
        "gold.popular": "file:///lake/gold/popular",
        "gold.trending": "file:///lake/gold/trending",
        "gold.recommendations": "file:///lake/gold/recommendations",
        "gold.related": "file:///lake/gold/related",
        "gold.id_map": "file:///lake/gold/id_map",
        "gold.hyperparams": "file:///lake/gold/hyperparams",
        "gold.model_runs": "file:///lake/gold/model_runs",
        "gold.rec_performance": "file:///lake/gold/rec_performance",
        "gold.rec_checks": "file:///lake/gold/rec_checks",
        "gold.experiment_results": "file:///lake/gold/experiment_results",
        "silver.editorial_audit": "file:///lake/silver/editorial_audit",
    }


def test_the_checkpoint_is_no_table():
    paths = StreamPaths.of(Settings(lake_uri="file:///lake"))
    assert paths.checkpoint == "file:///lake/_checkpoints/landing_pageviews"
    assert paths.checkpoint not in lake_tables(Settings(lake_uri="file:///lake")).values()
