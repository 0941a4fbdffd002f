"""The session-state consumer in AWS: a Lambda on every portal's Kinesis stream, beside
Firehose, writing readers' recent reads and live hot counts to the recommendations table
(``ingestion/session_lambda.py``; locally ``ingestion/session_poller.py`` does the same).

One event source mapping per stream:

* partial batch failures (``ReportBatchItemFailures``): the handler reports every record
  from the first whose writes failed, and Lambda delivers the batch again from there; the
  writes are idempotent, so what was applied is not applied twice;
* parallelization factor 1: a shard's records are applied in order, which the hot counts'
  per-shard sequence numbers rely on;
* bisect on error, for a batch that makes the function itself fail (a bug, not a store
  outage: the handler reports those as partial failures);
* retries until a record is as old as the recent-reads window (past it, no reader would be
  served the read), then its shard range goes to an SQS on-failure queue;
* starting at the oldest record, so a new or recreated function misses no read.

The role reads the streams (and their key) and may only ``GetItem``, ``BatchGetItem``,
``PutItem`` and ``UpdateItem`` the recommendations table (and use its key).
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.config import InfraConfig
from infra.stacks.common import python_function

# A batch of session_state_batch_size records is one store read plus a write per reader
# and per hot bucket; the timeout leaves room for the store's own retries.
FUNCTION_TIMEOUT_S = 60
MAX_RETRY_ATTEMPTS = 10_000  # Lambda's largest: the record age is what ends the retries
TABLE_ACTIONS = (
    "dynamodb:GetItem",
    "dynamodb:BatchGetItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
)
# What DynamoDB needs a caller to be allowed on the table's customer-managed key.
TABLE_KEY_ACTIONS = ("kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey*")


class SessionState(Construct):
    """The consumer's function, its failure queue and a mapping per stream."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: InfraConfig,
        streams: dict[str, kinesis.Stream],
        table: dynamodb.ITable,
        queue_key: kms.IKey,
        layer: lambda_.ILayerVersion | None,
        vpc: ec2.IVpc | None,
    ) -> None:
        super().__init__(scope, construct_id)
        s = config.settings
        self.failures = sqs.Queue(
            self,
            "FailureQueue",
            queue_name=f"{config.prefix}-session-state-failures",
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=queue_key,
            enforce_ssl=True,
            retention_period=cdk.Duration.days(14),
        )
        self.function = python_function(
            self,
            "Function",
            config=config,
            name=f"{config.prefix}-session-state",
            handler="ingestion.session_lambda.lambda_handler",
            description="each pageview into the reader's recent reads and the live hot counts",
            environment={},
            layer=layer,
            timeout_s=FUNCTION_TIMEOUT_S,
            vpc=vpc,
        )
        table.grant(self.function, *TABLE_ACTIONS)
        if table.encryption_key is not None:
            table.encryption_key.grant(self.function, *TABLE_KEY_ACTIONS)
        for stream in streams.values():
            self.function.add_event_source(
                event_sources.KinesisEventSource(
                    stream,
                    starting_position=lambda_.StartingPosition.TRIM_HORIZON,
                    batch_size=s.session_state_batch_size,
                    parallelization_factor=1,
                    report_batch_item_failures=True,
                    bisect_batch_on_error=True,
                    retry_attempts=MAX_RETRY_ATTEMPTS,
                    max_record_age=cdk.Duration.hours(s.recent_reads_hours),
                    on_failure=event_sources.SqsDlq(self.failures),
                )
            )
