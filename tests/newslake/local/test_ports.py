"""A free port is one a server can listen on at once."""

from __future__ import annotations

import socket

from newslake.local.ports import free_port


def test_a_free_port_takes_a_listener_on_the_host_asked() -> None:
    port = free_port("127.0.0.1")

    with socket.create_server(("127.0.0.1", port)) as listener:
        assert listener.getsockname() == ("127.0.0.1", port)
