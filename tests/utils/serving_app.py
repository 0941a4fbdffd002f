"""Settings of the serving app as the HTTP tests build it, over the in-memory store: no
AWS (moto port 9 has no server, so anything that reached for it would fail loudly), and
the reader's list weighed as the tests expect, whatever the defaults become."""

from __future__ import annotations

from typing import Any

from newslake.experiments import Experiment, Variant
from newslake.settings import Settings

WEIGHTS: dict[str, Any] = {
    "reader_w_covisited": 1.0,
    "reader_w_hot": 0.0,
    "reader_w_trending": 0.5,
    "reader_w_personal": 1.0,
    "reader_w_popular": 0.0,
}

SPLIT = Experiment(
    "reader-list",
    "reader",
    True,
    (Variant("request-time", 0.5), Variant("nightly", 0.5, {"reader_mode": "nightly"})),
)
"""The default experiment, enabled: alice falls at 0.827 of it (``nightly``), bob at 0.469
(``request-time``), as tests/newslake/test_experiments.py works out."""


def app_settings(**changes: Any) -> Settings:
    """Portals g1 and ge, no access log, the weights above; ``changes`` replace any."""
    fields = {"profile": "local", "moto_port": 9, "portals": ("g1", "ge")}
    return Settings(**(fields | {"serving_access_log": False} | WEIGHTS | changes))
