"""A block on the local platform: written to moto's DynamoDB as the route and make block
write it, gone from the trending and popular answers of a running app (its refresh thread
started by the lifespan) within 5 s."""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient

from newslake import aws, cognito
from newslake.editorial import Block
from newslake.editorial_store import DynamoControls
from newslake.local import provision
from newslake.settings import Settings
from newslake.store import LIVE, ScoredItem, item_record
from serving.main import create_app

pytestmark = pytest.mark.slow

PORTAL = "editorial-live"  # its own portal on the shared platform
VERSION = "20261128T0600"
PASSWORD = "Editorial-test-Passw0rd!"
FAR_FUTURE = 4102444800
WITHIN_S = 5.0


def _publish(settings: Settings) -> None:
    ddb = aws.client("dynamodb", settings)
    table = settings.recommendations_table
    for pk, sk in ((f"{PORTAL}#popular", VERSION), (f"{PORTAL}#trending", LIVE)):
        items = [ScoredItem("x", 9.0), ScoredItem("y", 8.0), ScoredItem("z", 7.0)]
        ddb.put_item(TableName=table, Item=item_record(pk, sk, items, FAR_FUTURE))
    ddb.put_item(
        TableName=settings.versions_table,
        Item={"portal": {"S": PORTAL}, "active_version": {"S": VERSION}},
    )


def test_a_block_leaves_every_list_within_5_s(local_platform: Settings) -> None:
    settings = local_platform.model_copy(update={"portals": (*local_platform.portals, PORTAL)})
    _publish(settings)
    app = cognito.find_cognito_app(settings)
    provision.ensure_user(settings, app, "editorial-reader", PASSWORD)
    headers = {
        "Authorization": f"Bearer {provision.login(settings, app, 'editorial-reader', PASSWORD)}"
    }
    urls = [f"/v1/portals/{PORTAL}/{name}?limit=2" for name in ("trending", "popular")]
    with TestClient(create_app(settings)) as client:
        lists = [
            [i["article_id"] for i in client.get(u, headers=headers).json()["items"]] for u in urls
        ]
        assert lists == [["x", "y"], ["x", "y"]]

        store = DynamoControls(aws.client("dynamodb", settings), settings.recommendations_table)
        store.block(PORTAL, Block("x", "retracted", None, "test", int(time.time())))
        blocked_at = time.monotonic()
        while time.monotonic() - blocked_at < WITHIN_S:
            lists = [
                [i["article_id"] for i in client.get(u, headers=headers).json()["items"]]
                for u in urls
            ]
            if lists == [["y", "z"], ["y", "z"]]:
                break
            time.sleep(0.2)
        assert lists == [["y", "z"], ["y", "z"]]
