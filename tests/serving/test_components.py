"""What the app builds once: warming up happens once per process, however often the
lifespan runs (Mangum runs it around every Lambda invocation)."""

from __future__ import annotations

from typing import Any

from newslake.settings import Settings
from serving.auth import TokenVerifier
from serving.components import Components


def test_warming_up_reads_the_store_once_per_process(
    fake_reader: Any, verifier: TokenVerifier
) -> None:
    fake_reader.versions["g1"] = "v1"
    settings = Settings(portals=("g1", "ge"), serving_cache_ttl_s=0)  # nothing kept
    components = Components(settings, reader=fake_reader, verifier=verifier)

    components.warm_up()
    first = fake_reader.calls
    components.warm_up()

    # g1 (version v1): popular asks the pointer and popular; trending asks the pointer,
    # trending and (the fake's trending is empty) popular again: 5. ge (no version): the
    # pointer twice and trending: 3. Nothing is cached (ttl 0), and nothing read again.
    assert (first, fake_reader.calls) == (8, 8)
