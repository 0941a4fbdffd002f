"""The impressions' AWS path in the ingestion stack: a subscription filter on the
recommendation function's log group passing only impression lines to a Firehose of their
own, which lands them under impressions/ as the local shipper does; each role can do one
thing; an alarm on failed deliveries; the Spark jobs may read what lands."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from ingestion import local_impressions
from tests.utils.cdk_app import Synthesized, refers_to

HOUR = "!{timestamp:yyyy}/!{timestamp:MM}/!{timestamp:dd}/!{timestamp:HH}/"


def _one(synthesized: Synthesized, resource_type: str, prefix: str) -> tuple[str, dict[str, Any]]:
    (found,) = [
        (k, r)
        for k, r in synthesized.resources("ingestion", resource_type).items()
        if k.startswith(prefix)
    ]
    return found


def _statements(synthesized: Synthesized, role_prefix: str) -> list[dict[str, Any]]:
    role, _ = _one(synthesized, "AWS::IAM::Role", role_prefix)
    (policy,) = [
        p["Properties"]["PolicyDocument"]["Statement"]
        for p in synthesized.resources("ingestion", "AWS::IAM::Policy").values()
        if p["Properties"]["Roles"] == [{"Ref": role}]
    ]
    return list(policy)


def _literal(resource: dict[str, Any]) -> str:
    """The written part of an ARN joined from the bucket's and a path (``Fn::Join``)."""
    return "".join(p for p in resource["Fn::Join"][1] if isinstance(p, str))


def _actions(statement: dict[str, Any]) -> list[str]:
    action = statement["Action"]
    return [action] if isinstance(action, str) else list(action)


def test_the_filter_passes_only_impression_lines_of_the_recommendation_function(
    synthesized: Synthesized,
) -> None:
    _, subscription = _one(synthesized, "AWS::Logs::SubscriptionFilter", "Impressions")
    delivery, _ = _one(synthesized, "AWS::KinesisFirehose::DeliveryStream", "Impressions")
    role, _ = _one(synthesized, "AWS::IAM::Role", "ImpressionsSubscriptionRole")
    (function_logs,) = [
        k
        for k, r in synthesized.resources("serving", "AWS::Logs::LogGroup").items()
        if r["Properties"].get("LogGroupName") == "/aws/lambda/newslake-ci-recommendations"
    ]

    props = subscription["Properties"]
    assert props["FilterPattern"] == '{ $.recommendation_id = "*" }'
    assert refers_to(props["LogGroupName"], function_logs)
    assert props["DestinationArn"] == {"Fn::GetAtt": [delivery, "Arn"]}
    assert props["RoleArn"] == {"Fn::GetAtt": [role, "Arn"]}


def test_firehose_unwraps_the_log_events_and_lands_gzip_json_lines(
    synthesized: Synthesized,
) -> None:
    _, delivery = _one(synthesized, "AWS::KinesisFirehose::DeliveryStream", "Impressions")
    landing = next(
        k
        for k, r in synthesized.resources("lake", "AWS::S3::Bucket").items()
        if r["Properties"]["BucketName"] == "newslake-ci-landing"
    )

    props = delivery["Properties"]
    assert (props["DeliveryStreamName"], props["DeliveryStreamType"]) == (
        "newslake-ci-impressions",
        "DirectPut",
    )
    s3 = props["ExtendedS3DestinationConfiguration"]
    assert s3["Prefix"] == "impressions/" + HOUR
    assert s3["ErrorOutputPrefix"] == "errors/impressions/!{firehose:error-output-type}/" + HOUR
    assert (s3["CompressionFormat"], s3["FileExtension"]) == ("GZIP", ".json.gz")
    assert s3["ProcessingConfiguration"] == {
        "Enabled": True,
        "Processors": [
            {
                "Type": "Decompression",
                "Parameters": [{"ParameterName": "CompressionFormat", "ParameterValue": "GZIP"}],
            },
            {
                "Type": "CloudWatchLogProcessing",
                "Parameters": [
                    {"ParameterName": "DataMessageExtraction", "ParameterValue": "true"}
                ],
            },
            {"Type": "AppendDelimiterToRecord"},
        ],
    }
    assert refers_to(s3["BucketARN"], landing)
    assert refers_to(s3["EncryptionConfiguration"], synthesized.key_id("s3"))


def test_firehose_lands_where_the_local_shipper_does(synthesized: Synthesized) -> None:
    _, delivery = _one(synthesized, "AWS::KinesisFirehose::DeliveryStream", "Impressions")
    prefix = delivery["Properties"]["ExtendedS3DestinationConfiguration"]["Prefix"]
    filled = (
        prefix.replace("!{timestamp:yyyy}", "2026")
        .replace("!{timestamp:MM}", "03")
        .replace("!{timestamp:dd}", "07")
        .replace("!{timestamp:HH}", "09")
    )
    at = datetime(2026, 3, 7, 9, 15, tzinfo=UTC)

    key = local_impressions.object_key(synthesized.config.settings, "41-000000.jsonl", 0, at)

    assert filled == "impressions/2026/03/07/09/"
    assert key.startswith(filled) and key.endswith(".json.gz")


def test_cloudwatch_logs_may_only_put_to_the_impressions_stream(
    synthesized: Synthesized,
) -> None:
    delivery, _ = _one(synthesized, "AWS::KinesisFirehose::DeliveryStream", "Impressions")
    _, role = _one(synthesized, "AWS::IAM::Role", "ImpressionsSubscriptionRole")

    (trust,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "logs.amazonaws.com"}
    assert "aws:SourceArn" in trust["Condition"]["StringLike"]
    assert _statements(synthesized, "ImpressionsSubscriptionRole") == [
        {
            "Action": ["firehose:PutRecord", "firehose:PutRecordBatch"],
            "Effect": "Allow",
            "Resource": {"Fn::GetAtt": [delivery, "Arn"]},
        }
    ]


def test_firehose_may_write_only_under_the_impressions_prefixes(
    synthesized: Synthesized,
) -> None:
    statements = _statements(synthesized, "ImpressionsFirehoseRole")

    written = sorted(
        _literal(resource)
        for s in statements
        if any(a.startswith("s3:Put") for a in _actions(s))
        for resource in (s["Resource"] if isinstance(s["Resource"], list) else [s["Resource"]])
    )
    assert written == ["/errors/impressions/*", "/impressions/*"]
    services = {a.split(":")[0] for s in statements for a in _actions(s)}
    assert services == {"s3", "kms", "logs"}  # no Kinesis, no other Firehose
    logs = [s for s in statements if any(a.startswith("logs:") for a in _actions(s))]
    assert all("ImpressionsFirehoseLogs" in json.dumps(s["Resource"]) for s in logs)


def test_an_alarm_watches_failed_impression_deliveries(synthesized: Synthesized) -> None:
    alarms = [
        a["Properties"]
        for a in synthesized.resources("observability", "AWS::CloudWatch::Alarm").values()
        if a["Properties"]["Dimensions"][0]["Value"] == "newslake-ci-impressions"
    ]

    assert sorted((a["MetricName"], a["ComparisonOperator"], a["Threshold"]) for a in alarms) == [
        ("DeliveryToS3.DataFreshness", "GreaterThanOrEqualToThreshold", 900),
        ("DeliveryToS3.Success", "LessThanThreshold", 1),
    ]


def test_the_spark_jobs_may_read_the_landed_impressions(synthesized: Synthesized) -> None:
    policies = synthesized.resources("lake", "AWS::IAM::Policy")

    for name in ("StreamingJobRole", "NightlyJobRole"):
        (document,) = [
            p["Properties"]["PolicyDocument"]
            for k, p in policies.items()
            if k.startswith(f"{name}DefaultPolicy")
        ]
        assert '"/impressions/*"' in json.dumps(document), name
