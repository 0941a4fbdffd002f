from __future__ import annotations

import socket

import pytest

from newslake.errors import PlatformError
from newslake.local import server
from tests.utils.platform import platform_settings


def test_start_refuses_a_port_held_by_something_else(tmp_path):
    settings = platform_settings(tmp_path)
    with socket.socket() as busy:
        busy.bind((settings.moto_host, settings.moto_port))
        busy.listen(1)
        with pytest.raises(PlatformError, match=r"is busy .* NEWSLAKE_MOTO_PORT"):
            server.start(settings, wait_s=2)
    assert not settings.moto_pid_file.exists()


def test_start_twice_reuses_the_running_server(local_platform):
    assert server.start(local_platform) is False
    assert server.is_running(local_platform)


def test_stop_without_a_server_says_so(tmp_path):
    assert server.stop(platform_settings(tmp_path)) is False


def test_reset_empties_the_platform(disposable_platform):
    from newslake import aws

    s3 = aws.client("s3", disposable_platform)
    s3.put_object(Bucket=disposable_platform.landing_bucket, Key="x", Body=b"1")
    server.reset(disposable_platform)
    assert s3.list_buckets()["Buckets"] == []
