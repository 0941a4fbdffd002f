"""The load generators' answer-head parsing, on hand-written heads."""

from __future__ import annotations

import pytest

from benchmarks.http1 import parse_head


def test_head_gives_status_length_and_keep_alive() -> None:
    head = b"HTTP/1.1 200 OK\r\ndate: x\r\nContent-Length: 42\r\nx-request-id: ab\r\n\r\n"

    assert parse_head(head) == (200, 42, False)


def test_head_with_connection_close_says_so() -> None:
    head = b"HTTP/1.1 431 Too Large\r\ncontent-length: 3\r\nConnection: close\r\n\r\n"

    assert parse_head(head) == (431, 3, True)


@pytest.mark.parametrize(
    "head",
    [
        b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n",  # no Content-Length
        b"garbage\r\ncontent-length: 1\r\n\r\n",  # no status code
    ],
)
def test_head_without_length_or_status_is_a_value_error(head: bytes) -> None:
    with pytest.raises(ValueError):
        parse_head(head)
