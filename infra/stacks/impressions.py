"""The impressions' way to the lake in AWS: the recommendation function's log group, a
CloudWatch Logs subscription filter matching only impression lines, and a Firehose
delivery stream of their own writing them to the landing bucket.

The service writes each answer's impression as one JSON line on standard output
(``serving/impressions.py``); Lambda keeps what a function prints as it is, one log event
a line. The filter (``{ $.recommendation_id = "*" }``) passes the JSON events that carry a
recommendation id, and nothing else the function logs. CloudWatch Logs sends them GZIP'd
in its envelope; the stream's own processors undo that (``Decompression``), keep each log
event's message (``CloudWatchLogProcessing`` with message extraction) and end each with a
newline (``AppendDelimiterToRecord``), so an object holds the lines as the service wrote
them, GZIP'd again on delivery, under ``impressions/YYYY/MM/DD/HH/`` by arrival hour (UTC)
as ``*.json.gz``: what ``ingestion/local_impressions.py`` writes locally and
``spark_jobs/impressions_query.py`` reads.

Roles, each with one task: CloudWatch Logs may only ``PutRecord``/``PutRecordBatch`` to this
delivery stream (for this account's log groups); Firehose may only write under
``impressions/`` and ``errors/impressions/`` of the landing bucket (with its key) and its
own error log.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kinesisfirehose as firehose
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from constructs import Construct

from infra.config import InfraConfig
from infra.stacks.common import (
    after_role_policy,
    firehose_error_log,
    landing_destination,
    landing_writer_role,
)

HOUR_PATH = "!{timestamp:yyyy}/!{timestamp:MM}/!{timestamp:dd}/!{timestamp:HH}/"
# Only impression lines: every one carries its answer's id, no other line of the service does.
FILTER_PATTERN = logs.FilterPattern.exists("$.recommendation_id").log_pattern_string
PUT_ACTIONS = ("firehose:PutRecord", "firehose:PutRecordBatch")


def impressions_prefix(prefix: str) -> str:
    return f"{prefix}/{HOUR_PATH}"


def impressions_error_prefix(prefix: str) -> str:
    return f"errors/{prefix}/!{{firehose:error-output-type}}/{HOUR_PATH}"


class Impressions(Construct):
    """The subscription filter, its role, and the delivery stream with its role and log."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: InfraConfig,
        log_group: logs.ILogGroup,
        bucket: s3.IBucket,
        landing_key: kms.IKey,
    ) -> None:
        super().__init__(scope, construct_id)
        prefix = config.settings.impressions_prefix
        self.name = f"{config.prefix}-impressions"
        self.role = landing_writer_role(
            self, "FirehoseRole", name=self.name, bucket=bucket, prefix=prefix
        )
        log, log_stream = firehose_error_log(
            self, "FirehoseLogs", config=config, name=self.name, role=self.role,
            stream_id="FirehoseLogStream",
        )  # fmt: skip
        self.delivery_stream = self._delivery_stream(config, bucket, landing_key, log, log_stream)
        self.subscription_role = self._subscription_role()
        self.subscription = logs.CfnSubscriptionFilter(
            self,
            "Subscription",
            filter_name=self.name,
            log_group_name=log_group.log_group_name,
            filter_pattern=FILTER_PATTERN,
            destination_arn=self.delivery_stream.attr_arn,
            role_arn=self.subscription_role.role_arn,
        )
        # CloudWatch Logs tries a put when the filter is created: its grant must exist first.
        after_role_policy(self.subscription, self.subscription_role)

    def _delivery_stream(
        self,
        config: InfraConfig,
        bucket: s3.IBucket,
        landing_key: kms.IKey,
        log: logs.LogGroup,
        log_stream: logs.LogStream,
    ) -> firehose.CfnDeliveryStream:
        prop = firehose.CfnDeliveryStream
        prefix = config.settings.impressions_prefix
        processors = [
            prop.ProcessorProperty(
                type="Decompression",
                parameters=[
                    prop.ProcessorParameterProperty(
                        parameter_name="CompressionFormat", parameter_value="GZIP"
                    )
                ],
            ),
            prop.ProcessorProperty(
                type="CloudWatchLogProcessing",
                parameters=[
                    prop.ProcessorParameterProperty(
                        parameter_name="DataMessageExtraction", parameter_value="true"
                    )
                ],
            ),
            prop.ProcessorProperty(type="AppendDelimiterToRecord"),
        ]
        delivery = prop(
            self,
            "Firehose",
            delivery_stream_name=self.name,
            delivery_stream_type="DirectPut",
            delivery_stream_encryption_configuration_input=prop.DeliveryStreamEncryptionConfigurationInputProperty(
                key_type="AWS_OWNED_CMK"
            ),
            extended_s3_destination_configuration=landing_destination(
                config,
                bucket=bucket,
                role=self.role,
                key=landing_key,
                prefixes=(impressions_prefix(prefix), impressions_error_prefix(prefix)),
                error_log=(log, log_stream),
                processors=processors,
            ),
        )
        after_role_policy(delivery, self.role)
        return delivery

    def _subscription_role(self) -> iam.Role:
        """CloudWatch Logs' role: put records to this delivery stream, nothing else."""
        stack = cdk.Stack.of(self)
        role = iam.Role(
            self,
            "SubscriptionRole",
            description=f"CloudWatch Logs to Firehose {self.name}",
            assumed_by=iam.ServicePrincipal("logs.amazonaws.com").with_conditions(
                {"StringLike": {"aws:SourceArn": f"arn:{stack.partition}:logs:{stack.region}:"
                                                 f"{stack.account}:*"}}
            ),
        )  # fmt: skip
        put = iam.PolicyStatement(
            actions=list(PUT_ACTIONS), resources=[self.delivery_stream.attr_arn]
        )
        role.add_to_policy(put)
        return role
