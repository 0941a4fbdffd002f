"""``make erase PORTAL=g1 USER=<id>``: record a reader's erasure request from the shell.

The privacy office's other way in besides the API route: the same checks, the same
table, one JSON line with the request's record. Asked by ``cli:<login>``, the login of
the account running it (not ``$USER``, which ``make erase USER=...`` sets to the reader).
"""

from __future__ import annotations

import argparse
import os
import pwd
import sys
import time
from collections.abc import Sequence
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from newslake.cli import UsageError, run_command
from newslake.ids import ID_RULE
from newslake.privacy import ErasureRequests, valid_portal, valid_user_id
from newslake.settings import Settings, get_settings


def _login() -> str:
    return pwd.getpwuid(os.getuid()).pw_name


def refusal(portal: str, user_id: str, settings: Settings) -> str | None:
    """Why the request cannot be recorded, as the line to print; None when it can."""
    if not valid_portal(portal, settings):
        return f"unknown portal {portal[:64]!r}: use one of {', '.join(settings.portals)}"
    if not valid_user_id(user_id):
        return f"USER must be a reader id of {ID_RULE} (got {user_id[:40]!r})"
    return None


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m newslake.privacy_cli",
        description="Record a reader's erasure request; the nightly erasure stage does it.",
    )
    parser.add_argument("--portal", required=True, help="the reader's portal, e.g. g1")
    parser.add_argument("--user", required=True, help="the reader's id on that portal")
    args = parser.parse_args(argv)
    settings = get_settings()

    def ask() -> dict[str, Any]:
        why = refusal(args.portal, args.user, settings)
        if why is not None:
            raise UsageError(why)
        requests = ErasureRequests.of(settings)
        record = requests.ask(args.portal, args.user, asked_by=f"cli:{_login()}", now=time.time())
        return record.to_json()

    unrecorded = "the request was not recorded ({}); is the platform up?"
    return run_command(
        ask,
        label="erase",
        failures={BotoCoreError: unrecorded, ClientError: unrecorded},
        sort_keys=True,
    )


if __name__ == "__main__":
    sys.exit(main())
