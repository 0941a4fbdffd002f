"""Ports on this machine for servers started next: the demo's, the benches' and the tests'
own moto servers, services and gateways, so that none clashes with `make up` or another."""

from __future__ import annotations

import socket


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on now (the system's pick), for a server started next."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])
