"""How the fuzz suite draws its cases: few enough to stay within minutes on two cores, from
one seed per run, so that a red run can be replayed.

Under ``CI=true`` the seed is fixed (0), so CI draws the same cases every run; elsewhere
each run draws a new seed. ``NEWSLAKE_FUZZ_SEED=<n>`` replays a run: the seed is in the
header of every pytest run and in the report of every falsifying example.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from hypothesis import HealthCheck, note, seed, settings

from tests.utils.fuzz_seed import REPLAY, SEED

F = TypeVar("F", bound=Callable[..., Any])


def fuzz(max_examples: int) -> Callable[[F], F]:
    """Hypothesis settings of a fuzz test: ``max_examples`` cases from the run's seed, no
    deadline (two busy cores make timings noise) and no example database in the tree."""

    def apply(test: F) -> F:
        configured = settings(
            max_examples=max_examples,
            deadline=None,
            database=None,
            print_blob=True,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        )(test)
        return seed(SEED)(configured)  # type: ignore[no-any-return]

    return apply


def say_seed() -> None:
    """Name the seed in a falsifying example's report (call it inside the test)."""
    note(REPLAY)


def schema_config(max_examples: int, **sections: dict[str, Any]) -> Any:
    """schemathesis settings drawing ``max_examples`` cases per operation and phase from
    the run's seed, with no example database; ``sections`` are more of schemathesis.toml's
    (``checks``, ``parameters``, ``auth``, more ``generation``)."""
    import schemathesis

    generation = {
        "max-examples": max_examples,
        "database": "none",
        **sections.pop("generation", {}),
    }
    return schemathesis.Config.from_dict({"seed": SEED, "generation": generation, **sections})
