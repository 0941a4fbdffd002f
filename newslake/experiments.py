"""A/B experiments on the served lists: their definition, its checks, and who sees what.

An experiment covers one route (``reader``: a reader's list, ``related``: the article
page) and splits readers between variants by traffic share; a variant may change how the
route builds its list (its ``overrides``). Which variant a reader sees is
:func:`assign`: a hash of the experiment's name and the reader's id, so serving and the
lake's analysis, given the same two strings, put the reader in the same variant without
storing an assignment anywhere.

Definitions are checked when built (settings build them at load), so a bad one stops the
service at start with one line saying what is wrong (:class:`ExperimentError`).

Kept free of settings and serving: settings parse their ``experiments`` field with it,
serving applies the overrides, the analysis calls :func:`assign`.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeGuard

from newslake.errors import NewslakeError

ROUTES = ("reader", "related")
"""The routes an experiment may cover: a reader's list and the article page."""
NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")
NAME_RULE = "1 to 40 lower-case letters, digits or '-', starting with a letter or digit"
READER_MODES = ("request_time", "nightly")
"""``request_time``: the reader's list fused when asked (the default); ``nightly``: the
nightly personal list as served before it, topped up with trending and popular."""
SHARE_TOLERANCE = 1e-9

OverrideValue = float | int | str


class ExperimentError(NewslakeError, ValueError):
    """A bad experiment definition. A ValueError too, so settings report it as a bad field."""


def _weight(value: object) -> str | None:
    ok = _is_number(value) and math.isfinite(value) and value >= 0
    return None if ok else "a number >= 0"


def _last_reads(value: object) -> str | None:
    ok = isinstance(value, int) and not isinstance(value, bool) and value >= 1
    return None if ok else "an integer >= 1"


def _decay(value: object) -> str | None:
    ok = _is_number(value) and 0 <= value <= 1
    return None if ok else "a number from 0 to 1"


def _mode(value: object) -> str | None:
    return None if value in READER_MODES else f"one of {', '.join(READER_MODES)}"


def _is_number(value: object) -> TypeGuard[float | int]:
    return isinstance(value, int | float) and not isinstance(value, bool)


# What a variant may change, per route, each with the rule its value follows (the same
# bounds as the settings fields of the same names).
OVERRIDES: dict[str, dict[str, Callable[[object], str | None]]] = {
    "reader": {
        "reader_w_covisited": _weight,
        "reader_w_hot": _weight,
        "reader_w_trending": _weight,
        "reader_w_personal": _weight,
        "reader_w_popular": _weight,
        "reader_last_reads": _last_reads,
        "reader_read_decay": _decay,
        "reader_mode": _mode,
    },
    "related": {},  # the article page is assigned, nothing of it can be changed yet
}


def _check_name(what: str, name: object) -> None:
    if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name):
        raise ExperimentError(f"{what} name {name!r} is not {NAME_RULE}")


@dataclass(frozen=True)
class Variant:
    """One arm of an experiment: its name, the share of readers it gets (0..1) and what it
    changes (keys of ``OVERRIDES`` for the experiment's route; none: the default list)."""

    name: str
    share: float
    overrides: Mapping[str, OverrideValue] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _check_name("variant", self.name)
        if not _is_number(self.share) or not 0 <= self.share <= 1:
            raise ExperimentError(
                f"variant {self.name!r}: share {self.share!r} is not a number from 0 to 1"
            )


@dataclass(frozen=True)
class Experiment:
    """An experiment on one route; ``enabled`` false serves everyone the default list."""

    name: str
    route: str
    enabled: bool
    variants: tuple[Variant, ...]

    def __post_init__(self) -> None:
        _check_name("experiment", self.name)
        where = f"experiment {self.name!r}"
        if self.route not in ROUTES:
            raise ExperimentError(
                f"{where}: route {self.route!r} is not one of {', '.join(ROUTES)}"
            )
        if not isinstance(self.enabled, bool):
            raise ExperimentError(f"{where}: enabled must be true or false")
        if not self.variants:
            raise ExperimentError(f"{where}: has no variants; give at least one")
        names = [v.name for v in self.variants]
        if len(set(names)) != len(names):
            raise ExperimentError(f"{where}: variant names repeat: {', '.join(names)}")
        total = sum(v.share for v in self.variants)
        if abs(total - 1) > SHARE_TOLERANCE:
            raise ExperimentError(f"{where}: the variants' shares sum to {total:g}, not 1")
        for variant in self.variants:
            _check_overrides(where, self.route, variant)


def _check_overrides(where: str, route: str, variant: Variant) -> None:
    rules = OVERRIDES[route]
    for key, value in variant.overrides.items():
        if key not in rules:
            known = ", ".join(rules) or "none yet"
            raise ExperimentError(
                f"{where}, variant {variant.name!r}: unknown override {key!r} "
                f"for route {route} (known: {known})"
            )
        rule = rules[key](value)
        if rule is not None:
            raise ExperimentError(
                f"{where}, variant {variant.name!r}: {key} is {value!r}, it must be {rule}"
            )


def check_experiments(experiments: Sequence[Experiment]) -> tuple[Experiment, ...]:
    """The experiments, once their names are unique and each route has at most one
    enabled (a reader cannot be in two splits of the same list)."""
    names = [e.name for e in experiments]
    if len(set(names)) != len(names):
        raise ExperimentError(f"experiment names repeat: {', '.join(names)}")
    for route in ROUTES:
        enabled = [e.name for e in experiments if e.enabled and e.route == route]
        if len(enabled) > 1:
            raise ExperimentError(
                f"experiments {', '.join(enabled)} are all enabled on route {route}: "
                "enable at most one per route"
            )
    return tuple(experiments)


def _keys(where: str, raw: object, required: set[str], optional: set[str]) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise ExperimentError(f"{where} must be a JSON object, got {type(raw).__name__}")
    unknown = sorted(set(raw) - required - optional)
    if unknown:
        raise ExperimentError(f"{where}: unknown keys {', '.join(unknown)}")
    missing = sorted(required - set(raw))
    if missing:
        raise ExperimentError(f"{where}: missing {', '.join(missing)}")
    return raw


def _variant(where: str, raw: object) -> Variant:
    spec = _keys(f"{where}: a variant", raw, {"name", "share"}, {"overrides"})
    overrides = spec.get("overrides", {})
    if not isinstance(overrides, dict):
        raise ExperimentError(f"{where}, variant {spec['name']!r}: overrides must be an object")
    try:
        return Variant(spec["name"], spec["share"], dict(overrides))
    except ExperimentError as exc:
        raise ExperimentError(f"{where}: {exc}") from None


def _experiment(raw: object) -> Experiment:
    if isinstance(raw, Experiment):
        return raw
    spec = _keys("an experiment", raw, {"name", "route", "enabled", "variants"}, set())
    where = f"experiment {spec['name']!r}"
    if not isinstance(spec["variants"], list | tuple):
        raise ExperimentError(f"{where}: variants must be a list")
    variants = tuple(_variant(where, v) for v in spec["variants"])
    return Experiment(spec["name"], spec["route"], spec["enabled"], variants)


def experiments_from(value: object) -> tuple[Experiment, ...]:
    """Experiments from JSON text (``NEWSLAKE_EXPERIMENTS``), a list of JSON-like objects
    (``{"name", "route", "enabled", "variants": [{"name", "share", "overrides"}]}``) or
    of Experiments, checked.

    Raises:
        ExperimentError: what is wrong, in one line.
    """
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            raise ExperimentError(f"experiments are not valid JSON: {exc}") from None
    if not isinstance(value, list | tuple):
        raise ExperimentError("experiments must be a JSON list of experiments")
    return check_experiments([_experiment(raw) for raw in value])


def bucket(experiment: str, reader_id: str) -> float:
    """Where a reader falls in an experiment, in [0, 1): the first 8 bytes of
    sha256("<experiment>:<reader_id>") as a big-endian integer, over 2**64. A reader's
    point differs between experiments, so one experiment's split does not repeat another's."""
    digest = hashlib.sha256(f"{experiment}:{reader_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def assign(experiment: Experiment, reader_id: str) -> Variant:
    """The reader's variant: the first whose cumulative share passes the reader's
    :func:`bucket`. The same in serving and in the analysis."""
    point = bucket(experiment.name, reader_id)
    cumulative = 0.0
    for variant in experiment.variants:
        cumulative += variant.share
        if point < cumulative:
            return variant
    # Shares summing to a hair under 1 leave the top sliver: it goes to the last that has any.
    return [v for v in experiment.variants if v.share > 0][-1]


def enabled_on(experiments: Sequence[Experiment], route: str) -> Experiment | None:
    """The enabled experiment covering ``route``, if any."""
    return next((e for e in experiments if e.enabled and e.route == route), None)
