"""The pageview API's OpenAPI document: committed as generated, served by the local gateway."""

from __future__ import annotations

import json

from starlette.testclient import TestClient

from ingestion import gateway, openapi
from newslake.settings import Settings


def test_the_committed_document_is_the_generated_one():
    assert openapi.FILE.read_text(encoding="utf-8") == openapi.rendered(), (
        "ingestion/openapi.json is stale: run python -m ingestion.openapi"
    )


def test_the_document_names_the_route_its_bodies_and_every_answer():
    doc = json.loads(openapi.FILE.read_text(encoding="utf-8"))
    post = doc["paths"]["/pageview"]["post"]

    assert (doc["openapi"], sorted(post["requestBody"]["content"]), sorted(post["responses"])) == (
        "3.1.0",
        ["application/json", "text/plain"],
        ["200", "400", "413", "415", "503"],
    )
    assert doc["components"]["schemas"]["PageviewBatch"]["properties"]["events"]["maxItems"] == 100


def test_the_gateway_serves_the_document():
    app = gateway.create_app(Settings(), invoke=lambda event, context: {})

    response = TestClient(app).get("/openapi.json")

    assert (response.status_code, response.json()) == (200, openapi.document())


def test_check_says_whether_the_file_is_current(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(openapi, "FILE", tmp_path / "openapi.json")
    (tmp_path / "openapi.json").write_text("{}\n", encoding="utf-8")

    stale = openapi.main(["--check"])
    openapi.main([])

    assert (stale, openapi.main(["--check"])) == (1, 0)
    assert "is stale: run python -m ingestion.openapi" in capsys.readouterr().err
