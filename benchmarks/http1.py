"""One keep-alive HTTP/1.1 connection with just enough HTTP for the load generators.

Not httpx: its AsyncClient costs several times this module's CPU per request, and on a
small machine the load generator's CPU is taken from the server under test.
"""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit


class Connection:
    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.netloc = parts.netloc
        self.streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def request(self, raw: bytes) -> tuple[int, bytes]:
        """Send one whole request (head and body); returns the status and the answer's body.

        Raises:
            OSError, asyncio.IncompleteReadError, ValueError: no complete answer; the
                connection is closed and the next request opens a new one.
        """
        try:
            if self.streams is None:
                self.streams = await asyncio.open_connection(self.host, self.port)
            reader, writer = self.streams
            writer.write(raw)
            await writer.drain()
            status, length, close = parse_head(await _read_head(reader))
            body = await reader.readexactly(length)
        except BaseException:
            self.close()
            raise
        if close:
            self.close()
        return status, body

    def close(self) -> None:
        if self.streams is not None:
            self.streams[1].close()
            self.streams = None


async def _read_head(reader: asyncio.StreamReader) -> bytes:
    """The answer's status line and headers, read at once (one await, not one a line)."""
    try:
        return await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as exc:
        if not exc.partial:
            raise ConnectionResetError("the server closed the connection") from None
        raise
    except asyncio.LimitOverrunError:
        raise ValueError("an answer head over the stream's limit") from None


def parse_head(head: bytes) -> tuple[int, int, bool]:
    """Status, Content-Length and whether the server closes the connection after it."""
    status_line, *lines = head[:-4].split(b"\r\n")
    parts = status_line.split()
    if len(parts) < 2 or not parts[1].isdigit():
        raise ValueError(f"not an HTTP status line: {status_line[:80]!r}")
    length, close = None, False
    for line in lines:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"connection":
            close = value.strip().lower() == b"close"
    if length is None:
        raise ValueError("an answer without Content-Length")
    return int(parts[1]), length, close
