"""The one way a command ends: a JSON line and 0, or one line on stderr and 2 or 1."""

from __future__ import annotations

from typing import Any, NoReturn

import pytest

from newslake.cli import UsageError, run_command
from newslake.errors import NewslakeError


def _raises(exc: Exception) -> Any:
    def command() -> NoReturn:
        raise exc

    return command


def test_the_result_is_one_json_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_command(lambda: {"b": 1, "a": [2]}) == 0
    assert run_command(lambda: {"b": 1, "a": [2]}, sort_keys=True) == 0

    assert capsys.readouterr() == ('{"b": 1, "a": [2]}\n{"a": [2], "b": 1}\n', "")


def test_bad_arguments_are_one_line_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    code = run_command(_raises(UsageError("PORTAL must be one of g1, ge")), label="block")

    assert code == 2
    assert capsys.readouterr() == ("", "block: PORTAL must be one of g1, ge\n")


def test_a_failure_the_user_can_fix_is_one_line_and_exit_1(
    capsys: pytest.CaptureFixture[str],
) -> None:
    hint = {OSError: "nothing was changed ({}); is the platform up?"}

    assert run_command(_raises(NewslakeError("hourly files 1..2 hold no clicks"))) == 1
    assert run_command(_raises(ConnectionRefusedError("refused")), failures=hint) == 1

    assert capsys.readouterr() == (
        "",
        "error: hourly files 1..2 hold no clicks\n"
        "error: nothing was changed (refused); is the platform up?\n",
    )


def test_a_bug_keeps_its_traceback(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(KeyError, match="portal"):
        run_command(_raises(KeyError("portal")), failures={OSError: "{}"})

    assert capsys.readouterr() == ("", "")
