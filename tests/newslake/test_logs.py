from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from newslake import logs


@pytest.fixture
def py4j_level() -> Iterator[None]:
    before = logging.getLogger("py4j").level
    yield
    logging.getLogger("py4j").setLevel(before)


@pytest.mark.usefixtures("py4j_level")
def test_the_jobs_log_at_info_and_py4j_only_from_warning(caplog: pytest.LogCaptureFixture):
    logs.configure()
    with caplog.at_level(logging.INFO):
        logging.getLogger("py4j.java_gateway").info("Callback Server Starting")
        logging.getLogger("py4j.java_gateway").warning("the gateway is gone")
        logging.getLogger("newslake.nightly").info("stage catch_up ...")
    assert [(r.name, r.getMessage()) for r in caplog.records] == [
        ("py4j.java_gateway", "the gateway is gone"),
        ("newslake.nightly", "stage catch_up ..."),
    ]
