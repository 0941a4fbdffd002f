"""The serving stack: DynamoDB tables as in newslake/store.py, Cognito, the API function."""

from __future__ import annotations

import json

from aws_cdk.assertions import Match

from tests.utils.cdk_app import Synthesized, refers_to


def _tables(synthesized: Synthesized) -> dict[str, dict]:
    return {
        r["Properties"]["TableName"]: r["Properties"]
        for r in synthesized.resources("serving", "AWS::DynamoDB::Table").values()
    }


def test_table_keys_match_the_store_layout(synthesized: Synthesized) -> None:
    tables = _tables(synthesized)

    assert tables["newslake-ci-recommendations"]["KeySchema"] == [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ]
    assert tables["newslake-ci-model-versions"]["KeySchema"] == [
        {"AttributeName": "portal", "KeyType": "HASH"}
    ]


def test_recommendations_expire_by_ttl(synthesized: Synthesized) -> None:
    tables = _tables(synthesized)

    assert tables["newslake-ci-recommendations"]["TimeToLiveSpecification"] == {
        "AttributeName": "expires_at",
        "Enabled": True,
    }


def test_tables_are_on_demand_with_pitr_and_the_dynamodb_key(synthesized: Synthesized) -> None:
    key = synthesized.key_id("dynamodb")

    for name, props in _tables(synthesized).items():
        assert props["BillingMode"] == "PAY_PER_REQUEST", name
        assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
        sse = props["SSESpecification"]
        assert sse["SSEEnabled"] is True and sse["SSEType"] == "KMS", name
        assert refers_to(sse["KMSMasterKeyId"], key), name


def test_resource_server_has_the_scopes_serving_checks(synthesized: Synthesized) -> None:
    (server,) = synthesized.resources("serving", "AWS::Cognito::UserPoolResourceServer").values()

    assert server["Properties"]["Identifier"] == "newslake"
    assert sorted(s["ScopeName"] for s in server["Properties"]["Scopes"]) == [
        "editorial.write",
        "portal.g1",
        "portal.receitas",
        "privacy.erase",
        "recommendations.read",
    ]


def test_machine_client_uses_client_credentials(synthesized: Synthesized) -> None:
    template = synthesized.template("serving")

    template.has_resource_properties(
        "AWS::Cognito::UserPoolClient",
        {
            "ClientName": "newslake-ci-machine",
            "GenerateSecret": True,
            "AllowedOAuthFlows": ["client_credentials"],
            "AllowedOAuthScopes": Match.array_with(
                [
                    Match.object_like({"Fn::Join": Match.any_value()}),
                ]
            ),
        },
    )
    template.has_resource_properties(
        "AWS::Cognito::UserPoolClient", {"ClientName": "newslake-ci-web"}
    )
    template.has_resource_properties(
        "AWS::Cognito::UserPool", {"UserPoolName": "newslake-ci-readers"}
    )


def test_serving_function_runs_mangum_with_the_pool(synthesized: Synthesized) -> None:
    (fn,) = synthesized.resources("serving", "AWS::Lambda::Function").values()
    props = fn["Properties"]
    pool_id = next(iter(synthesized.resources("serving", "AWS::Cognito::UserPool")))

    assert props["Handler"] == "serving.lambda_handler.handler"
    env = props["Environment"]["Variables"]
    assert env["NEWSLAKE_PROFILE"] == "aws"
    assert refers_to(env["NEWSLAKE_COGNITO_USER_POOL_ID"], pool_id)
    assert "NEWSLAKE_COGNITO_CLIENT_IDS" in env


def test_serving_api_is_throttled(synthesized: Synthesized) -> None:
    synthesized.template("serving").has_resource_properties(
        "AWS::ApiGateway::Stage",
        {
            "MethodSettings": Match.array_with(
                [Match.object_like({"ThrottlingRateLimit": 1000, "ThrottlingBurstLimit": 2000})]
            )
        },
    )


def test_erasure_requests_are_kept_by_subject(synthesized: Synthesized) -> None:
    table = _tables(synthesized)["newslake-ci-privacy-requests"]

    assert table["KeySchema"] == [{"AttributeName": "subject", "KeyType": "HASH"}]
    assert table["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True


def test_the_privacy_client_holds_the_erase_scope_alone(synthesized: Synthesized) -> None:
    clients = {
        c["Properties"]["ClientName"]: c["Properties"]
        for c in synthesized.resources("serving", "AWS::Cognito::UserPoolClient").values()
    }

    privacy = clients["newslake-ci-privacy"]
    assert privacy["AllowedOAuthFlows"] == ["client_credentials"]
    (scope,) = privacy["AllowedOAuthScopes"]
    assert "privacy.erase" in json.dumps(scope)
    assert "privacy.erase" not in json.dumps(clients["newslake-ci-machine"]["AllowedOAuthScopes"])


def test_the_api_may_only_record_and_read_erasure_requests(synthesized: Synthesized) -> None:
    tables = synthesized.resources("serving", "AWS::DynamoDB::Table")
    requests = next(
        k
        for k, r in tables.items()
        if r["Properties"]["TableName"] == "newslake-ci-privacy-requests"
    )
    (fn,) = synthesized.resources("serving", "AWS::Lambda::Function").values()

    actions = {
        a
        for p in synthesized.resources("serving", "AWS::IAM::Policy").values()
        for s in p["Properties"]["PolicyDocument"]["Statement"]
        if refers_to(s["Resource"], requests)
        for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    }
    assert actions == {"dynamodb:GetItem", "dynamodb:UpdateItem"}
    key = fn["Properties"]["Environment"]["Variables"]["NEWSLAKE_PRIVACY_HASH_KEY"]
    assert "resolve:secretsmanager" in json.dumps(key)  # a reference, never the key itself


def test_the_editorial_client_holds_the_editorial_and_portal_scopes(
    synthesized: Synthesized,
) -> None:
    clients = {
        c["Properties"]["ClientName"]: c["Properties"]
        for c in synthesized.resources("serving", "AWS::Cognito::UserPoolClient").values()
    }

    newsroom = clients["newslake-ci-editorial"]
    assert newsroom["AllowedOAuthFlows"] == ["client_credentials"]
    held = json.dumps(newsroom["AllowedOAuthScopes"])
    assert all(s in held for s in ("editorial.write", "portal.g1", "portal.receitas"))
    assert "recommendations.read" not in held and "privacy.erase" not in held
    for other in ("newslake-ci-machine", "newslake-ci-privacy"):
        assert "editorial.write" not in json.dumps(clients[other]["AllowedOAuthScopes"])


def test_the_api_writes_only_the_controls_items_of_the_store(synthesized: Synthesized) -> None:
    statements = [
        st
        for policy in synthesized.resources("serving", "AWS::IAM::Policy").values()
        for st in policy["Properties"]["PolicyDocument"]["Statement"]
    ]
    writes = [st for st in statements if "dynamodb:PutItem" in json.dumps(st["Action"])]

    (controls,) = writes
    assert controls["Condition"] == {
        "ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["*#controls", "*#controls#log"]}
    }
