"""A landed object's lines split between the readers erased and everyone else (no S3)."""

from __future__ import annotations

import json

from spark_jobs.erase_landing import split_lines
from spark_jobs.reader_rows import Reader


def _line(user: str | None, portal: str = "g1") -> str:
    return json.dumps({"portal": portal, "user_id": user, "event_id": f"e-{user}"})


def test_only_the_erased_readers_lines_leave_the_object() -> None:
    ana, bia = Reader("g1", "ana"), Reader("g1", "bia")
    text = "\n".join(
        [_line("ana"), _line("caio"), _line("bia"), _line("ana", "ge"), _line(None), _line("ana")]
    )

    kept, found = split_lines(text, [ana, bia])

    assert kept == [_line("caio"), _line("ana", "ge"), _line(None)]
    assert found == {ana: 2, bia: 1}
