"""Shared fixtures: one fresh local platform (moto server) and one SparkSession for the run."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from newslake.local import provision, server
from newslake.settings import Settings


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def platform_settings(state_dir: Path, **overrides: object) -> Settings:
    """Settings for a moto server of the tests' own, apart from the one `make up` runs."""
    return Settings(
        moto_port=free_port(),
        state_dir=state_dir,
        serve_port=free_port(),
        **overrides,  # type: ignore[arg-type]
    )


@pytest.fixture(scope="session")
def local_platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """A fresh moto server on a free port, provisioned; stopped after the run."""
    settings = platform_settings(tmp_path_factory.mktemp("platform"))
    server.start(settings)
    provision.provision(settings)
    yield settings
    server.stop(settings)


@pytest.fixture(scope="session")
def spark(local_platform: Settings, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """The run's only SparkSession: local[2], UI off, Delta, s3a at the tests' moto server."""
    from spark_jobs.session import get_spark

    session = get_spark(
        local_platform, app_name="newslake-tests", local_dir=tmp_path_factory.mktemp("spark-local")
    )
    yield session
    session.stop()
