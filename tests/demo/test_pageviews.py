from __future__ import annotations

import io
import itertools
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit

from demo import pageviews
from ingestion.synthetic import TrafficSpec, generate


def test_metric_lines_are_counted_and_other_lines_pass_through_whole():
    out = io.StringIO()
    lines = pageviews.MetricLines(out)
    lines.write('{"_aws":{"Timestamp":1},"n":[1.0]}\nfirst ')
    lines.write('line\n{"_aws": {"Timestamp": 2}}\n')
    lines.write("no newline yet")
    assert (out.getvalue(), lines.count) == ("first line\n", 2)
    lines.finish()
    assert out.getvalue() == "first line\nno newline yet"


def test_the_handlers_metric_lines_stay_off_the_terminal(capsys: pytest.CaptureFixture[str]):
    """A handler flushing Powertools metrics as the real one does, on every request."""
    metrics = Metrics(namespace="newslake-test", service="demo-test")
    calls = []

    def call(request: dict[str, Any]) -> dict[str, Any]:
        n = len(json.loads(request["body"])["events"])
        calls.append(n)
        metrics.add_metric(name="EventsAccepted", unit=MetricUnit.Count, value=n)
        metrics.flush_metrics()
        print("not a metric")
        return {"statusCode": 200, "body": json.dumps({"accepted": n})}

    spec = TrafficSpec(end=datetime(2026, 11, 29, tzinfo=UTC), portals=("g1",))
    events = list(itertools.islice(generate(spec), 250))
    assert pageviews.send_events(events, batch=100, call=call) == 250
    out = capsys.readouterr().out
    assert calls == [100, 100, 50]
    assert "CloudWatchMetrics" not in out
    assert out.count("not a metric\n") == 3
    assert "the handler wrote 3 CloudWatch metric (EMF) lines" in out
