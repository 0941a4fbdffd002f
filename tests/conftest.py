"""Shared fixtures: one fresh local platform (moto server) and one SparkSession for the run."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from newslake.local import server
from newslake.settings import Settings
from tests.utils import fuzz_seed
from tests.utils.platform import start_platform

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

# Settings a test builds without a state_dir must not write the developer's (.newslake):
# a local service, for one, keeps its impression lines there for `make stream` to land.
_SCRATCH_STATE = tempfile.mkdtemp(prefix="newslake-tests-state-")
os.environ["NEWSLAKE_STATE_DIR"] = _SCRATCH_STATE
atexit.register(shutil.rmtree, _SCRATCH_STATE, ignore_errors=True)


# ---- fuzz suite: the run's seed, so that a red run can be replayed ----
def pytest_report_header() -> str:
    return f"fuzz seed {fuzz_seed.SEED} ({fuzz_seed.REPLAY})"


@pytest.fixture(scope="session")
def local_platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """The run's shared platform: a fresh moto server, provisioned; stopped after the run."""
    settings = start_platform(tmp_path_factory.mktemp("platform"))
    yield settings
    server.stop(settings)


@pytest.fixture
def disposable_platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """A platform for one test that may stop it (the shared one must stay up)."""
    settings = start_platform(tmp_path_factory.mktemp("disposable-platform"))
    yield settings
    server.stop(settings)  # a no-op when the test already stopped it


@pytest.fixture(scope="session")
def spark(
    local_platform: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SparkSession]:
    """The run's only SparkSession: local[2], UI off, Delta, s3a at the tests' moto server."""
    from spark_jobs.session import get_spark

    session = get_spark(
        local_platform, app_name="newslake-tests", local_dir=tmp_path_factory.mktemp("spark-local")
    )
    yield session
    session.stop()
