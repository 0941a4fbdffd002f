"""The experiments as the service applies them: which variant a request is in, and the
list that variant's overrides make.

The definitions and the assignment are ``newslake.experiments`` (the analysis assigns
with the same function); here each variant of the reader's route becomes the recommender
method that answers it, built once at start-up:

* weight overrides (``reader_w_*``, ``reader_last_reads``, ``reader_read_decay``): the
  reader's list fused with the settings' params changed by them;
* ``reader_mode: nightly``: the nightly list as served before the request-time list.

The article page (``related``) is only assigned so far: its variants change nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from newslake.experiments import (
    ROUTES,
    Experiment,
    OverrideValue,
    assign,
    enabled_on,
)
from newslake.ranking import ReaderParams
from serving.recommender import Answer, Recommender

ReaderList = Callable[[str, str, int], Answer]
"""A way to answer a reader: ``(portal, user_id, limit) -> Answer``."""

READER_MODE = "reader_mode"
# The override keys of the reader's route, as fields of ranking.ReaderParams.
READER_PARAMS = {
    "reader_w_covisited": "covisited",
    "reader_w_hot": "hot",
    "reader_w_trending": "trending",
    "reader_w_personal": "personal",
    "reader_w_popular": "popular",
    "reader_last_reads": "last_reads",
    "reader_read_decay": "read_decay",
}


@dataclass(frozen=True)
class Assignment:
    """The variant a request is in, as answers and impressions name it."""

    experiment: str
    name: str


def reader_params(base: ReaderParams, overrides: Mapping[str, OverrideValue]) -> ReaderParams:
    """``base`` with a variant's weight overrides applied (its mode is not a param)."""
    changes: dict[str, Any] = {
        READER_PARAMS[k]: v for k, v in overrides.items() if k != READER_MODE
    }
    return replace(base, **changes)


def reader_list_of(
    recommender: Recommender, base: ReaderParams, overrides: Mapping[str, OverrideValue]
) -> ReaderList:
    """How a variant with these overrides answers a reader."""
    params = reader_params(base, overrides)
    fixed = "reader_w_personal" in overrides
    variant = (
        recommender
        if params == base and not fixed
        else recommender.with_reader_params(params, personal_fixed=fixed)
    )
    if overrides.get(READER_MODE) == "nightly":
        return variant.nightly_for_user
    return variant.for_user


class Experiments:
    """The enabled experiments of the service, by route, and the reader's list of each
    variant of the reader's route.

    Args:
        experiments: the settings' experiments (disabled ones are ignored).
        recommender: the service's recommender; variants share its store and caches.
        base: the reader's params from settings, which a variant's overrides change.
    """

    def __init__(
        self, experiments: Sequence[Experiment], recommender: Recommender, base: ReaderParams
    ) -> None:
        self._by_route = {route: e for route in ROUTES if (e := enabled_on(experiments, route))}
        self._default: ReaderList = recommender.for_user
        self._reader_lists: dict[Assignment, ReaderList] = {}
        if (reader := self._by_route.get("reader")) is not None:
            self._reader_lists = {
                Assignment(reader.name, v.name): reader_list_of(recommender, base, v.overrides)
                for v in reader.variants
            }

    def assign(self, route: str, reader_id: str | None) -> Assignment | None:
        """The variant of ``reader_id`` in the experiment covering ``route``; None when no
        enabled experiment covers it or the reader is not known."""
        experiment = self._by_route.get(route)
        if experiment is None or reader_id is None:
            return None
        return Assignment(experiment.name, assign(experiment, reader_id).name)

    def reader_list(self, assignment: Assignment | None) -> ReaderList:
        """What answers a reader in ``assignment`` (no assignment: the default list)."""
        if assignment is None:
            return self._default
        return self._reader_lists.get(assignment, self._default)
