"""make replay-ab on a small replay: the impressions and attributed clicks the lake counts
per variant are the ones worked out by hand from the lists the readers were shown.

The platform holds lists written by the test (no nightly run): trending 100..103,
popular 900, 901, and a personal list 200, 201 for every reader; no session-state poller
runs, so no reader's recent reads change. With three items a list and the reader-list
experiment on, the readers see (their variants written down from ``assign``):

* readers 1 and 3, ``nightly``: their personal list, then trending: 200, 201, 100;
* readers 2 and 4, ``request-time``: the request-time list with no reads, no hot list and
  the personal list at weight 0: trending, 100, 101, 102.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from demo import ab_plan, replay_ab
from demo.servers import running_gateway, running_service
from newslake import aws, store
from newslake.local import provision
from newslake.local.ports import free_port
from newslake.settings import Settings
from tests.evaluation.g1files import H0, HOUR, MIN, session_rows, write

VERSION = "v-replay-ab"
FAR_FUTURE = 4_102_444_800
W = H0 + HOUR  # the window's hourly file starts here
CLICKS = [
    [],  # hourly file 0: no history needed, the lists are written by the test
    [
        # reader 1 (nightly): 201 at 2 and 100 at 3 are clicks on the list, 555 organic
        *session_rows(1, 11, W, [(201, 0), (100, MIN), (555, 2 * MIN)]),
        # reader 2 (request-time): 102 at 3 is a click, 200 is not in their list
        *session_rows(2, 21, W + 10_000, [(102, 0), (200, MIN)]),
        # reader 3 (nightly): 300, organic
        *session_rows(3, 31, W + 20_000, [(300, 0)]),
        # reader 4 (request-time): 100 at 1
        *session_rows(4, 41, W + 30_000, [(100, 0)]),
    ],
]


def _ranked(articles: list[str]) -> list[store.ScoredItem]:
    return [store.ScoredItem(a, float(len(articles) - i)) for i, a in enumerate(articles)]


def _seed(settings: Settings) -> None:
    ddb = aws.client("dynamodb", settings)
    records = [
        store.item_record(
            store.trending_key("g1"), store.LIVE, _ranked(["100", "101", "102", "103"]), FAR_FUTURE
        ),
        store.item_record(store.popular_key("g1"), VERSION, _ranked(["900", "901"]), FAR_FUTURE),
        *(
            store.item_record(
                store.user_key("g1", str(u)), VERSION, _ranked(["200", "201"]), FAR_FUTURE
            )
            for u in (1, 2, 3, 4)
        ),
    ]
    for record in records:
        ddb.put_item(TableName=settings.recommendations_table, Item=record)
    ddb.put_item(
        TableName=settings.versions_table,
        Item={"portal": {"S": "g1"}, "active_version": {"S": VERSION}},
    )


def _settings(local_platform: Settings, tmp_path: Path) -> Settings:
    experiments = ab_plan.experiments_json(Settings().experiments, "reader-list")
    return Settings(
        **{
            **local_platform.model_dump(),
            "name_prefix": "replay-ab-test",
            "portals": ("g1",),
            "lake_uri": f"file://{tmp_path}/lake",
            "state_dir": tmp_path / "state",
            "stream_publish_live": False,
            "experiments": experiments,
            "serve_port": free_port(),
            "gateway_port": free_port(),
        }
    )


def _environment(settings: Settings) -> dict[str, str]:
    """The service's and the gateway's settings: the test's platform and experiment."""
    names = ("profile", "moto_port", "name_prefix", "state_dir", "serve_port", "gateway_port")
    return {
        **ab_plan.environment({n: getattr(settings, n) for n in names}),
        "NEWSLAKE_PORTALS": "g1",
        "NEWSLAKE_EXPERIMENTS": ab_plan.experiments_json(settings.experiments, "reader-list"),
    }


@pytest.mark.slow
def test_the_lake_counts_the_impressions_and_clicks_of_each_variant(
    local_platform: Settings, spark, tmp_path: Path
) -> None:
    settings = _settings(local_platform, tmp_path)
    app = provision.provision(settings)
    _seed(settings)
    args = argparse.Namespace(
        data=write(tmp_path / "g1", CLICKS), first_hour=1, hours=1, history_hours=1,
        readers=10, history_share=0.0, seed=1, speed_up=1000.0, limit=3, workers=2,
        max_seconds=60.0,
    )  # fmt: skip
    found = replay_ab.load_sample(args)
    assert len(found.window) == 7 and found.readers == {1, 2, 3, 4}

    with replay_ab.patched_environ(_environment(settings)):
        tokens = replay_ab.sign_in(settings, app, ["1", "2", "3", "4"])
        with running_service(settings, log=tmp_path / "service.log"), running_gateway(settings):
            tally, _ = replay_ab.send(settings, found.window, tokens, args)
    landed = replay_ab.land(settings, settings.state_dir)
    measured = replay_ab.measure_after(spark, settings, datetime.now(UTC) + timedelta(seconds=1))

    assert tally.as_json() | {"behind_ms": 0} == {
        "lists": {"nightly": 4, "request-time": 3},
        "items": {"nightly": 12, "request-time": 9},
        "clicks": {"nightly": 2, "request-time": 2},
        "organic": 3,
        "list_failures": 0,
        "view_failures": 0,
        "unsent": 0,
        "behind_ms": 0,
    }
    assert landed == {"pageview_records": 7, "impression_lines": 7}
    variants = measured["experiments"]["reader-list"]["variants"]
    assert {v: (r["impressions"], r["clicks"], r["readers"]) for v, r in variants.items()} == {
        "request-time": (9, 2, 2),  # impressions are items shown: 3 lists of 3
        "nightly": (12, 2, 2),
    }
    assert variants["nightly"]["ctr"] == pytest.approx(2 / 12)
    assert variants["request-time"]["ctr"] == pytest.approx(2 / 9)
