"""The erasure stage's entry point: every pending erasure request carried out and checked.

``python -m spark_jobs.submit spark_jobs/erasure.py`` (the nightly run's ``--stage erase``
runs the same); what it does: :mod:`spark_jobs.erasure_stage`. Prints one JSON object as
its last line: requests, rows removed per place, the subjects completed and those still
pending with where their reader was found again.
"""

from __future__ import annotations

import json
import sys

from newslake import logs
from newslake.errors import NewslakeError
from newslake.settings import get_settings
from spark_jobs.erasure_stage import run_stage


def main(argv: list[str] | None = None) -> int:
    if sys.argv[1:] if argv is None else argv:
        print("error: the erasure stage takes no arguments", file=sys.stderr)
        return 2
    logs.configure()
    settings = get_settings()
    from spark_jobs.session import get_spark

    spark = get_spark(settings, app_name="newslake-erasure")
    try:
        result = run_stage(spark, settings)
    except NewslakeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(result, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
