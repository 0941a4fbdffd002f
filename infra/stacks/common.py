"""Pieces every stack builds the same way: secure buckets, functions with their log groups."""

from __future__ import annotations

import json
from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kinesisfirehose as firehose
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from constructs import Construct

from infra.config import LOG_RETENTION_DAYS, InfraConfig

REPO_ROOT = Path(__file__).resolve().parents[2]
# The Lambda asset is the repository with everything but the three packages the handlers
# import left out (gitignore syntax: exclude all, then re-include). Dependencies are not in
# it: they come from the layer (`lambda_layer_dir`, built by `make deploy`), no Docker.
LAMBDA_ASSET_EXCLUDE = [
    "*",
    "!newslake/",
    "!newslake/**",
    "!ingestion/",
    "!ingestion/**",
    "!serving/",
    "!serving/**",
    "ingestion/tracker/",
    "newslake/local/",
    "**/__pycache__/",
    "**/*.pyc",
]
RUNTIME = lambda_.Runtime.PYTHON_3_11
# CloudWatch's retention periods by their CDK names, in the order of LOG_RETENTION_DAYS.
_RETENTION_NAMES = (
    "ONE_DAY", "THREE_DAYS", "FIVE_DAYS", "ONE_WEEK", "TWO_WEEKS", "ONE_MONTH", "TWO_MONTHS",
    "THREE_MONTHS", "FOUR_MONTHS", "FIVE_MONTHS", "SIX_MONTHS", "ONE_YEAR", "THIRTEEN_MONTHS",
    "EIGHTEEN_MONTHS", "TWO_YEARS", "THREE_YEARS", "FIVE_YEARS", "SIX_YEARS", "SEVEN_YEARS",
    "EIGHT_YEARS", "NINE_YEARS", "TEN_YEARS",
)  # fmt: skip
_RETENTION = dict(zip(LOG_RETENTION_DAYS, _RETENTION_NAMES, strict=True))


def retention(config: InfraConfig) -> logs.RetentionDays:
    """The log retention of every log group, from ``log_retention_days``."""
    return logs.RetentionDays[_RETENTION[config.log_retention_days]]


def secure_bucket(
    scope: Construct,
    construct_id: str,
    *,
    name: str,
    key: kms.IKey,
    lifecycle_rules: list[s3.LifecycleRule] | None = None,
    versioned: bool = False,
) -> s3.Bucket:
    """A bucket with SSE-KMS under ``key``, TLS only, no public access, kept on delete."""
    rules = [
        s3.LifecycleRule(
            id="abort-multipart", abort_incomplete_multipart_upload_after=cdk.Duration.days(7)
        )
    ]
    return s3.Bucket(
        scope,
        construct_id,
        bucket_name=name,
        encryption=s3.BucketEncryption.KMS,
        encryption_key=key,
        bucket_key_enabled=True,  # one data key per bucket and hour: far fewer KMS calls
        enforce_ssl=True,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        versioned=versioned,
        lifecycle_rules=[*rules, *(lifecycle_rules or [])],
        removal_policy=cdk.RemovalPolicy.RETAIN,
    )


def code_asset() -> lambda_.Code:
    return lambda_.Code.from_asset(
        str(REPO_ROOT), exclude=LAMBDA_ASSET_EXCLUDE, ignore_mode=cdk.IgnoreMode.GIT
    )


def dependencies_layer(scope: Construct, config: InfraConfig) -> lambda_.ILayerVersion | None:
    """The layer with the handlers' packages, when ``lambda_layer_dir`` names a built one."""
    if not config.lambda_layer_dir:
        return None
    return lambda_.LayerVersion(
        scope,
        "Dependencies",
        code=lambda_.Code.from_asset(config.lambda_layer_dir),
        compatible_runtimes=[RUNTIME],
        description="newslake Lambda dependencies (python -m infra.layer)",
    )


def code_environment(config: InfraConfig) -> dict[str, str]:
    """The ``NEWSLAKE_*`` variables every function runs with: the ``aws`` profile's names."""
    s = config.settings
    return {
        "NEWSLAKE_PROFILE": "aws",
        "NEWSLAKE_NAME_PREFIX": s.name_prefix,
        "NEWSLAKE_PORTALS": ",".join(s.portals),
        "NEWSLAKE_REGION": cdk.Aws.REGION,
        # The pageview API checks each event's URL against its portal's domains.
        "NEWSLAKE_PORTAL_DOMAINS": json.dumps(
            {p: list(d) for p, d in s.portal_domains.items()}, separators=(",", ":")
        ),
    }


def python_function(
    scope: Construct,
    construct_id: str,
    *,
    config: InfraConfig,
    name: str,
    handler: str,
    description: str,
    environment: dict[str, str],
    layer: lambda_.ILayerVersion | None,
    timeout_s: int,
    memory_mb: int = 512,
    vpc: ec2.IVpc | None = None,
) -> lambda_.Function:
    """A Python function from the repository asset, with its own log group and retention."""
    log_group = logs.LogGroup(
        scope,
        f"{construct_id}Logs",
        log_group_name=f"/aws/lambda/{name}",
        retention=retention(config),
        removal_policy=cdk.RemovalPolicy.DESTROY,
    )
    fn = lambda_.Function(
        scope,
        construct_id,
        function_name=name,
        description=description,
        runtime=RUNTIME,
        architecture=lambda_.Architecture.X86_64,
        handler=handler,
        code=code_asset(),
        layers=[layer] if layer else None,
        timeout=cdk.Duration.seconds(timeout_s),
        memory_size=memory_mb,
        environment={**code_environment(config), **environment},
        log_group=log_group,
        logging_format=lambda_.LoggingFormat.JSON,
        tracing=lambda_.Tracing.ACTIVE,
        vpc=vpc,
        vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS)
        if vpc
        else None,
    )
    return fn


def service_role(scope: Construct, construct_id: str, service: str, description: str) -> iam.Role:
    """A role only ``service`` may assume, and only on behalf of this account."""
    return iam.Role(
        scope,
        construct_id,
        description=description,
        assumed_by=iam.ServicePrincipal(service).with_conditions(
            {"StringEquals": {"aws:SourceAccount": cdk.Aws.ACCOUNT_ID}}
        ),
    )


def landing_writer_role(
    scope: Construct, construct_id: str, *, name: str, bucket: s3.IBucket, prefix: str
) -> iam.Role:
    """A Firehose delivery stream's role: write (and clean up uploads) under ``prefix`` and
    its error prefix ``errors/<prefix>`` of ``bucket``, and nothing else of it."""
    role = service_role(scope, construct_id, "firehose.amazonaws.com", f"Firehose {name}")
    objects = [f"{prefix}/*", f"errors/{prefix}/*"]
    for pattern in objects:
        bucket.grant_put(role, pattern)
    role.add_to_policy(
        iam.PolicyStatement(
            actions=["s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"],
            resources=[bucket.arn_for_objects(pattern) for pattern in objects],
        )
    )
    role.add_to_policy(
        iam.PolicyStatement(
            actions=["s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"],
            resources=[bucket.bucket_arn],
        )
    )
    return role


def firehose_error_log(
    scope: Construct,
    construct_id: str,
    *,
    config: InfraConfig,
    name: str,
    role: iam.IRole,
    stream_id: str,
) -> tuple[logs.LogGroup, logs.LogStream]:
    """A delivery stream's error log (``/aws/kinesisfirehose/<name>``), written by its role."""
    log_group = logs.LogGroup(
        scope,
        construct_id,
        log_group_name=f"/aws/kinesisfirehose/{name}",
        retention=retention(config),
        removal_policy=cdk.RemovalPolicy.DESTROY,
    )
    log_stream = log_group.add_stream(stream_id, log_stream_name="S3Delivery")
    log_group.grant_write(role)
    return log_group, log_stream


def landing_destination(
    config: InfraConfig,
    *,
    bucket: s3.IBucket,
    role: iam.IRole,
    key: kms.IKey,
    prefixes: tuple[str, str],
    error_log: tuple[logs.LogGroup, logs.LogStream],
    processors: list[firehose.CfnDeliveryStream.ProcessorProperty],
) -> firehose.CfnDeliveryStream.ExtendedS3DestinationConfigurationProperty:
    """What every delivery stream writes to landing: GZIP objects named ``*.json.gz`` (the
    streaming job reads only those; Firehose would name them ``*.gz``) under ``prefixes``
    (delivered, failed) by arrival hour, encrypted with ``key``, buffered as configured,
    after ``processors``, with its errors in ``error_log``."""
    prop = firehose.CfnDeliveryStream
    return prop.ExtendedS3DestinationConfigurationProperty(
        bucket_arn=bucket.bucket_arn,
        role_arn=role.role_arn,
        prefix=prefixes[0],
        error_output_prefix=prefixes[1],
        compression_format="GZIP",
        file_extension=".json.gz",
        buffering_hints=prop.BufferingHintsProperty(
            interval_in_seconds=config.firehose_buffer_interval_s,
            size_in_m_bs=config.firehose_buffer_mib,
        ),
        encryption_configuration=prop.EncryptionConfigurationProperty(
            kms_encryption_config=prop.KMSEncryptionConfigProperty(awskms_key_arn=key.key_arn)
        ),
        processing_configuration=prop.ProcessingConfigurationProperty(
            enabled=True, processors=processors
        ),
        cloud_watch_logging_options=prop.CloudWatchLoggingOptionsProperty(
            enabled=True,
            log_group_name=error_log[0].log_group_name,
            log_stream_name=error_log[1].log_stream_name,
        ),
    )


def after_role_policy(resource: cdk.CfnResource, role: iam.Role) -> None:
    """``resource`` is created after ``role``'s policy: services that check their role at
    creation (Firehose, a subscription filter) fail without its grants."""
    policy = role.node.try_find_child("DefaultPolicy")
    if policy is not None:
        resource.node.add_dependency(policy)
