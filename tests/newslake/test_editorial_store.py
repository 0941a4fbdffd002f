"""Editorial controls on the local platform's DynamoDB: each change and its log item."""

from __future__ import annotations

import json

import pytest

from newslake import aws
from newslake.editorial import Block, Controls, Promote
from newslake.editorial_store import DynamoControls, changes
from newslake.settings import Settings

# Its own portal, so other tests on the shared platform cannot interfere.
PORTAL = "editorial-it"


@pytest.fixture
def controls(local_platform: Settings) -> DynamoControls:
    return DynamoControls(
        aws.client("dynamodb", local_platform), local_platform.recommendations_table
    )


def test_changes_are_stored_and_logged_in_order(
    controls: DynamoControls, local_platform: Settings
) -> None:
    ddb = aws.client("dynamodb", local_platform)
    table = local_platform.recommendations_table
    block = Block("a-1", "court order", 1_900_000_000, "newsroom-client", 1_800_000_000)
    promotion = Promote(
        "a-2", 2, None, 1_800_000_000, 1_800_003_600, ("politica",), "nr", 1_800_000_001
    )
    controls.block(PORTAL, block)
    controls.promote(PORTAL, promotion)
    assert controls.load(PORTAL) == Controls((block,), (promotion,))

    assert controls.end(PORTAL, "block", "a-1", "newsroom-client") is True
    assert controls.end(PORTAL, "block", "a-1", "newsroom-client") is False  # nothing left
    assert controls.load(PORTAL) == Controls((), (promotion,))

    log = changes(ddb, table, PORTAL)
    assert [(c.action, c.article_id, c.by, c.reason) for c in log] == [
        ("block", "a-1", "newsroom-client", "court order"),
        ("promote", "a-2", "nr", ""),
        ("unblock", "a-1", "newsroom-client", ""),
    ]
    assert json.loads(log[0].detail) == {"reason": "court order", "until": 1_900_000_000}
    assert json.loads(log[1].detail)["position"] == 2
    assert [c.article_id for c in changes(ddb, table, PORTAL, after=log[1].log_id)] == ["a-1"]
