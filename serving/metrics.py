"""Request metrics in Prometheus' text format: a latency histogram by method, route
template and status (the template, not the path, so user ids do not become series).

Written out rather than taken from prometheus_client: one histogram is all the service
needs, and observing it on the hot path is a lock and a few additions.
"""

from __future__ import annotations

import bisect
import threading
from dataclasses import dataclass, field

# Seconds; dense below 25 ms, where the service's goals are.
BUCKETS_S = (0.001, 0.0025, 0.005, 0.01, 0.015, 0.02, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
NAME = "newslake_serving_request_duration_seconds"

_Labels = tuple[str, str, str]  # method, route, status


@dataclass
class _Histogram:
    counts: list[int] = field(default_factory=lambda: [0] * (len(BUCKETS_S) + 1))
    total_s: float = 0.0


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _number(value: float) -> str:
    return repr(float(value)) if value != int(value) else f"{int(value)}.0"


class RequestMetrics:
    """Latency of every answered request, rendered for a Prometheus scrape of /metrics."""

    def __init__(self) -> None:
        self._series: dict[_Labels, _Histogram] = {}
        self._lock = threading.Lock()

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        labels = (method, route, str(status))
        index = bisect.bisect_left(BUCKETS_S, seconds)  # le is inclusive: a value on a bound
        with self._lock:
            histogram = self._series.get(labels)
            if histogram is None:
                histogram = self._series[labels] = _Histogram()
            histogram.counts[index] += 1
            histogram.total_s += seconds

    def render(self) -> str:
        """The exposition text: cumulative ``_bucket`` lines, then ``_sum`` and ``_count``."""
        with self._lock:
            series = {labels: (list(h.counts), h.total_s) for labels, h in self._series.items()}
        lines = [
            f"# HELP {NAME} Time from request to response, by route template and status.",
            f"# TYPE {NAME} histogram",
        ]
        for (method, route, status), (counts, total_s) in sorted(series.items()):
            base = f'method="{_escape(method)}",route="{_escape(route)}",status="{status}"'
            cumulative = 0
            for bound, count in zip((*BUCKETS_S, None), counts, strict=True):
                cumulative += count
                le = "+Inf" if bound is None else _number(bound)
                lines.append(f'{NAME}_bucket{{{base},le="{le}"}} {cumulative}')
            lines.append(f"{NAME}_sum{{{base}}} {total_s!r}")
            lines.append(f"{NAME}_count{{{base}}} {cumulative}")
        return "\n".join(lines) + "\n"
