"""newslake_nightly end to end in local mode: synthetic tracker events land through the
pageview handler and the local Firehose, then ``dag.test()`` (Airflow venv) runs every stage
with spark-submit against a moto server of its own, and the serving store's pointers move.
A second run on a day without data fails at ``check`` and moves no pointer."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from ingestion import handler, local_firehose
from ingestion.synthetic import TrafficSpec, generate
from newslake import aws, versions
from newslake.local import provision, server
from newslake.settings import Settings
from tests.utils.platform import platform_settings

pytestmark = [pytest.mark.slow, pytest.mark.e2e]

PORTALS = ("g1",)  # the fake-runner runs cover several portals; each stage here costs a JVM
END = datetime(2026, 3, 3, 3, 30, tzinfo=UTC)
VERSION = "v20260303T033000Z"
# Readers who stick to their sections and a flat popularity curve: personal lists (the
# blend) beat the trending and popular baselines, so the gate promotes. With the
# generator's defaults at this size, trending wins and the gate rightly rejects.
SPEC = TrafficSpec(
    end=END,
    portals=PORTALS,
    days=2.0,
    users_per_portal=80,
    articles_per_portal=60,
    zipf_exponent=0.6,
    section_affinity=40.0,
    seed=11,
)


@pytest.fixture(scope="module")
def landed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """A platform of its own with two days of synthetic traffic in the landing bucket."""
    settings = platform_settings(tmp_path_factory.mktemp("airflow-e2e"), portals=PORTALS)
    server.start(settings)
    try:
        provision.provision(settings)
        sqs = aws.client("sqs", settings)
        clients = handler.Clients(
            aws.client("kinesis", settings),
            sqs,
            sqs.get_queue_url(QueueName=settings.retry_queue_name)["QueueUrl"],
        )
        events = list(generate(SPEC))
        for i in range(0, len(events), 100):
            body = json.dumps({"events": [e.model_dump() for e in events[i : i + 100]]})
            status, out = handler.accept(body, settings, clients, int(END.timestamp() * 1000))
            assert status == 200, out
        delivered = local_firehose.deliver(
            settings, aws.client("kinesis", settings), aws.client("s3", settings)
        )
        assert delivered.records == len(events)
        yield settings
    finally:
        server.stop(settings)


def _env(settings: Settings) -> dict[str, str]:
    return {
        "NEWSLAKE_PROFILE": "local",
        "NEWSLAKE_MOTO_PORT": str(settings.moto_port),
        "NEWSLAKE_STATE_DIR": str(settings.state_dir),
        "NEWSLAKE_PORTALS": ",".join(PORTALS),
        "NEWSLAKE_AIRFLOW_RETRIES": "0",  # dag.test() would wait out every retry delay
        # Personal weights, as a search would choose them for readers who stick to their
        # sections; the default (hot alone, chosen on G1) only ties the baselines here.
        "NEWSLAKE_BLEND_W_HOT": "0",
        "NEWSLAKE_BLEND_W_TRENDING": "1",
        "NEWSLAKE_BLEND_W_COVISIT": "1",
        "NEWSLAKE_BLEND_W_ALS": "0.25",
    }


def _pointers(settings: Settings) -> dict[str, str | None]:
    ddb = aws.client("dynamodb", settings)
    return {p: versions.active_version(ddb, settings.versions_table, p) for p in PORTALS}


@pytest.fixture(scope="module")
def nightly_run(landed: Settings, run_dag: Any) -> Any:
    assert _pointers(landed) == {"g1": None}
    # OPTIMIZE and VACUUM cost a JVM and are tested in tests/spark_jobs/test_maintenance.py.
    return run_dag(END.isoformat(), _env(landed), mark_success="maintain", timeout_s=1800)


def test_every_stage_succeeds(nightly_run: Any) -> None:
    assert nightly_run.state == "success", nightly_run.log[-6000:]
    assert set(nightly_run.tasks.values()) == {"success"}


def test_each_portal_serves_the_new_version(landed: Settings, nightly_run: Any) -> None:
    assert _pointers(landed) == {"g1": VERSION}
    assert f"g1: now serves {VERSION} (was none); gate promote" in nightly_run.log


def test_a_day_without_data_fails_at_check_and_keeps_the_versions(
    landed: Settings, nightly_run: Any, run_dag: Any
) -> None:
    before = _pointers(landed)
    run = run_dag("2026-03-20T03:30:00+00:00", _env(landed), timeout_s=900)
    assert (run.state, run.tasks["check"], run.tasks["summary"]) == ("failed", "failed", "failed")
    beside = {"catch_up", "check", "summary", "rec_performance", "editorial_audit"}
    after_check = {k: v for k, v in run.tasks.items() if k not in beside}
    assert set(after_check.values()) == {"upstream_failed"}, after_check
    assert "check: the day's silver data is missing" in run.log
    assert _pointers(landed) == before
