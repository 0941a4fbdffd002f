"""The lake stack: buckets, the archive rule, EMR Serverless and the job roles."""

from __future__ import annotations

from tests.utils.cdk_app import Synthesized, refers_to


def _buckets(synthesized: Synthesized) -> dict[str, dict]:
    return {
        r["Properties"]["BucketName"]: r["Properties"]
        for r in synthesized.resources("lake", "AWS::S3::Bucket").values()
    }


def test_bucket_names_follow_the_settings(synthesized: Synthesized) -> None:
    assert sorted(_buckets(synthesized)) == [
        "newslake-ci-artifacts",
        "newslake-ci-lake",
        "newslake-ci-landing",
    ]


def test_landing_objects_expire_and_are_never_archived(synthesized: Synthesized) -> None:
    rules = _buckets(synthesized)["newslake-ci-landing"]["LifecycleConfiguration"]["Rules"]

    # landing_retention_days' default; archive_after_days (120 here) is the trail's only
    assert [r for r in rules if r["Id"] != "abort-multipart"] == [
        {"Id": "landing-expiry", "Status": "Enabled", "ExpirationInDays": 14}
    ]


def test_lake_object_versions_expire_after_the_settings_days(synthesized: Synthesized) -> None:
    rules = _buckets(synthesized)["newslake-ci-lake"]["LifecycleConfiguration"]["Rules"]

    # lake_noncurrent_version_days as tests/utils/cdk_app.py sets it
    assert [r for r in rules if r["Id"] == "drop-old-versions"] == [
        {
            "Id": "drop-old-versions",
            "Status": "Enabled",
            "NoncurrentVersionExpiration": {"NoncurrentDays": 9},
            "ExpiredObjectDeleteMarker": True,
        }
    ]


def test_the_nightly_role_reads_erasure_requests_and_records_steps(
    synthesized: Synthesized,
) -> None:
    requests = next(
        k
        for k, r in synthesized.resources("serving", "AWS::DynamoDB::Table").items()
        if r["Properties"]["TableName"] == "newslake-ci-privacy-requests"
    )
    actions = {
        k.split("DefaultPolicy")[0]: {
            a
            for s in p["Properties"]["PolicyDocument"]["Statement"]
            if refers_to(s["Resource"], requests)
            for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
        }
        for k, p in synthesized.resources("lake", "AWS::IAM::Policy").items()
    }

    nightly = next(v for k, v in actions.items() if k.startswith("NightlyJobRole"))
    streaming = next(v for k, v in actions.items() if k.startswith("StreamingJobRole"))
    assert {"dynamodb:Scan", "dynamodb:GetItem", "dynamodb:UpdateItem"} <= nightly
    assert "dynamodb:DeleteItem" not in nightly
    assert streaming == set()


def test_every_bucket_uses_the_s3_key(synthesized: Synthesized) -> None:
    s3_key = synthesized.key_id("s3")
    buckets = synthesized.all_resources("AWS::S3::Bucket")

    assert len(buckets) == 4  # landing, lake, artifacts, trail
    for name, bucket in buckets.items():
        encryption = bucket["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        default = encryption[0]["ServerSideEncryptionByDefault"]
        assert default["SSEAlgorithm"] == "aws:kms", name
        assert refers_to(default["KMSMasterKeyID"], s3_key), name


def test_every_bucket_blocks_public_access_and_plain_http(synthesized: Synthesized) -> None:
    buckets = synthesized.all_resources("AWS::S3::Bucket")
    policies = synthesized.all_resources("AWS::S3::BucketPolicy")

    for name, bucket in buckets.items():
        assert bucket["Properties"]["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True,
            "BlockPublicPolicy": True,
            "IgnorePublicAcls": True,
            "RestrictPublicBuckets": True,
        }, name
        logical_id = name.split("/")[1]
        tls_denied = [
            statement
            for policy in policies.values()
            if refers_to(policy["Properties"]["Bucket"], logical_id)
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]
            if statement["Effect"] == "Deny"
            and statement.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}
        ]
        assert tls_denied, f"{name} accepts plain HTTP"


def test_emr_serverless_spark_application(synthesized: Synthesized) -> None:
    (app,) = synthesized.resources("lake", "AWS::EMRServerless::Application").values()
    props = app["Properties"]

    assert props["Type"] == "Spark"
    assert props["ReleaseLabel"] == "emr-spark-8.0.0"
    assert props["Name"] == "newslake-ci-spark"
    assert props["AutoStopConfiguration"]["Enabled"] is True


def test_job_roles_are_for_emr_serverless_only(synthesized: Synthesized) -> None:
    roles = synthesized.resources("lake", "AWS::IAM::Role")

    job_roles = {
        k: r for k, r in roles.items() if k.startswith(("StreamingJobRole", "NightlyJobRole"))
    }
    assert len(job_roles) == 2
    for role in job_roles.values():
        (statement,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
        assert statement["Principal"] == {"Service": "emr-serverless.amazonaws.com"}


def test_only_the_nightly_role_writes_version_pointers(synthesized: Synthesized) -> None:
    versions_table = next(
        k
        for k, r in synthesized.resources("serving", "AWS::DynamoDB::Table").items()
        if r["Properties"]["TableName"] == "newslake-ci-model-versions"
    )
    policies = synthesized.resources("lake", "AWS::IAM::Policy")

    writers = [
        k
        for k, p in policies.items()
        for s in p["Properties"]["PolicyDocument"]["Statement"]
        if refers_to(s["Resource"], versions_table) and "dynamodb:PutItem" in s["Action"]
    ]
    assert len(writers) == 1 and writers[0].startswith("NightlyJobRole")


def test_the_streaming_role_reads_only_the_editorial_controls(synthesized: Synthesized) -> None:
    table = next(
        k
        for k, r in synthesized.resources("serving", "AWS::DynamoDB::Table").items()
        if r["Properties"]["TableName"] == "newslake-ci-recommendations"
    )
    reads = [
        s
        for k, p in synthesized.resources("lake", "AWS::IAM::Policy").items()
        if k.startswith("StreamingJobRole")
        for s in p["Properties"]["PolicyDocument"]["Statement"]
        if refers_to(s["Resource"], table) and "dynamodb:Query" in s["Action"]
    ]

    (controls,) = reads
    assert controls["Condition"] == {
        "ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["*#controls"]}
    }
