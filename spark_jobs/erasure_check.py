"""The proof of an erasure: every place a reader's id can be read, counted.

``make erase-check PORTAL=g1 USER=<id>`` (``python -m spark_jobs.erasure_check --portal g1
--user <id>``, or the same through ``spark_jobs.submit``) prints one JSON line: the
reader's rows in every Delta table of the lake (:mod:`spark_jobs.reader_rows` finds them),
their lines in every landed object and their items in the serving store, readable now
(``found``); the rows only older versions of a table still hold (``history``: every
version still retained, read through the table's log); and ``unreadable_by``, the date by
which VACUUM and the log retention remove what history holds (null when it holds none).
The reader is named by their pseudonym, never by the id.

The erasure stage runs the readable part (:func:`spark_jobs.reader_scan.readable`) after
erasing.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from typing import Any, NoReturn

from pyspark.sql import SparkSession

from newslake import aws, logs, privacy
from newslake.cli import UsageError, run_command
from newslake.settings import Settings, get_settings
from spark_jobs.reader_rows import Reader
from spark_jobs.reader_scan import history, readable


def check(spark: SparkSession, settings: Settings, reader: Reader) -> dict[str, Any]:
    """The check's JSON object for one reader."""
    now = datetime.now(UTC)
    s3, ddb = aws.client("s3", settings), aws.client("dynamodb", settings)
    found = readable(spark, settings, [reader], s3=s3, ddb=ddb)[reader]
    rows, gone = history(spark, settings, [reader], now)
    day = gone[reader]
    return {
        "portal": reader.portal,
        "subject": privacy.subject_of(
            reader.portal, reader.user_id, key=privacy.with_hash_key(settings).privacy_key
        ),
        "found": found,
        "readable": sum(found.values()),
        "history": rows[reader],
        "unreadable_by": day.isoformat() if day else None,
        "checked_at": now.isoformat(timespec="seconds"),
    }


class _Arguments(argparse.ArgumentParser):
    """Bad arguments are one line (the UsageError), not argparse's usage and exit."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message}: pass --portal P --user ID (make erase-check PORTAL= USER=)")


def parse_reader(argv: list[str], settings: Settings) -> Reader:
    """The reader the command line names.

    Raises:
        UsageError: the portal or the id is not one the lake could hold (the message says
            what to pass instead).
    """
    p = _Arguments(prog="erase-check", description=__doc__)
    p.add_argument("--portal", required=True)
    p.add_argument("--user", required=True)
    args = p.parse_args(argv)
    if not privacy.valid_portal(args.portal, settings):
        raise UsageError(
            f"unknown portal {args.portal!r}: PORTAL must be one of {', '.join(settings.portals)}"
        )
    if not privacy.valid_user_id(args.user):
        raise UsageError("USER is not a reader id: 1 to 128 characters, none control or invisible")
    return Reader(args.portal, args.user)


def main(argv: list[str] | None = None) -> int:
    logs.configure()
    settings = get_settings()
    args = sys.argv[1:] if argv is None else argv

    def command() -> dict[str, Any]:
        reader = parse_reader(args, settings)  # before Spark starts: bad input is quick
        from spark_jobs.session import get_spark

        spark = get_spark(settings, app_name="newslake-erase-check")
        return check(spark, settings, reader)

    return run_command(command, sort_keys=True)


if __name__ == "__main__":
    sys.exit(main())
