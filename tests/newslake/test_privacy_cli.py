"""``make erase``'s command: one JSON line for a recorded request, one error line (exit 2)
for a bad portal or id, with nothing recorded."""

from __future__ import annotations

import json
import os
import pwd
import uuid

import pytest

from newslake import aws, privacy_cli
from newslake.privacy import ErasureRequests
from newslake.settings import Settings


@pytest.fixture
def settings(local_platform: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setattr(privacy_cli, "get_settings", lambda: local_platform)
    return local_platform


def _stored(settings: Settings, portal: str, user: str) -> object:
    client = aws.client("dynamodb", settings)
    return ErasureRequests(client, settings.privacy_requests_table, settings.privacy_key).get(
        portal, user
    )


def test_a_request_is_recorded_and_printed_as_one_json_line(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    user = f"reader-{uuid.uuid4().hex[:8]}"

    code = privacy_cli.main(["--portal", "g1", "--user", user])

    out = capsys.readouterr().out.splitlines()
    assert code == 0
    assert len(out) == 1
    line = json.loads(out[0])
    login = pwd.getpwuid(os.getuid()).pw_name
    assert (line["portal"], line["user_id"], line["status"]) == ("g1", user, "pending")
    assert line["asked_by"] == f"cli:{login}"
    assert _stored(settings, "g1", user) is not None


@pytest.mark.parametrize(
    ("portal", "user", "message"),
    [
        ("nope", "u1", "erase: unknown portal 'nope': use one of g1, ge, gshow\n"),
        ("g1", "a\nb", "erase: USER must be a reader id of 1 to 128 characters"),
        ("g1", "x" * 129, "erase: USER must be a reader id of 1 to 128 characters"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_nothing_recorded(
    settings: Settings, capsys: pytest.CaptureFixture[str], portal: str, user: str, message: str
) -> None:
    code = privacy_cli.main(["--portal", portal, "--user", user])

    captured = capsys.readouterr()
    assert code == 2
    assert captured.out == ""
    assert captured.err.startswith(message)
    assert captured.err.count("\n") == 1
    assert _stored(settings, portal, user) is None
