"""The editorial audit's entry point: ``silver.editorial_audit`` brought up to the change
log of every portal's editorial controls (:mod:`spark_jobs.editorial_audit_stage`).

``python -m spark_jobs.submit spark_jobs/editorial_audit.py`` (``make audit``); the nightly
run's ``editorial_audit`` stage does the same. Prints ``{"changes", "added"}``.
"""

from __future__ import annotations

import argparse
import json
import sys

from newslake import logs
from newslake.editorial_store import ControlsStoreError
from newslake.settings import get_settings
from spark_jobs.editorial_audit_stage import run


def main(argv: list[str] | None = None) -> int:
    from spark_jobs.session import get_spark

    argparse.ArgumentParser(prog="editorial_audit", description=__doc__).parse_args(argv)
    logs.configure()
    settings = get_settings()
    spark = get_spark(settings, app_name="newslake-editorial-audit")
    try:
        out = run(spark, settings)
    except ControlsStoreError as exc:
        print(f"error: the change log could not be read ({exc}); run it again", file=sys.stderr)
        return 1
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
