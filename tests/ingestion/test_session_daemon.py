"""The background poller of `make up`: started, killed without warning, restarted, stopped,
on a platform of its own; what it wrote is exact whatever the kill interrupted."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Iterator

import pytest

from ingestion import session_daemon
from newslake import aws, store
from newslake.local import server
from newslake.settings import Settings
from tests.utils.platform import start_platform
from tests.utils.session_records import data, view

pytestmark = pytest.mark.slow

WAIT_S = 60.0  # what the tests wait for at most; a healthy poller needs about a second


@pytest.fixture()
def platform(tmp_path) -> Iterator[Settings]:
    settings = start_platform(tmp_path)
    yield settings
    session_daemon.stop(settings)
    server.stop(settings)


def _wait_for(check: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {WAIT_S:.0f}s: {what}")
        time.sleep(0.2)


def _hot_views(settings: Settings) -> int:
    items = aws.client("dynamodb", settings).query(
        TableName=settings.recommendations_table,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": store.hot_key("g1")}},
    )["Items"]
    return sum(sum(c.values()) for c in store.hot_counts_of(items).values())


def _readers(settings: Settings) -> int:
    items = aws.client("dynamodb", settings).scan(
        TableName=settings.recommendations_table,
        FilterExpression="begins_with(pk, :p)",
        ExpressionAttributeValues={":p": {"S": "g1#recent#"}},
    )["Items"]
    return len(items)


def _put(settings: Settings, first: int, n: int) -> None:
    kinesis = aws.client("kinesis", settings)
    now = time.time()
    records = [
        {"Data": data(view(f"d{i}", f"u{i}", f"a{i % 7}", now - 1)), "PartitionKey": f"u{i}"}
        for i in range(first, first + n)
    ]
    for start in range(0, n, 500):
        kinesis.put_records(
            StreamName=settings.stream_name("g1"), Records=records[start : start + 500]
        )


def test_start_status_and_stop(platform):
    assert session_daemon.start(platform) is True
    assert session_daemon.start(platform) is False  # already running
    assert session_daemon.running_pid(platform) is not None
    assert session_daemon.log_file(platform).exists()

    assert session_daemon.stop(platform) is True
    assert session_daemon.running_pid(platform) is None
    assert session_daemon.stop(platform) is False


def test_a_poller_killed_while_it_works_is_restarted_and_counts_each_view_once(platform):
    session_daemon.start(platform)
    _put(platform, 0, 600)
    _wait_for(lambda: _hot_views(platform) > 0, "the poller counts views")
    pid = session_daemon.running_pid(platform)
    assert pid is not None
    os.killpg(pid, signal.SIGKILL)  # no warning, wherever it was
    _put(platform, 600, 300)

    session_daemon.start(platform)

    _wait_for(lambda: _hot_views(platform) >= 900, "every view counted")
    time.sleep(1.0)  # a double count would show by now
    assert _hot_views(platform) == 900
    assert _readers(platform) == 900
