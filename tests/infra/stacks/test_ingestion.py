"""The ingestion stack: API, a stream and a delivery stream per portal, retry queue and worker."""

from __future__ import annotations

from datetime import UTC, datetime

from aws_cdk.assertions import Match

from ingestion import local_firehose
from tests.utils.cdk_app import PORTALS, Synthesized, refers_to


def _by_name(resources: dict, key: str) -> dict:
    return {r["Properties"][key]: r for r in resources.values()}


def test_one_encrypted_on_demand_stream_per_portal(synthesized: Synthesized) -> None:
    streams = _by_name(synthesized.resources("ingestion", "AWS::Kinesis::Stream"), "Name")
    kinesis_key = synthesized.key_id("kinesis")

    assert sorted(streams) == ["newslake-ci-pageviews-g1", "newslake-ci-pageviews-receitas"]
    for stream in streams.values():
        props = stream["Properties"]
        assert props["StreamModeDetails"] == {"StreamMode": "ON_DEMAND"}
        assert props["StreamEncryption"]["EncryptionType"] == "KMS"
        assert refers_to(props["StreamEncryption"]["KeyId"], kinesis_key)


def test_one_firehose_per_portal_reading_its_stream(synthesized: Synthesized) -> None:
    streams = synthesized.resources("ingestion", "AWS::Kinesis::Stream")
    stream_ids = {r["Properties"]["Name"]: k for k, r in streams.items()}
    deliveries = _by_name(
        synthesized.resources("ingestion", "AWS::KinesisFirehose::DeliveryStream"),
        "DeliveryStreamName",
    )

    pageviews = {n: d for n, d in deliveries.items() if n != "newslake-ci-impressions"}

    assert sorted(deliveries) == [
        "newslake-ci-impressions",  # tests/infra/stacks/test_impressions.py
        "newslake-ci-pageviews-g1",
        "newslake-ci-pageviews-receitas",
    ]
    for name, delivery in pageviews.items():
        props = delivery["Properties"]
        assert props["DeliveryStreamType"] == "KinesisStreamAsSource"
        source = props["KinesisStreamSourceConfiguration"]["KinesisStreamARN"]
        assert source == {"Fn::GetAtt": [stream_ids[name], "Arn"]}


def test_firehose_writes_gzip_hourly_prefixes_into_landing(synthesized: Synthesized) -> None:
    deliveries = _by_name(
        synthesized.resources("ingestion", "AWS::KinesisFirehose::DeliveryStream"),
        "DeliveryStreamName",
    )
    s3 = deliveries["newslake-ci-pageviews-receitas"]["Properties"][
        "ExtendedS3DestinationConfiguration"
    ]
    landing_id = next(
        k
        for k, r in synthesized.resources("lake", "AWS::S3::Bucket").items()
        if r["Properties"]["BucketName"] == "newslake-ci-landing"
    )

    assert s3["Prefix"] == (
        "pageviews/portal=receitas/year=!{timestamp:yyyy}/month=!{timestamp:MM}/"
        "day=!{timestamp:dd}/hour=!{timestamp:HH}/"
    )
    assert s3["ErrorOutputPrefix"] == (
        "errors/pageviews/!{firehose:error-output-type}/portal=receitas/"
        "year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/hour=!{timestamp:HH}/"
    )
    assert (s3["CompressionFormat"], s3["FileExtension"]) == ("GZIP", ".json.gz")
    assert s3["BufferingHints"] == {"IntervalInSeconds": 300, "SizeInMBs": 64}
    assert s3["ProcessingConfiguration"] == {
        "Enabled": True,
        "Processors": [{"Type": "AppendDelimiterToRecord"}],
    }
    assert refers_to(s3["BucketARN"], landing_id)
    assert refers_to(s3["EncryptionConfiguration"], synthesized.key_id("s3"))


def test_firehose_prefix_is_where_the_local_stand_in_writes(synthesized: Synthesized) -> None:
    deliveries = _by_name(
        synthesized.resources("ingestion", "AWS::KinesisFirehose::DeliveryStream"),
        "DeliveryStreamName",
    )
    prefix = deliveries["newslake-ci-pageviews-g1"]["Properties"][
        "ExtendedS3DestinationConfiguration"
    ]["Prefix"]
    at = datetime(2026, 3, 7, 9, 15, tzinfo=UTC)
    filled = (
        prefix.replace("!{timestamp:yyyy}", "2026")
        .replace("!{timestamp:MM}", "03")
        .replace("!{timestamp:dd}", "07")
        .replace("!{timestamp:HH}", "09")
    )

    name = local_firehose.object_name("s", [("shard-0", "1")])
    key = local_firehose.object_key(synthesized.config.settings, "g1", at, name)

    assert key.startswith(filled)
    assert filled == "pageviews/portal=g1/year=2026/month=03/day=07/hour=09/"


def test_retry_queue_sends_to_dlq_after_five_receives(synthesized: Synthesized) -> None:
    queues = _by_name(synthesized.resources("ingestion", "AWS::SQS::Queue"), "QueueName")
    dlq_id = next(
        k
        for k, r in synthesized.resources("ingestion", "AWS::SQS::Queue").items()
        if r["Properties"]["QueueName"] == "newslake-ci-pageview-dlq"
    )
    sqs_key = synthesized.key_id("sqs")

    retry = queues["newslake-ci-pageview-retry"]["Properties"]
    assert retry["RedrivePolicy"] == {
        "deadLetterTargetArn": {"Fn::GetAtt": [dlq_id, "Arn"]},
        "maxReceiveCount": 5,
    }
    for queue in queues.values():
        assert refers_to(queue["Properties"]["KmsMasterKeyId"], sqs_key)


def test_retry_worker_reports_batch_item_failures(synthesized: Synthesized) -> None:
    template = synthesized.template("ingestion")

    template.has_resource_properties(
        "AWS::Lambda::EventSourceMapping",
        {
            "FunctionName": {"Ref": Match.string_like_regexp("^RetryFunction")},
            "FunctionResponseTypes": ["ReportBatchItemFailures"],
            "BatchSize": 10,
        },
    )


def test_functions_run_the_repository_handlers(synthesized: Synthesized) -> None:
    functions = _by_name(
        synthesized.resources("ingestion", "AWS::Lambda::Function"), "FunctionName"
    )

    assert functions["newslake-ci-pageview"]["Properties"]["Handler"] == (
        "ingestion.handler.lambda_handler"
    )
    assert functions["newslake-ci-retry-worker"]["Properties"]["Handler"] == (
        "ingestion.retry_worker.lambda_handler"
    )
    env = functions["newslake-ci-pageview"]["Properties"]["Environment"]["Variables"]
    assert env["NEWSLAKE_PROFILE"] == "aws"
    assert env["NEWSLAKE_NAME_PREFIX"] == "newslake-ci"
    assert env["NEWSLAKE_PORTALS"] == ",".join(PORTALS)


def test_pageview_api_posts_to_the_function_with_throttling(synthesized: Synthesized) -> None:
    template = synthesized.template("ingestion")

    template.has_resource_properties("AWS::ApiGateway::Resource", {"PathPart": "pageview"})
    template.has_resource_properties(
        "AWS::ApiGateway::Method",
        {"HttpMethod": "POST", "Integration": {"Type": "AWS_PROXY"}},
    )
    template.has_resource_properties(
        "AWS::ApiGateway::Stage",
        {
            "StageName": "ci",
            "MethodSettings": Match.array_with(
                [Match.object_like({"ThrottlingRateLimit": 2000, "ThrottlingBurstLimit": 4000})]
            ),
        },
    )
