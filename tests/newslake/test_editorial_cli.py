"""make block / promote / controls on the local platform: one JSON line, or one error line
and exit 2 with nothing written."""

from __future__ import annotations

import json

import pytest

from newslake import aws, editorial_cli
from newslake.editorial_store import DynamoControls, changes
from newslake.settings import Settings

PORTAL = "editorial-cli"  # its own portal on the shared platform


@pytest.fixture
def settings(local_platform: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    ours = local_platform.model_copy(update={"portals": (*local_platform.portals, PORTAL)})
    monkeypatch.setattr(editorial_cli, "get_settings", lambda: ours)
    return ours


def test_block_promote_and_list(settings: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    block = ["block", "--portal", PORTAL, "--article", "a-1", "--reason", "court order"]
    promote = ["promote", "--portal", PORTAL, "--article", "a-2", "--position", "3"]
    assert editorial_cli.main(block) == 0
    assert editorial_cli.main(promote) == 0
    capsys.readouterr()
    assert editorial_cli.main(["controls", "--portal", PORTAL]) == 0
    listed = json.loads(capsys.readouterr().out)
    got = (
        [(b["article_id"], b["reason"], b["until"]) for b in listed["blocks"]],
        [(p["article_id"], p["position"], p["end"] - p["start"]) for p in listed["promotions"]],
    )
    assert got == ([("a-1", "court order", None)], [("a-2", 3, 86_400)])


@pytest.mark.parametrize(
    ("argv", "line"),
    [
        (["block", "--portal", "zz", "--article", "a", "--reason", "r"], "block: unknown portal"),
        (["block", "--portal", PORTAL, "--article", "a#1", "--reason", "r"], "block: ARTICLE must"),
        (["block", "--portal", PORTAL, "--article", "a"], "block: REASON is required"),
        (["promote", "--portal", PORTAL, "--article", "a"], "promote: give POSITION"),
        (["promote", "--portal", PORTAL, "--article", "a", "--position", "x"], "promote: POSITION"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_nothing_written(
    settings: Settings, capsys: pytest.CaptureFixture[str], argv: list[str], line: str
) -> None:
    ddb = aws.client("dynamodb", settings)
    before = changes(ddb, settings.recommendations_table, PORTAL)
    assert editorial_cli.main(argv) == 2
    err = capsys.readouterr().err
    assert (err[: len(line)], err.count("\n")) == (line, 1)
    assert changes(ddb, settings.recommendations_table, PORTAL) == before
    assert DynamoControls(ddb, settings.recommendations_table).load("zz").blocks == ()
