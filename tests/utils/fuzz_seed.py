"""The fuzz suite's seed for this run, kept apart from Hypothesis so that the shared
conftest (which prints it) loads where Hypothesis is not installed (the Airflow venv).

Under ``CI=true`` the seed is fixed (0), so CI draws the same cases every run; elsewhere
each run draws a new seed. ``NEWSLAKE_FUZZ_SEED=<n>`` replays a run.
"""

from __future__ import annotations

import os
import secrets

SEED_VARIABLE = "NEWSLAKE_FUZZ_SEED"
IN_CI = os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def _run_seed() -> int:
    given = os.environ.get(SEED_VARIABLE, "").strip()
    if given:
        return int(given)
    return 0 if IN_CI else secrets.randbelow(2**32)


SEED = _run_seed()
REPLAY = f"{SEED_VARIABLE}={SEED} replays this run's cases"
