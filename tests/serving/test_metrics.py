"""RequestMetrics' Prometheus text: cumulative buckets, sum and count per series."""

from __future__ import annotations

from serving.metrics import RequestMetrics


def test_histogram_lines_are_cumulative_with_le_inclusive() -> None:
    metrics = RequestMetrics()
    metrics.observe("GET", "/healthz", 200, 0.001)  # on the first bound: counted in it
    metrics.observe("GET", "/healthz", 200, 0.012)
    metrics.observe("GET", "/healthz", 200, 3.0)

    lines = metrics.render().splitlines()

    series = 'method="GET",route="/healthz",status="200"'
    name = "newslake_serving_request_duration_seconds"
    assert lines[:2] == [
        f"# HELP {name} Time from request to response, by route template and status.",
        f"# TYPE {name} histogram",
    ]
    assert lines[2:] == [
        f'{name}_bucket{{{series},le="0.001"}} 1',
        f'{name}_bucket{{{series},le="0.0025"}} 1',
        f'{name}_bucket{{{series},le="0.005"}} 1',
        f'{name}_bucket{{{series},le="0.01"}} 1',
        f'{name}_bucket{{{series},le="0.015"}} 2',
        f'{name}_bucket{{{series},le="0.02"}} 2',
        f'{name}_bucket{{{series},le="0.025"}} 2',
        f'{name}_bucket{{{series},le="0.05"}} 2',
        f'{name}_bucket{{{series},le="0.1"}} 2',
        f'{name}_bucket{{{series},le="0.25"}} 2',
        f'{name}_bucket{{{series},le="0.5"}} 2',
        f'{name}_bucket{{{series},le="1.0"}} 2',
        f'{name}_bucket{{{series},le="2.5"}} 2',
        f'{name}_bucket{{{series},le="+Inf"}} 3',
        f"{name}_sum{{{series}}} 3.013",
        f"{name}_count{{{series}}} 3",
    ]


def test_label_values_are_escaped() -> None:
    metrics = RequestMetrics()
    metrics.observe("GET", 'a"b\\c', 404, 0.0)

    assert 'route="a\\"b\\\\c"' in metrics.render()
