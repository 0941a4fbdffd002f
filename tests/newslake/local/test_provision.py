from __future__ import annotations

import json

import pytest

from newslake import aws, cognito
from newslake.local import provision

pytestmark = pytest.mark.slow


def test_one_stream_per_portal(local_platform):
    names = aws.client("kinesis", local_platform).list_streams()["StreamNames"]
    assert {"newslake-pageviews-g1", "newslake-pageviews-ge", "newslake-pageviews-gshow"} <= set(
        names
    )


def test_retry_queue_redrives_to_the_dead_letter_queue(local_platform):
    sqs = aws.client("sqs", local_platform)
    url = sqs.get_queue_url(QueueName="newslake-pageview-retry")["QueueUrl"]
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    policy = json.loads(attrs["RedrivePolicy"])
    assert policy["deadLetterTargetArn"].endswith(":newslake-pageview-dlq")
    assert int(policy["maxReceiveCount"]) == 5


def test_buckets_and_tables_exist(local_platform):
    buckets = {b["Name"] for b in aws.client("s3", local_platform).list_buckets()["Buckets"]}
    assert {"newslake-landing", "newslake-lake"} <= buckets
    tables = aws.client("dynamodb", local_platform).list_tables()["TableNames"]
    assert {"newslake-recommendations", "newslake-model-versions"} <= set(tables)


def test_provisioning_twice_changes_nothing(local_platform):
    first = cognito.find_cognito_app(local_platform)
    again = provision.provision(local_platform)
    assert again == first
    names = aws.client("kinesis", local_platform).list_streams()["StreamNames"]
    # other tests provision their own prefix on the shared server: count this prefix's
    mine = [n for n in names if n.startswith("newslake-")]
    assert sorted(mine) == [
        "newslake-pageviews-g1",
        "newslake-pageviews-ge",
        "newslake-pageviews-gshow",
    ]


def test_a_provisioned_user_gets_an_access_token(local_platform):
    app = cognito.find_cognito_app(local_platform)
    provision.ensure_user(local_platform, app, "reader-1", "correct-horse-9A!")
    provision.ensure_user(local_platform, app, "reader-1", "correct-horse-9A!")  # idempotent
    token = provision.login(local_platform, app, "reader-1", "correct-horse-9A!")
    assert token.count(".") == 2
