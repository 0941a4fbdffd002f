"""The session-state consumer in the ingestion stack: its function, one Kinesis mapping per
stream with partial batch failures, and a role that can do only what the handler does."""

from __future__ import annotations

from typing import Any

from tests.utils.cdk_app import Synthesized, refers_to


def _function_id(synthesized: Synthesized) -> str:
    functions = synthesized.resources("ingestion", "AWS::Lambda::Function")
    (found,) = [
        k
        for k, r in functions.items()
        if r["Properties"]["FunctionName"] == "newslake-ci-session-state"
    ]
    return found


def _mappings(synthesized: Synthesized) -> list[dict[str, Any]]:
    fn = _function_id(synthesized)
    return [
        r["Properties"]
        for r in synthesized.resources("ingestion", "AWS::Lambda::EventSourceMapping").values()
        if r["Properties"]["FunctionName"] == {"Ref": fn}
    ]


def _statements(synthesized: Synthesized) -> list[dict[str, Any]]:
    fn = synthesized.resources("ingestion", "AWS::Lambda::Function")[_function_id(synthesized)]
    role = fn["Properties"]["Role"]["Fn::GetAtt"][0]
    (policy,) = [
        p["Properties"]
        for p in synthesized.resources("ingestion", "AWS::IAM::Policy").values()
        if p["Properties"]["Roles"] == [{"Ref": role}]
    ]
    return list(policy["PolicyDocument"]["Statement"])


def _actions(statement: dict[str, Any]) -> list[str]:
    action = statement["Action"]
    return [action] if isinstance(action, str) else list(action)


def test_the_function_runs_the_session_state_handler(synthesized: Synthesized) -> None:
    fn = synthesized.resources("ingestion", "AWS::Lambda::Function")[_function_id(synthesized)]

    assert fn["Properties"]["Handler"] == "ingestion.session_lambda.lambda_handler"
    env = fn["Properties"]["Environment"]["Variables"]
    assert (env["NEWSLAKE_PROFILE"], env["NEWSLAKE_NAME_PREFIX"]) == ("aws", "newslake-ci")


def test_one_mapping_per_stream_in_order_with_partial_failures(synthesized: Synthesized) -> None:
    streams = synthesized.resources("ingestion", "AWS::Kinesis::Stream")
    queues = synthesized.resources("ingestion", "AWS::SQS::Queue")
    (failures,) = [
        k
        for k, q in queues.items()
        if q["Properties"]["QueueName"] == "newslake-ci-session-state-failures"
    ]

    mappings = _mappings(synthesized)

    assert sorted(m["EventSourceArn"]["Fn::GetAtt"][0] for m in mappings) == sorted(streams)
    for m in mappings:
        assert m["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        assert m["ParallelizationFactor"] == 1
        assert m["BisectBatchOnFunctionError"] is True
        assert m["StartingPosition"] == "TRIM_HORIZON"
        assert m["BatchSize"] == 500
        assert m["MaximumRecordAgeInSeconds"] == 24 * 3600
        assert refers_to(m["DestinationConfig"]["OnFailure"]["Destination"], failures)


def test_the_role_may_only_read_the_streams_and_write_session_state(
    synthesized: Synthesized,
) -> None:
    statements = _statements(synthesized)
    table = next(
        k
        for k, r in synthesized.resources("serving", "AWS::DynamoDB::Table").items()
        if r["Properties"]["TableName"] == "newslake-ci-recommendations"
    )

    by_service: dict[str, list[dict[str, Any]]] = {}
    for s in statements:
        for service in {a.split(":")[0] for a in _actions(s)}:
            by_service.setdefault(service, []).append(s)
    (dynamo,) = by_service["dynamodb"]
    assert sorted(_actions(dynamo)) == [
        "dynamodb:BatchGetItem",
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
    ]
    assert refers_to(dynamo["Resource"], table)
    kinesis = by_service["kinesis"]
    assert len(kinesis) == 2  # one statement per stream, each naming its stream
    for s in kinesis:
        assert "kinesis:GetRecords" in _actions(s)
        assert not [a for a in _actions(s) if a.startswith("kinesis:Put")]
        assert "Stream" in str(s["Resource"])
    assert {"sqs:SendMessage"} <= {a for s in by_service["sqs"] for a in _actions(s)}
    assert set(by_service) == {"dynamodb", "kinesis", "kms", "sqs", "xray"}


def test_an_alarm_watches_how_far_behind_it_reads(synthesized: Synthesized) -> None:
    alarms = synthesized.resources("observability", "AWS::CloudWatch::Alarm").values()

    (age,) = [a["Properties"] for a in alarms if a["Properties"]["MetricName"] == "IteratorAge"]

    assert age["Namespace"] == "AWS/Lambda"
    assert age["Statistic"] == "Maximum"
    assert age["Threshold"] == 60_000
    (dimension,) = age["Dimensions"]
    assert dimension["Name"] == "FunctionName"
    assert "SessionState" in str(dimension["Value"])
