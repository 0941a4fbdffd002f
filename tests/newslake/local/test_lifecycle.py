"""make down && make up keeps what only the moto server's memory holds: readers' erasure
requests and the newsrooms' editorial controls with their log."""

from __future__ import annotations

from newslake import aws
from newslake.editorial import Block
from newslake.editorial_store import DynamoControls, changes
from newslake.local import lifecycle, server
from newslake.privacy import ErasureRequests


def test_erasure_requests_and_editorial_controls_survive_down_and_up(disposable_platform):
    settings = disposable_platform
    ErasureRequests.of(settings).ask("g1", "erin", asked_by="privacy-office", now=1_700_000_000)
    editorial = DynamoControls(aws.client("dynamodb", settings), settings.recommendations_table)
    editorial.block("ge", Block("a-9", "legal hold", None, "newsroom", 1_700_000_100))

    lifecycle.down(settings)
    assert not server.is_running(settings)
    lines = lifecycle.up(settings)

    assert lines[1].endswith("1 privacy-requests, 2 editorial-controls")
    request = ErasureRequests.of(settings).get("g1", "erin")
    assert request is not None
    assert (request.status, request.asked_by, request.asked_at) == (
        "pending",
        "privacy-office",
        1_700_000_000,
    )
    ddb = aws.client("dynamodb", settings)
    blocks = DynamoControls(ddb, settings.recommendations_table).load("ge").blocks
    assert [(b.article_id, b.reason, b.by) for b in blocks] == [("a-9", "legal hold", "newsroom")]
    log = changes(ddb, settings.recommendations_table, "ge")
    assert [(c.action, c.article_id) for c in log] == [("block", "a-9")]


def test_up_leaves_an_item_changed_since_the_snapshot_as_it_is(disposable_platform):
    settings = disposable_platform
    requests = ErasureRequests.of(settings)
    requests.ask("g1", "erin", asked_by="privacy-office", now=1_700_000_000)
    lifecycle.down(settings)
    lifecycle.up(settings)
    requests = ErasureRequests.of(settings)
    requests.complete(requests.subject("g1", "erin"), done_at=1_700_000_500, unreadable_by="x")

    lifecycle.up(settings)  # already running: the snapshot's pending request is older

    request = requests.get("g1", "erin")
    assert request is not None and request.status == "done"
