"""Keep Python's full garbage collections short in long-running local servers.

A full (generation 2) collection scans every container object the process holds while the
process answers nothing. A server's heap is mostly long-lived: imported modules, boto3's
service models, and for moto every record, object and message it stores. Under
``make bench-ingest`` the full collections of a gateway worker and of moto, which grow with
the records held, were the pauses that set the p99.

:func:`freeze_long_lived` moves what exists now to the permanent generation, and after
every later full collection moves what survived it, so a full collection scans only what
was made since the last one. Frozen objects are still freed by reference counting; only a
reference cycle among them would stay, which long-lived state does not make.
"""

from __future__ import annotations

import gc
from typing import Any


def _freeze_survivors(phase: str, info: dict[str, Any]) -> None:
    if phase == "stop" and info["generation"] == 2:
        gc.freeze()


def freeze_long_lived() -> None:
    """Freeze the heap now and after each full collection (idempotent)."""
    gc.collect()
    gc.freeze()
    if _freeze_survivors not in gc.callbacks:
        gc.callbacks.append(_freeze_survivors)
