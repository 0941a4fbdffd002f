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
        profile="local",  # never the real AWS, whatever the environment says
        cognito_user_pool_id=None,
        cognito_client_ids=(),
        cognito_issuer=None,
        cognito_jwks_url=None,
        moto_port=free_port(),
        state_dir=state_dir,
        serve_port=free_port(),
        **overrides,  # type: ignore[arg-type]
    )


def start_platform(state_dir: Path) -> Settings:
    """A provisioned moto server of its own on a free port; stop it with ``server.stop``."""
    settings = platform_settings(state_dir)
    server.start(settings)
    try:
        provision.provision(settings)
    except BaseException:
        server.stop(settings)
        raise
    return settings


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
def spark(local_platform: Settings, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """The run's only SparkSession: local[2], UI off, Delta, s3a at the tests' moto server."""
    from spark_jobs.session import get_spark

    session = get_spark(
        local_platform, app_name="newslake-tests", local_dir=tmp_path_factory.mktemp("spark-local")
    )
    yield session
    session.stop()
