"""The load generator of ``make bench-serve``: readers asking for their recommendations.

A process of its own (``python -m benchmarks.serve_load``, started by
``benchmarks.bench_serve``), so its CPU is not the service's. Requests go over at most
``--connections`` keep-alive connections, due at ``--rate`` requests/s (open loop: a
request's latency counts from when it was due, so a stalled server cannot hide its
queue), until ``--seconds`` pass or ``--max-requests`` are sent. Each request is a known
reader's (share ``--known-share``) or a new reader's, with that reader's real Cognito
token from ``--tokens``. With ``--bare-path`` every request asks for that path instead,
with the same readers and tokens, so the two loads differ only in what the server does.
Outcomes go to ``--out`` as JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import uvloop

from benchmarks import http1

REQUEST_TIMEOUT_S = 10.0
LIMIT = 10
DEGRADED = b'"degraded":true'


def pick_user(rng: random.Random, known: Sequence[str], new: Sequence[str], share: float) -> str:
    """A known reader with probability ``share``, else a new one; uniform within each."""
    pool = known if rng.random() < share else new
    return pool[rng.randrange(len(pool))]


def request_path(portal: str, user: str, bare_path: str | None = None) -> str:
    """The reader's list of ``user``, or ``bare_path`` when the bare route is loaded."""
    if bare_path is not None:
        return bare_path
    return f"/v1/portals/{portal}/users/{user}/recommendations?limit={LIMIT}"


class Connection(http1.Connection):
    """A keep-alive connection that GETs with a bearer token."""

    async def get(self, path: str, token: str) -> tuple[int, bytes]:
        return await self.request(
            f"GET {path} HTTP/1.1\r\nHost: {self.netloc}\r\n"
            f"Authorization: Bearer {token}\r\n\r\n".encode()
        )


async def drive(
    base_url: str,
    tokens: dict[str, str],
    known: Sequence[str],
    new: Sequence[str],
    *,
    portal: str,
    seconds: float,
    rate: float,
    connections: int,
    known_share: float,
    max_requests: int,
    seed: int,
    bare_path: str | None = None,
) -> tuple[list[tuple[int, int, float]], float]:
    """Send requests until ``seconds`` pass or ``max_requests`` are sent.

    Returns ``(status, degraded, latency_ms)`` per request (status 0: no answer) and the
    seconds from the start to the last answer.
    """
    rng = random.Random(seed)
    outcomes: list[tuple[int, int, float]] = []
    sent = 0
    start = time.perf_counter()
    deadline = start + seconds

    async def connection() -> None:
        nonlocal sent
        client = Connection(base_url)
        while sent < max_requests:
            due = start + sent / rate
            if due >= deadline:
                break
            user = pick_user(rng, known, new, known_share)  # drawn before any await
            sent += 1
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            path = request_path(portal, user, bare_path)
            status, degraded = 0, 0
            try:
                async with asyncio.timeout(REQUEST_TIMEOUT_S):
                    status, body = await client.get(path, tokens[user])
                degraded = int(DEGRADED in body)
            except (OSError, asyncio.IncompleteReadError, ValueError, TimeoutError):
                pass  # no answer: counted as an error
            outcomes.append((status, degraded, (time.perf_counter() - due) * 1000))
        client.close()

    await asyncio.gather(*(connection() for _ in range(connections)))
    return outcomes, time.perf_counter() - start


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.serve_load", description=__doc__)
    parser.add_argument("--url", required=True, help="the service's base URL")
    parser.add_argument("--tokens", type=Path, required=True, help="JSON: known, new, tokens")
    parser.add_argument("--out", type=Path, required=True, help="where the outcomes go (JSON)")
    parser.add_argument("--portal", required=True)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--rate", type=float, required=True, help="requests/s")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--known-share", type=float, default=0.85)
    parser.add_argument("--max-requests", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--bare-path", help="ask for this path instead of the readers' lists")
    args = parser.parse_args(argv)
    users = json.loads(args.tokens.read_text())
    # uvloop, as the service runs on: the stdlib loop costs the generator more CPU.
    outcomes, elapsed_s = uvloop.run(
        drive(
            args.url,
            users["tokens"],
            users["known"],
            users["new"],
            portal=args.portal,
            seconds=args.seconds,
            rate=args.rate,
            connections=args.connections,
            known_share=args.known_share,
            max_requests=args.max_requests,
            seed=args.seed,
            bare_path=args.bare_path,
        )
    )
    args.out.write_text(json.dumps({"outcomes": outcomes, "elapsed_s": elapsed_s}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
