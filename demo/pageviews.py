"""Sending the demo's synthetic tracker events through the pageview handler, in process."""

from __future__ import annotations

import contextlib
import io
import json
import sys
from collections.abc import Callable
from typing import Any, TextIO

from tqdm import tqdm

from ingestion import handler
from ingestion.schema import Pageview
from ingestion.validation import MAX_BATCH
from newslake.errors import NewslakeError


class MetricLines(io.TextIOBase):
    """Standard output while the demo calls the handler in process: counts the handler's
    CloudWatch metric lines (EMF, which Lambda's log stream hands to CloudWatch; on a
    terminal they would bury the progress bar) and passes every other line through."""

    def __init__(self, out: TextIO) -> None:
        self.out, self.count, self._partial = out, 0, ""

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        *lines, self._partial = (self._partial + text).split("\n")
        for line in lines:
            if line.startswith('{"_aws"'):
                self.count += 1
            else:
                self.out.write(line + "\n")
        return len(text)

    def flush(self) -> None:
        self.out.flush()

    def finish(self) -> None:
        """Pass on a last line left without its newline."""
        if self._partial:
            self.out.write(self._partial)
            self._partial = ""


def send_events(
    events: list[Pageview],
    batch: int = MAX_BATCH,
    call: Callable[[dict[str, Any]], dict[str, Any]] = handler.lambda_handler,
) -> int:
    """POST the events in tracker-sized batches through the API Gateway handler (``call``)."""
    metric_lines = MetricLines(sys.stdout)
    with (
        tqdm(total=len(events), desc="POST /pageview", unit="ev") as bar,
        contextlib.redirect_stdout(metric_lines),
    ):
        try:
            accepted = 0
            for i in range(0, len(events), batch):
                chunk = events[i : i + batch]
                accepted += _post(call, chunk)
                bar.update(len(chunk))
        finally:
            metric_lines.finish()
    print(
        f"   the handler wrote {metric_lines.count} CloudWatch metric (EMF) lines, "
        "not shown: in AWS, CloudWatch reads them from the Lambda's log"
    )
    return accepted


def _post(call: Callable[[dict[str, Any]], dict[str, Any]], events: list[Pageview]) -> int:
    """One POST /pageview; the number of events accepted."""
    resp = call(
        {
            "httpMethod": "POST",
            "path": "/pageview",
            "headers": {"Content-Type": "application/json"},
            "body": json.dumps({"events": [e.model_dump() for e in events]}),
            "isBase64Encoded": False,
        }
    )
    if resp["statusCode"] != 200:
        raise NewslakeError(f"POST /pageview answered {resp['statusCode']}: {resp['body']}")
    return int(json.loads(resp["body"])["accepted"])
