"""Experiments: definitions checked at load, and the stable assignment of readers."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from typing import Any

import pytest
from pydantic import ValidationError

from newslake.errors import NewslakeError
from newslake.experiments import (
    Experiment,
    ExperimentError,
    Variant,
    assign,
    enabled_on,
    experiments_from,
)
from newslake.settings import Settings

HALVES = Experiment(
    "reader-list",
    "reader",
    enabled=True,
    variants=(Variant("request-time", 0.5), Variant("nightly", 0.5, {"reader_mode": "nightly"})),
)
THIRDS = Experiment(
    "ab-3", "reader", True, (Variant("a", 0.2), Variant("b", 0.3), Variant("c", 0.5))
)


# ---- assignment ---------------------------------------------------------------------------
# Worked out once with the formula: sha256("<experiment>:<reader>"), its first 8 bytes (16
# hex digits) as a big-endian integer over 2**64, against the cumulative shares.
@pytest.mark.parametrize(
    ("experiment", "reader", "first_8_bytes", "variant"),
    [
        (HALVES, "alice", "d3d0d9f5f144a1b7", "nightly"),  # 0.8274 >= 0.5
        (HALVES, "bob", "781bd0df680d49c5", "request-time"),  # 0.4692 < 0.5
        (HALVES, "dave", "037ebcae3bba5e38", "request-time"),  # 0.0137
        (HALVES, "u-1", "ae6bd504a0607177", "nightly"),  # 0.6813
        (THIRDS, "u-2", "0c56024c91f20d54", "a"),  # 0.0482 < 0.2
        (THIRDS, "carol", "1c430b9eee32baae", "a"),  # 0.1104 < 0.2
        (THIRDS, "bob", "6c24fd3b11097a85", "b"),  # 0.2 <= 0.4224 < 0.5
        (THIRDS, "dave", "84b9c4ffe8aa88dd", "c"),  # 0.5185 >= 0.5
    ],
)
def test_a_reader_lands_where_the_hash_formula_puts_them(
    experiment: Experiment, reader: str, first_8_bytes: str, variant: str
) -> None:
    digest = hashlib.sha256(f"{experiment.name}:{reader}".encode()).hexdigest()

    assert digest[:16] == first_8_bytes
    assert assign(experiment, reader).name == variant


def test_assignment_is_stable_across_calls_and_copies_of_the_experiment() -> None:
    copy = experiments_from(
        json.dumps(
            [
                {
                    "name": "reader-list",
                    "route": "reader",
                    "enabled": False,
                    "variants": [
                        {"name": "request-time", "share": 0.5},
                        {"name": "nightly", "share": 0.5},
                    ],
                }
            ]
        )
    )[0]
    readers = [f"reader-{i}" for i in range(200)]

    first = [assign(HALVES, r).name for r in readers]
    assert [assign(HALVES, r).name for r in readers] == first
    assert [assign(copy, r).name for r in readers] == first


def test_shares_are_respected_over_20000_readers() -> None:
    counts = Counter(assign(THIRDS, f"synthetic-{i}").name for i in range(20_000))

    # 0.015 is over 5 standard deviations of a share of 20,000 draws
    assert counts["a"] / 20_000 == pytest.approx(0.2, abs=0.015)
    assert counts["b"] / 20_000 == pytest.approx(0.3, abs=0.015)
    assert counts["c"] / 20_000 == pytest.approx(0.5, abs=0.015)


def test_a_variant_with_no_share_gets_no_reader() -> None:
    off = Experiment("ab-off", "reader", True, (Variant("on", 1.0), Variant("off", 0.0)))

    assert {assign(off, f"r-{i}").name for i in range(2000)} == {"on"}


def test_the_enabled_experiment_of_a_route_is_found() -> None:
    disabled = Experiment("old", "reader", False, (Variant("a", 1.0),))

    assert enabled_on([disabled, HALVES], "reader") is HALVES
    assert enabled_on([disabled, HALVES], "related") is None
    assert enabled_on([disabled], "reader") is None


# ---- definitions --------------------------------------------------------------------------
def _definition(**changes: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "name": "reader-list",
        "route": "reader",
        "enabled": True,
        "variants": [
            {"name": "request-time", "share": 0.5},
            {"name": "weights", "share": 0.5, "overrides": {"reader_w_hot": 1.0}},
        ],
    }
    return spec | changes


def _with_override(key: str, value: Any) -> dict[str, Any]:
    return _definition(
        variants=[
            {"name": "a", "share": 0.5},
            {"name": "b", "share": 0.5, "overrides": {key: value}},
        ]
    )


def test_a_definition_in_json_is_read_into_experiments() -> None:
    (experiment,) = experiments_from(json.dumps([_definition()]))

    assert experiment == Experiment(
        "reader-list",
        "reader",
        True,
        (Variant("request-time", 0.5), Variant("weights", 0.5, {"reader_w_hot": 1.0})),
    )


@pytest.mark.parametrize(
    ("definition", "message"),
    [
        (
            [_definition(variants=[{"name": "a", "share": 0.5}, {"name": "b", "share": 0.4}])],
            "experiment 'reader-list': the variants' shares sum to 0.9, not 1",
        ),
        (
            [_definition(name="Reader_List")],
            "experiment name 'Reader_List' is not 1 to 40 lower-case letters, digits or '-'",
        ),
        ([_definition(name="a" * 41)], "experiment name 'aaaaaaaaaa"),
        (
            [_definition(variants=[{"name": "-a", "share": 1}])],
            "variant name '-a' is not 1 to 40",
        ),
        ([_definition(route="home")], "experiment 'reader-list': route 'home' is not one of"),
        (
            [_with_override("reader_w_magic", 1)],
            "experiment 'reader-list', variant 'b': unknown override 'reader_w_magic' for "
            "route reader (known: reader_w_covisited, reader_w_hot,",
        ),
        (
            [_with_override("reader_mode", "weekly")],
            "variant 'b': reader_mode is 'weekly', it must be one of request_time, nightly",
        ),
        ([_with_override("reader_w_trending", -0.1)], "reader_w_trending is -0.1, it must be"),
        ([_with_override("reader_last_reads", 2.5)], "reader_last_reads is 2.5, it must be an"),
        ([_with_override("reader_read_decay", 1.5)], "reader_read_decay is 1.5, it must be a"),
        (
            [_definition(route="related")],
            "unknown override 'reader_w_hot' for route related (known: none yet)",
        ),
        (
            [_definition(variants=[{"name": "a", "share": 0.5}, {"name": "a", "share": 0.5}])],
            "experiment 'reader-list': variant names repeat: a, a",
        ),
        ([_definition(variants=[])], "experiment 'reader-list': has no variants"),
        (
            [_definition(variants=[{"name": "a", "share": 1.5}, {"name": "b", "share": -0.5}])],
            "variant 'a': share 1.5 is not a number from 0 to 1",
        ),
        ([_definition(enabled="yes")], "experiment 'reader-list': enabled must be true or false"),
        ([_definition(colour="red")], "an experiment: unknown keys colour"),
        ([{"name": "x", "route": "reader", "variants": []}], "an experiment: missing enabled"),
        (
            [_definition(), _definition(name="reader-list-2")],
            "experiments reader-list, reader-list-2 are all enabled on route reader: "
            "enable at most one per route",
        ),
        ([_definition(), _definition(enabled=False)], "experiment names repeat"),
        ('[{"name": ', "experiments are not valid JSON"),
        ('{"name": "x"}', "experiments must be a JSON list of experiments"),
    ],
)
def test_a_bad_definition_is_refused_in_one_line_saying_what_is_wrong(
    definition: Any, message: str
) -> None:
    raw = definition if isinstance(definition, str) else json.dumps(definition)

    with pytest.raises(ExperimentError) as caught:
        experiments_from(raw)

    assert message in str(caught.value)
    assert "\n" not in str(caught.value)
    assert isinstance(caught.value, NewslakeError)


def test_two_enabled_experiments_on_different_routes_are_fine() -> None:
    related = _definition(
        name="article-page", route="related", variants=[{"name": "a", "share": 1}]
    )

    assert [e.route for e in experiments_from([_definition(), related])] == ["reader", "related"]


# ---- in settings --------------------------------------------------------------------------
def test_the_default_experiment_is_the_nightly_list_against_request_time_switched_off() -> None:
    assert Settings(_env_file=None).experiments == (
        Experiment(
            "reader-list",
            "reader",
            False,
            (Variant("request-time", 0.5), Variant("nightly", 0.5, {"reader_mode": "nightly"})),
        ),
    )


def test_experiments_come_from_json_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSLAKE_EXPERIMENTS", json.dumps([_definition()]))

    assert [(e.name, e.enabled) for e in Settings().experiments] == [("reader-list", True)]


def test_a_bad_definition_in_the_environment_stops_settings_loading(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("NEWSLAKE_EXPERIMENTS", json.dumps([_definition(route="home")]))

    with pytest.raises(ValidationError, match="route 'home' is not one of reader, related"):
        Settings()
