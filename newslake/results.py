"""Reading a job's result: the last line of its output that is a JSON object."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any


def last_json_object(lines: Iterable[str]) -> dict[str, Any] | None:
    """The last line that parses as a JSON object, or None.

    Not simply the last line: ``spark-submit`` merges the Python driver's stderr into its
    stdout, so log lines written while the JVM shuts down can follow a job's result.
    """
    for line in reversed(list(lines)):
        text = line.strip()
        if not text.startswith("{"):
            continue
        try:
            value = json.loads(text)
        except json.JSONDecodeError:
            continue
        if isinstance(value, dict):
            return value
    return None
