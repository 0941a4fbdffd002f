"""Ingestion: ``POST /pageview`` (API Gateway + Lambda), a Kinesis stream and a Firehose
delivery stream per portal, the SQS retry queue with its DLQ and the retry Lambda, and the
session-state Lambda reading every stream beside Firehose (``infra/stacks/session_state.py``),
and the service's impressions from its log group to landing (``infra/stacks/impressions.py``).

Kinesis runs **on demand**: pageviews jump with breaking news, and on-demand streams
absorb up to twice their previous peak without shard arithmetic or a scaling function.
Steady high volume is cheaper provisioned; the mode can be switched later without
recreating the stream (infra/README.md, "Kinesis capacity").

Firehose writes what ``ingestion/local_firehose.py`` writes locally: GZIP JSON lines (a
newline appended to each record) under
``pageviews/portal=<p>/year=!{timestamp:yyyy}/month=.../day=.../hour=.../`` by arrival hour
(UTC), and what it cannot deliver under ``errors/pageviews/<error type>/portal=<p>/...``.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_kinesisfirehose as firehose
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.config import InfraConfig
from infra.stacks.common import (
    after_role_policy,
    dependencies_layer,
    firehose_error_log,
    landing_destination,
    landing_writer_role,
    python_function,
    retention,
)
from infra.stacks.impressions import Impressions
from infra.stacks.lake import LakeStack
from infra.stacks.security import SecurityStack
from infra.stacks.serving import ServingStack
from infra.stacks.session_state import SessionState

HOUR_PATH = "year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/hour=!{timestamp:HH}/"
RETRY_FUNCTION_TIMEOUT_S = 30
# AWS's advice for SQS-triggered functions: visibility timeout at least 6x the timeout.
RETRY_VISIBILITY_TIMEOUT_S = 6 * RETRY_FUNCTION_TIMEOUT_S


def landing_prefix(landing: str, portal: str) -> str:
    """The Firehose S3 prefix of a portal's objects, as the local stand-in writes them."""
    return f"{landing}/portal={portal}/{HOUR_PATH}"


def error_prefix(landing: str, portal: str) -> str:
    return f"errors/{landing}/!{{firehose:error-output-type}}/portal={portal}/{HOUR_PATH}"


class IngestionStack(cdk.Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        config: InfraConfig,
        security: SecurityStack,
        lake: LakeStack,
        *,
        serving: ServingStack,
        **kwargs,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        s = config.settings
        keys = security.keys
        self.streams: dict[str, kinesis.Stream] = {
            p: kinesis.Stream(
                self,
                f"Stream-{p}",
                stream_name=s.stream_name(p),
                stream_mode=kinesis.StreamMode.ON_DEMAND,
                encryption=kinesis.StreamEncryption.KMS,
                encryption_key=keys.kinesis,
                retention_period=cdk.Duration.hours(48),  # a weekend outage of Firehose
            )
            for p in config.portals
        }
        self.dead_letter_queue = sqs.Queue(
            self,
            "DeadLetterQueue",
            queue_name=s.dead_letter_queue_name,
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=keys.sqs,
            enforce_ssl=True,
            retention_period=cdk.Duration.days(14),
        )
        self.retry_queue = sqs.Queue(
            self,
            "RetryQueue",
            queue_name=s.retry_queue_name,
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=keys.sqs,
            enforce_ssl=True,
            visibility_timeout=cdk.Duration.seconds(RETRY_VISIBILITY_TIMEOUT_S),
            retention_period=cdk.Duration.days(4),
            dead_letter_queue=sqs.DeadLetterQueue(
                max_receive_count=config.max_receive_count, queue=self.dead_letter_queue
            ),
        )
        layer = dependencies_layer(self, config)
        self.pageview_function = self._pageview_function(config, security, layer)
        self.retry_function = self._retry_function(config, security, layer)
        self.session_state = SessionState(
            self,
            "SessionState",
            config=config,
            streams=self.streams,
            table=serving.recommendations_table,
            queue_key=keys.sqs,
            layer=layer,
            vpc=security.vpc,
        )
        self.api = self._api(config)
        self.delivery_streams = {
            p: self._delivery_stream(config, p, stream, lake, keys.s3)
            for p, stream in self.streams.items()
        }
        self.impressions = self._impressions(config, serving, lake, keys.s3)
        self._outputs(config)

    def _outputs(self, config: InfraConfig) -> None:
        cdk.CfnOutput(
            self,
            "PageviewApiUrl",
            value=self.api.url_for_path("/pageview"),
            description="POST /pageview endpoint for the tracker",
        )
        cdk.CfnOutput(
            self,
            "StreamNames",
            value=",".join(config.settings.stream_name(p) for p in config.portals),
            description="Kinesis streams (Settings.stream_name per NEWSLAKE_PORTALS)",
        )
        cdk.CfnOutput(self, "RetryQueueName", value=self.retry_queue.queue_name)
        cdk.CfnOutput(self, "DeadLetterQueueName", value=self.dead_letter_queue.queue_name)

    def _pageview_function(self, config, security, layer) -> lambda_.Function:
        fn = python_function(
            self,
            "PageviewFunction",
            config=config,
            name=f"{config.prefix}-pageview",
            handler="ingestion.handler.lambda_handler",
            description="POST /pageview: validate, put to Kinesis, park refusals in SQS",
            environment={},
            layer=layer,
            timeout_s=10,
            vpc=security.vpc,
        )
        for stream in self.streams.values():
            stream.grant_write(fn)
        self.retry_queue.grant_send_messages(fn)
        return fn

    def _retry_function(self, config, security, layer) -> lambda_.Function:
        fn = python_function(
            self,
            "RetryFunction",
            config=config,
            name=f"{config.prefix}-retry-worker",
            handler="ingestion.retry_worker.lambda_handler",
            description="put records parked in the retry queue back into Kinesis",
            environment={},
            layer=layer,
            timeout_s=RETRY_FUNCTION_TIMEOUT_S,
            vpc=security.vpc,
        )
        for stream in self.streams.values():
            stream.grant_write(fn)
        fn.add_event_source(
            event_sources.SqsEventSource(
                self.retry_queue,
                batch_size=10,
                max_batching_window=cdk.Duration.seconds(5),
                report_batch_item_failures=True,  # BatchProcessor's batchItemFailures
            )
        )
        return fn

    def _api(self, config: InfraConfig) -> apigateway.RestApi:
        access_logs = logs.LogGroup(
            self,
            "PageviewApiAccessLogs",
            retention=retention(config),
            removal_policy=cdk.RemovalPolicy.DESTROY,
        )
        api = apigateway.RestApi(
            self,
            "PageviewApi",
            rest_api_name=f"{config.prefix}-pageview-api",
            description="POST /pageview from the portals' trackers",
            cloud_watch_role=False,  # the account's log role is in the security stack
            endpoint_types=[apigateway.EndpointType.REGIONAL],
            deploy_options=apigateway.StageOptions(
                stage_name=config.env_name,
                throttling_rate_limit=config.pageview_api_rate,
                throttling_burst_limit=config.pageview_api_burst,
                metrics_enabled=True,
                tracing_enabled=True,
                logging_level=apigateway.MethodLoggingLevel.ERROR,
                access_log_destination=apigateway.LogGroupLogDestination(access_logs),
                access_log_format=apigateway.AccessLogFormat.clf(),
            ),
        )
        integration = apigateway.LambdaIntegration(self.pageview_function, proxy=True)
        pageview = api.root.add_resource("pageview")
        pageview.add_method("POST", integration)
        # Preflights reach the handler, which answers for the portals' origins only.
        pageview.add_method("OPTIONS", integration)
        return api

    def _impressions(
        self, config: InfraConfig, serving: ServingStack, lake: LakeStack, landing_key: kms.IKey
    ) -> Impressions:
        """The service's impression lines: its log group -> a Firehose of their own -> landing."""
        return Impressions(
            self,
            "Impressions",
            config=config,
            log_group=serving.function.log_group,
            bucket=lake.landing,
            landing_key=landing_key,
        )

    def _delivery_stream(
        self,
        config: InfraConfig,
        portal: str,
        stream: kinesis.Stream,
        lake: LakeStack,
        landing_key: kms.IKey,
    ) -> firehose.CfnDeliveryStream:
        s = config.settings
        name = s.stream_name(portal)
        bucket = lake.landing
        role = self._firehose_role(portal, name, stream, bucket, s.landing_prefix)
        log_group, log_stream = self._firehose_logs(config, portal, name, role)
        prop = firehose.CfnDeliveryStream
        delivery = prop(
            self,
            f"Firehose-{portal}",
            delivery_stream_name=name,
            delivery_stream_type="KinesisStreamAsSource",
            kinesis_stream_source_configuration=prop.KinesisStreamSourceConfigurationProperty(
                kinesis_stream_arn=stream.stream_arn, role_arn=role.role_arn
            ),
            extended_s3_destination_configuration=landing_destination(
                config,
                bucket=bucket,
                role=role,
                key=landing_key,
                prefixes=(
                    landing_prefix(s.landing_prefix, portal),
                    error_prefix(s.landing_prefix, portal),
                ),
                error_log=(log_group, log_stream),
                # The handler sends one JSON object per record, without a newline.
                processors=[prop.ProcessorProperty(type="AppendDelimiterToRecord")],
            ),
        )
        # Firehose checks its role when it is created: the policy must exist first.
        after_role_policy(delivery, role)
        return delivery

    def _firehose_role(
        self, portal: str, name: str, stream: kinesis.Stream, bucket: s3.IBucket, landing: str
    ) -> iam.Role:
        """Firehose's role: read the stream, write (and clean up uploads) under landing."""
        role = landing_writer_role(
            self, f"FirehoseRole-{portal}", name=name, bucket=bucket, prefix=landing
        )
        stream.grant_read(role)
        return role

    def _firehose_logs(
        self, config: InfraConfig, portal: str, name: str, role: iam.Role
    ) -> tuple[logs.LogGroup, logs.LogStream]:
        """The delivery stream's error log, written by its role."""
        return firehose_error_log(
            self,
            f"FirehoseLogs-{portal}",
            config=config,
            name=name,
            role=role,
            stream_id=f"FirehoseLogStream-{portal}",
        )
