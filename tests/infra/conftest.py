"""One synthesis of the whole app per test session, shared by every template test
(the app's context and the ``Synthesized`` view are in tests/utils/cdk_app.py)."""

from __future__ import annotations

import pytest

from tests.utils.cdk_app import Synthesized, synthesize


@pytest.fixture(scope="session")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    return synthesize(tmp_path_factory.mktemp("cdk.out"))
