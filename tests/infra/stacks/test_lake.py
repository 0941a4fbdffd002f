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


def test_landing_moves_to_deep_archive_after_the_configured_age(synthesized: Synthesized) -> None:
    rules = _buckets(synthesized)["newslake-ci-landing"]["LifecycleConfiguration"]["Rules"]

    archive = [r for r in rules if r.get("Transitions")]
    assert archive == [
        {
            "Id": "landing-to-deep-archive",
            "Status": "Enabled",
            "Transitions": [{"StorageClass": "DEEP_ARCHIVE", "TransitionInDays": 120}],
        }
    ]


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
