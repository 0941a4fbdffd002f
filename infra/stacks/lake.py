"""Lake and processing: landing, lake and artifacts buckets, EMR Serverless, the job roles.

* landing (``<prefix>-landing``): what Firehose writes, read by the streaming job; objects
  expire after ``landing_retention_days`` (settings) and are never archived: they hold
  reader ids, and an erasure must reach every copy within 30 days, which Deep Archive's
  180-day minimum and hours-long restores would not allow. Bronze keeps every line for
  replays, and the erasure stage removes a reader's from it.
* lake (``<prefix>-lake``): the Delta tables (``s3://<prefix>-lake/<layer>/<table>``, as
  ``Settings.table_path`` computes in the ``aws`` profile). Versioned, with old versions
  dropped after ``lake_noncurrent_version_days`` (settings), so a mistaken delete or
  overwrite can be undone for a while; the erasure stage counts those days in the date by
  which a deleted file is unreadable.
* artifacts (``<prefix>-artifacts``): the job package and entry points under ``jobs/``,
  EMR Serverless logs under ``emr-logs/``.

Two execution roles, one per job: the streaming job reads landing, writes the lake and the
``live`` items of the recommendations table; the nightly chain (and table maintenance)
also switches version pointers in the versions table.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_emrserverless as emrserverless
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from infra.config import InfraConfig
from infra.stacks.common import secure_bucket
from infra.stacks.security import SecurityStack
from infra.stacks.serving import ServingStack
from newslake.store import controls_key

JOBS_PREFIX = "jobs/"
EMR_LOGS_PREFIX = "emr-logs/"


class LakeStack(cdk.Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        config: InfraConfig,
        security: SecurityStack,
        serving: ServingStack,
        **kwargs,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        key = security.keys.s3
        self.landing = self._landing_bucket(config, key)
        self.lake = self._lake_bucket(config, key)
        self.artifacts = secure_bucket(
            self, "ArtifactsBucket", name=config.artifacts_bucket, key=key
        )
        self.streaming_role = self._job_role("StreamingJobRole", "streaming job")
        self.nightly_role = self._job_role("NightlyJobRole", "nightly chain and maintenance")
        self._grant_jobs(
            (config.settings.landing_prefix, config.settings.impressions_prefix), serving
        )
        self.application = self._emr_application(config, security.vpc)
        self._outputs()

    def _landing_bucket(self, config: InfraConfig, key: kms.IKey) -> s3.Bucket:
        return secure_bucket(
            self,
            "LandingBucket",
            name=config.settings.landing_bucket,
            key=key,
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="landing-expiry",
                    expiration=cdk.Duration.days(config.settings.landing_retention_days),
                )
            ],
        )

    def _lake_bucket(self, config: InfraConfig, key: kms.IKey) -> s3.Bucket:
        return secure_bucket(
            self,
            "LakeBucket",
            name=config.settings.lake_bucket,
            key=key,
            versioned=True,
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="drop-old-versions",
                    noncurrent_version_expiration=cdk.Duration.days(
                        config.settings.lake_noncurrent_version_days
                    ),
                    expired_object_delete_marker=True,
                )
            ],
        )

    def _grant_jobs(self, landing_prefixes: tuple[str, ...], serving: ServingStack) -> None:
        for role in (self.streaming_role, self.nightly_role):
            for prefix in landing_prefixes:  # the pageviews' and the impressions'
                self.landing.grant_read(role, f"{prefix}/*")
            self.lake.grant_read_write(role)
            self.artifacts.grant_read(role, f"{JOBS_PREFIX}*")
            self.artifacts.grant_put(role, f"{EMR_LOGS_PREFIX}*")
            serving.recommendations_table.grant_write_data(role)
        # editorial: each live-publisher round reads the portals' controls, and only those
        self.streaming_role.add_to_policy(
            iam.PolicyStatement(
                actions=["dynamodb:Query"],
                resources=[serving.recommendations_table.table_arn],
                conditions={
                    "ForAllValues:StringLike": {"dynamodb:LeadingKeys": [controls_key("*")]}
                },
            )
        )
        # Only the nightly export reads and switches a portal's active version.
        serving.versions_table.grant_read_write_data(self.nightly_role)
        serving.recommendations_table.grant_read_data(self.nightly_role)
        # privacy: the erasure stage (a nightly task) reads the requests and records its
        # steps, and rewrites the landing objects that hold an erased reader's lines
        serving.privacy_requests_table.grant_read_data(self.nightly_role)
        serving.privacy_requests_table.grant(self.nightly_role, "dynamodb:UpdateItem")
        for prefix in landing_prefixes:
            self.landing.grant_put(self.nightly_role, f"{prefix}/*")
            self.landing.grant_delete(self.nightly_role, f"{prefix}/*")
        serving.privacy_key.grant_read(self.nightly_role)

    def _outputs(self) -> None:
        outputs = {
            "LandingBucketName": (self.landing.bucket_name, "landing bucket (Firehose)"),
            "LakeUri": (f"s3://{self.lake.bucket_name}", "NEWSLAKE_LAKE_URI (the default)"),
            "JobsUri": (f"s3://{self.artifacts.bucket_name}/{JOBS_PREFIX}", "job package"),
            "EmrApplicationId": (self.application.attr_application_id, "EMR Serverless app"),
            "StreamingJobRoleArn": (self.streaming_role.role_arn, "execution role, streaming"),
            "NightlyJobRoleArn": (self.nightly_role.role_arn, "execution role, nightly"),
        }
        for output_id, (value, description) in outputs.items():
            cdk.CfnOutput(self, output_id, value=value, description=description)

    def _job_role(self, construct_id: str, what: str) -> iam.Role:
        return iam.Role(
            self,
            construct_id,
            description=f"EMR Serverless execution role: {what}",
            assumed_by=iam.ServicePrincipal("emr-serverless.amazonaws.com").with_conditions(
                {"StringEquals": {"aws:SourceAccount": cdk.Aws.ACCOUNT_ID}}
            ),
        )

    def _emr_application(
        self, config: InfraConfig, vpc: ec2.IVpc | None
    ) -> emrserverless.CfnApplication:
        network = None
        if vpc is not None:
            group = ec2.SecurityGroup(
                self, "SparkSecurityGroup", vpc=vpc, description="EMR Serverless Spark workers"
            )
            network = emrserverless.CfnApplication.NetworkConfigurationProperty(
                subnet_ids=vpc.select_subnets(
                    subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS
                ).subnet_ids,
                security_group_ids=[group.security_group_id],
            )
        return emrserverless.CfnApplication(
            self,
            "Spark",
            name=f"{config.prefix}-spark",
            release_label=config.emr_release_label,
            type="Spark",
            architecture="X86_64",
            auto_start_configuration=emrserverless.CfnApplication.AutoStartConfigurationProperty(
                enabled=True
            ),
            auto_stop_configuration=emrserverless.CfnApplication.AutoStopConfigurationProperty(
                enabled=True, idle_timeout_minutes=15
            ),
            # A ceiling on what a runaway job can cost; raise it with the data.
            maximum_capacity=emrserverless.CfnApplication.MaximumAllowedResourcesProperty(
                cpu="64 vCPU", memory="256 GB", disk="1000 GB"
            ),
            monitoring_configuration=emrserverless.CfnApplication.MonitoringConfigurationProperty(
                s3_monitoring_configuration=emrserverless.CfnApplication.S3MonitoringConfigurationProperty(
                    log_uri=f"s3://{config.artifacts_bucket}/{EMR_LOGS_PREFIX}"
                )
            ),
            network_configuration=network,
        )
