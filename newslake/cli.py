"""How a newslake command ends: its result as one JSON line on stdout, or one line on
stderr that says what went wrong, and the exit code that goes with it.

Errors a user can cause or fix get a line, never a stack trace: bad arguments exit 2
(:class:`UsageError`), a failure such as the platform being down or no data exits 1
(:class:`~newslake.errors.NewslakeError`, and whatever else a command names). Any other
exception is a bug and propagates with its traceback.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Mapping
from typing import Any

from newslake.errors import NewslakeError

EXIT_FAILED = 1
EXIT_USAGE = 2


class UsageError(NewslakeError, ValueError):
    """Arguments a command refuses; the message is the line it prints. A ValueError too,
    as it is a value refused, so a caller checking values that way keeps working."""


def run_command(
    command: Callable[[], Mapping[str, Any]],
    *,
    label: str = "error",
    failures: Mapping[type[Exception], str] | None = None,
    sort_keys: bool = False,
) -> int:
    """Run ``command`` and print what it returns as one JSON line; returns the exit code.

    Args:
        command: the work, taking no arguments (a closure over the parsed ones).
        label: what starts an error line: ``error``, or the subcommand's name.
        failures: more exception types that exit 1, each with its line, in which ``{}``
            stands for the exception's message (e.g. a hint to start the platform).
        sort_keys: print the JSON object's keys in order.
    """
    lines: dict[type[Exception], str] = {**(failures or {}), NewslakeError: "{}"}
    kinds = tuple(lines)
    try:
        out = command()
    except UsageError as exc:
        print(f"{label}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except kinds as exc:
        line = next(text for kind, text in lines.items() if isinstance(exc, kind))
        print(f"{label}: {line.format(exc)}", file=sys.stderr)
        return EXIT_FAILED
    print(json.dumps(out, sort_keys=sort_keys))
    return 0
