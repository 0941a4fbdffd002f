"""Security: customer-managed KMS keys, CloudTrail, API Gateway's log role, the optional VPC.

Everything else depends on this stack, and it depends on nothing, so a key or the trail is
never caught in a cross-stack cycle. The trail's S3 data events name the data buckets by
their derived names (strings), not by reference, for the same reason.
"""

from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_cloudtrail as cloudtrail
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from infra.config import InfraConfig
from infra.stacks.common import secure_bucket


@dataclass(frozen=True)
class Keys:
    """One customer-managed key per data service, each rotated yearly."""

    kinesis: kms.Key
    s3: kms.Key
    sqs: kms.Key
    dynamodb: kms.Key


class SecurityStack(cdk.Stack):
    def __init__(self, scope: Construct, construct_id: str, config: InfraConfig, **kwargs) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.keys = Keys(
            kinesis=self._key("KinesisKey", config, "kinesis", "Kinesis pageview streams"),
            s3=self._key("S3Key", config, "s3", "landing, lake, artifacts and trail buckets"),
            sqs=self._key("SqsKey", config, "sqs", "pageview retry queue and its DLQ"),
            dynamodb=self._key("DynamoDbKey", config, "dynamodb", "serving store tables"),
        )
        self.trail = self._trail(config)
        self._api_gateway_logging()
        self.vpc: ec2.Vpc | None = self._vpc() if config.use_vpc else None

    def _key(self, construct_id: str, config: InfraConfig, service: str, what: str) -> kms.Key:
        return kms.Key(
            self,
            construct_id,
            alias=f"alias/{config.prefix}/{service}",
            description=f"newslake {config.env_name}: {what}",
            enable_key_rotation=True,
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )

    def _trail(self, config: InfraConfig) -> cloudtrail.Trail:
        trail_name = f"{config.prefix}-trail"
        trail_arn = self.format_arn(
            service="cloudtrail", resource="trail", resource_name=trail_name
        )
        # CloudTrail writes into a bucket encrypted with the S3 key: let it, for this trail only.
        self.keys.s3.add_to_resource_policy(
            iam.PolicyStatement(
                sid="CloudTrailWritesLogs",
                principals=[iam.ServicePrincipal("cloudtrail.amazonaws.com")],
                actions=["kms:GenerateDataKey*", "kms:DescribeKey"],
                resources=["*"],  # in a key policy, "*" means this key
                conditions={"StringEquals": {"aws:SourceArn": trail_arn}},
            )
        )
        bucket = secure_bucket(
            self,
            "TrailBucket",
            name=config.trail_bucket,
            key=self.keys.s3,
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="archive-trail",
                    transitions=[
                        s3.Transition(
                            storage_class=s3.StorageClass.DEEP_ARCHIVE,
                            transition_after=cdk.Duration.days(config.archive_after_days),
                        )
                    ],
                )
            ],
        )
        trail = cloudtrail.Trail(
            self,
            "Trail",
            trail_name=trail_name,
            bucket=bucket,
            encryption_key=self.keys.s3,
            is_multi_region_trail=True,
            include_global_service_events=True,
            enable_file_validation=True,
        )
        # Who wrote or deleted what in the data buckets (writes only: reads are Spark's bulk).
        data_buckets = [
            s3.Bucket.from_bucket_name(
                self, f"Audited{suffix.title()}", f"{config.prefix}-{suffix}"
            )
            for suffix in ("landing", "lake", "artifacts")
        ]
        trail.add_s3_event_selector(
            [cloudtrail.S3EventSelector(bucket=b) for b in data_buckets],
            read_write_type=cloudtrail.ReadWriteType.WRITE_ONLY,
            include_management_events=True,
        )
        return trail

    def _api_gateway_logging(self) -> None:
        """The account-level role API Gateway writes access and execution logs with.

        It is one setting per account and region, so it lives here and not in either API.
        """
        role = iam.Role(
            self,
            "ApiGatewayLogsRole",
            assumed_by=iam.ServicePrincipal("apigateway.amazonaws.com"),
            managed_policies=[
                iam.ManagedPolicy.from_aws_managed_policy_name(
                    "service-role/AmazonAPIGatewayPushToCloudWatchLogs"
                )
            ],
        )
        account = apigateway.CfnAccount(
            self, "ApiGatewayAccount", cloud_watch_role_arn=role.role_arn
        )
        account.apply_removal_policy(cdk.RemovalPolicy.RETAIN)

    def _vpc(self) -> ec2.Vpc:
        """Private subnets with one NAT (Cognito's JWKS and Kinesis are public endpoints) and
        gateway endpoints for S3 and DynamoDB, the bulk of the traffic."""
        vpc = ec2.Vpc(
            self,
            "Vpc",
            max_azs=2,
            nat_gateways=1,
            subnet_configuration=[
                ec2.SubnetConfiguration(name="public", subnet_type=ec2.SubnetType.PUBLIC),
                ec2.SubnetConfiguration(
                    name="private", subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS
                ),
            ],
        )
        vpc.add_gateway_endpoint("S3Endpoint", service=ec2.GatewayVpcEndpointAwsService.S3)
        vpc.add_gateway_endpoint(
            "DynamoDbEndpoint", service=ec2.GatewayVpcEndpointAwsService.DYNAMODB
        )
        vpc.add_flow_log("FlowLog")
        return vpc
