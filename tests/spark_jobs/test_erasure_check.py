"""The erasure check's command line: bad input is one line and exit 2, before any Spark."""

from __future__ import annotations

import pytest

from newslake.settings import Settings
from spark_jobs import erasure_check
from spark_jobs.reader_rows import Reader

SETTINGS = Settings(profile="local", portals=("g1", "ge"))


def test_a_reader_is_a_configured_portal_and_an_id_the_api_accepts() -> None:
    got = erasure_check.parse_reader(["--portal", "ge", "--user", "ana@x"], SETTINGS)
    assert got == Reader("ge", "ana@x")


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["--portal", "bbc", "--user", "u1"], "unknown portal 'bbc': PORTAL must be one of g1, ge"),
        (["--portal", "g1", "--user", ""], "USER is not a reader id"),
        (["--portal", "g1", "--user", "a\x00b"], "USER is not a reader id"),
        (["--portal", "g1", "--user", "u" * 129], "USER is not a reader id"),
        (["--portal", "g1"], "the following arguments are required: --user"),
    ],
)
def test_bad_input_is_one_line(argv: list[str], says: str) -> None:
    with pytest.raises(ValueError, match="^" + says.replace("(", r"\(")) as found:
        erasure_check.parse_reader(argv, SETTINGS)
    assert "\n" not in str(found.value)


def test_bad_input_exits_2_and_prints_nothing_on_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    assert erasure_check.main(["--portal", "nowhere", "--user", "u1"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("error: unknown portal 'nowhere'") and err.count("\n") == 1
