"""Logging of the command-line jobs: one line per record on standard error."""

from __future__ import annotations

import logging

FORMAT = "%(asctime)s %(name)s %(message)s"
QUIET = ("py4j",)  # PySpark's bridge logs every callback server start and command at INFO


def configure(level: int = logging.INFO) -> None:
    """The jobs' records at ``level``; the libraries in ``QUIET`` at WARNING and above."""
    logging.basicConfig(level=level, format=FORMAT)
    for name in QUIET:
        logging.getLogger(name).setLevel(max(level, logging.WARNING))
