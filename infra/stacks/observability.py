"""Observability: alarms on every moving part, one dashboard, a monthly budget.

Every alarm notifies one SNS topic (subscribe e-mail or chat to it after deploying). Spark
job failures come from EventBridge: EMR Serverless emits a "Job Run State Change" event
per run; a rule matching ``FAILED`` for this application forwards it to the topic, and an
alarm on the rule's ``TriggeredRules`` metric keeps the failure visible on the dashboard.
"""

from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_budgets as budgets
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sns as sns
from constructs import Construct

from infra.config import InfraConfig
from infra.stacks.ingestion import IngestionStack
from infra.stacks.lake import LakeStack
from infra.stacks.serving import ServingStack

FIVE_MINUTES = cdk.Duration.minutes(5)
API_P99_LATENCY_MS = {"pageview": 1000, "serving": 500}
ITERATOR_AGE_ALARM_MS = 10 * 60 * 1000  # Firehose is ten minutes behind a stream
# The session state is meant to be seconds behind: a minute means readers see stale lists.
SESSION_STATE_AGE_ALARM_MS = 60 * 1000


@dataclass(frozen=True)
class _Watch:
    """What one alarm watches, for the alarm and for the dashboard."""

    construct_id: str
    metric: cw.Metric
    threshold: float
    description: str
    comparison: cw.ComparisonOperator = cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD
    evaluation_periods: int = 1


class ObservabilityStack(cdk.Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        config: InfraConfig,
        *,
        ingestion: IngestionStack,
        lake: LakeStack,
        serving: ServingStack,
        **kwargs,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.topic = sns.Topic(
            self, "AlarmTopic", topic_name=f"{config.prefix}-alarms", enforce_ssl=True
        )
        failure_rule = self._spark_failures(lake)
        watches = [
            *self._api_watches(ingestion, serving, config),
            *self._function_watches(ingestion, serving),
            *self._stream_watches(ingestion, config),
            *self._session_state_watches(ingestion),
            *self._impression_watches(ingestion, config),
            _Watch(
                "RetryDlqDepth",
                cw.Metric(
                    namespace="AWS/SQS",
                    metric_name="ApproximateNumberOfMessagesVisible",
                    dimensions_map={"QueueName": ingestion.dead_letter_queue.queue_name},
                    statistic="Maximum",
                    period=FIVE_MINUTES,
                ),
                1,
                f"pageview records gave up after {config.max_receive_count} receives: inspect, "
                "then `redrive`",
            ),
            _Watch(
                "SparkJobFailed",
                cw.Metric(
                    namespace="AWS/Events",
                    metric_name="TriggeredRules",
                    dimensions_map={"RuleName": failure_rule.rule_name},
                    statistic="Sum",
                    period=FIVE_MINUTES,
                ),
                1,
                "an EMR Serverless job run of the newslake application FAILED",
            ),
        ]
        self.alarms = [self._alarm(w) for w in watches]
        self._dashboard(config, watches)
        self._budget(config)

    # ---- what is watched ------------------------------------------------------------
    def _api_watches(
        self, ingestion: IngestionStack, serving: ServingStack, config: InfraConfig
    ) -> list[_Watch]:
        watches = []
        for label, api in (("pageview", ingestion.api), ("serving", serving.api)):
            dims = {"ApiName": api.rest_api_name, "Stage": config.env_name}
            watches += [
                _Watch(
                    f"{label.title()}Api5xx",
                    cw.Metric(
                        namespace="AWS/ApiGateway",
                        metric_name="5XXError",
                        dimensions_map=dims,
                        statistic="Sum",
                        period=FIVE_MINUTES,
                    ),
                    5,
                    f"{label} API answered 5xx",
                ),
                _Watch(
                    f"{label.title()}ApiLatency",
                    cw.Metric(
                        namespace="AWS/ApiGateway",
                        metric_name="Latency",
                        dimensions_map=dims,
                        statistic="p99",
                        period=FIVE_MINUTES,
                    ),
                    API_P99_LATENCY_MS[label],
                    f"{label} API p99 latency above {API_P99_LATENCY_MS[label]} ms",
                    evaluation_periods=3,
                ),
            ]
        return watches

    def _function_watches(self, ingestion: IngestionStack, serving: ServingStack) -> list[_Watch]:
        watches = []
        for label, fn in (
            ("Pageview", ingestion.pageview_function),
            ("RetryWorker", ingestion.retry_function),
            ("SessionState", ingestion.session_state.function),
            ("Recommendations", serving.function),
        ):
            for metric_name in ("Errors", "Throttles"):
                watches.append(
                    _Watch(
                        f"{label}Function{metric_name}",
                        cw.Metric(
                            namespace="AWS/Lambda",
                            metric_name=metric_name,
                            dimensions_map={"FunctionName": fn.function_name},
                            statistic="Sum",
                            period=FIVE_MINUTES,
                        ),
                        1,
                        f"{fn.function_name}: {metric_name.lower()}",
                    )
                )
        return watches

    def _stream_watches(self, ingestion: IngestionStack, config: InfraConfig) -> list[_Watch]:
        watches = []
        for portal in config.portals:
            stream = config.settings.stream_name(portal)
            dims = {"StreamName": stream}
            watches += [
                _Watch(
                    f"IteratorAge-{portal}",
                    cw.Metric(
                        namespace="AWS/Kinesis",
                        metric_name="GetRecords.IteratorAgeMilliseconds",
                        dimensions_map=dims,
                        statistic="Maximum",
                        period=FIVE_MINUTES,
                    ),
                    ITERATOR_AGE_ALARM_MS,
                    f"{stream}: the reader (Firehose) is falling behind",
                ),
                _Watch(
                    f"WriteThrottled-{portal}",
                    cw.Metric(
                        namespace="AWS/Kinesis",
                        metric_name="WriteProvisionedThroughputExceeded",
                        dimensions_map=dims,
                        statistic="Sum",
                        period=FIVE_MINUTES,
                    ),
                    1,
                    f"{stream}: writes throttled (records go to the retry queue)",
                    evaluation_periods=3,
                ),
                *_delivery_watches(
                    (f"FirehoseDelivery-{portal}", f"FirehoseFreshness-{portal}"),
                    stream,
                    config.firehose_buffer_interval_s,
                ),
            ]
        return watches

    def _session_state_watches(self, ingestion: IngestionStack) -> list[_Watch]:
        fn = ingestion.session_state.function
        failures = ingestion.session_state.failures
        return [
            _Watch(
                "SessionStateIteratorAge",
                cw.Metric(
                    namespace="AWS/Lambda",
                    metric_name="IteratorAge",
                    dimensions_map={"FunctionName": fn.function_name},
                    statistic="Maximum",
                    period=cdk.Duration.minutes(1),
                ),
                SESSION_STATE_AGE_ALARM_MS,
                f"{fn.function_name}: readers' recent reads are more than a minute behind",
                evaluation_periods=3,
            ),
            _Watch(
                "SessionStateGaveUp",
                cw.Metric(
                    namespace="AWS/SQS",
                    metric_name="ApproximateNumberOfMessagesVisible",
                    dimensions_map={"QueueName": failures.queue_name},
                    statistic="Maximum",
                    period=FIVE_MINUTES,
                ),
                1,
                f"{fn.function_name} gave up on records older than the recent-reads window",
            ),
        ]

    def _impression_watches(self, ingestion: IngestionStack, config: InfraConfig) -> list[_Watch]:
        name = ingestion.impressions.name
        return _delivery_watches(
            ("ImpressionsDelivery", "ImpressionsFreshness"), name, config.firehose_buffer_interval_s
        )

    # ---- how ------------------------------------------------------------------------
    def _alarm(self, watch: _Watch) -> cw.Alarm:
        alarm = watch.metric.create_alarm(
            self,
            watch.construct_id,
            threshold=watch.threshold,
            evaluation_periods=watch.evaluation_periods,
            comparison_operator=watch.comparison,
            treat_missing_data=cw.TreatMissingData.NOT_BREACHING,
            alarm_description=watch.description,
        )
        alarm.add_alarm_action(cw_actions.SnsAction(self.topic))
        return alarm

    def _spark_failures(self, lake: LakeStack) -> events.Rule:
        rule = events.Rule(
            self,
            "SparkJobFailures",
            description="EMR Serverless job runs of the newslake application that failed",
            event_pattern=events.EventPattern(
                source=["aws.emr-serverless"],
                detail_type=["EMR Serverless Job Run State Change"],
                detail={
                    "state": ["FAILED"],
                    "applicationId": [lake.application.attr_application_id],
                },
            ),
        )
        rule.add_target(targets.SnsTopic(self.topic))
        return rule

    def _dashboard(self, config: InfraConfig, watches: list[_Watch]) -> None:
        dashboard = cw.Dashboard(self, "Dashboard", dashboard_name=f"{config.prefix}-overview")
        widgets = [
            cw.GraphWidget(title=w.description[:60], left=[w.metric], width=8, height=5)
            for w in watches
        ]
        for i in range(0, len(widgets), 3):
            dashboard.add_widgets(*widgets[i : i + 3])

    def _budget(self, config: InfraConfig) -> None:
        self.topic.add_to_resource_policy(
            iam.PolicyStatement(
                sid="BudgetsPublish",
                principals=[iam.ServicePrincipal("budgets.amazonaws.com")],
                actions=["sns:Publish"],
                resources=[self.topic.topic_arn],
                conditions={"StringEquals": {"aws:SourceAccount": cdk.Aws.ACCOUNT_ID}},
            )
        )
        subscribers = [
            budgets.CfnBudget.SubscriberProperty(
                subscription_type="SNS", address=self.topic.topic_arn
            )
        ]
        if config.budget_email:
            subscribers.append(
                budgets.CfnBudget.SubscriberProperty(
                    subscription_type="EMAIL", address=config.budget_email
                )
            )

        def notify(
            kind: str, percent: float
        ) -> budgets.CfnBudget.NotificationWithSubscribersProperty:
            return budgets.CfnBudget.NotificationWithSubscribersProperty(
                notification=budgets.CfnBudget.NotificationProperty(
                    notification_type=kind,
                    comparison_operator="GREATER_THAN",
                    threshold=percent,
                    threshold_type="PERCENTAGE",
                ),
                subscribers=subscribers,
            )

        budgets.CfnBudget(
            self,
            "MonthlyBudget",
            budget=budgets.CfnBudget.BudgetDataProperty(
                budget_name=f"{config.prefix}-monthly",
                budget_type="COST",
                time_unit="MONTHLY",
                budget_limit=budgets.CfnBudget.SpendProperty(amount=config.budget_usd, unit="USD"),
            ),
            notifications_with_subscribers=[
                notify("ACTUAL", 80),
                notify("FORECASTED", 100),
            ],
        )


def _delivery_watches(ids: tuple[str, str], name: str, buffer_interval_s: int) -> list[_Watch]:
    """A delivery stream's failed deliveries to S3 and its oldest waiting record."""
    delivery = {"DeliveryStreamName": name}
    return [
        _Watch(
            ids[0],
            cw.Metric(
                namespace="AWS/Firehose",
                metric_name="DeliveryToS3.Success",
                dimensions_map=delivery,
                statistic="Minimum",
                period=FIVE_MINUTES,
            ),
            1,
            f"{name}: a delivery to S3 failed (Firehose retries, then errors/)",
            comparison=cw.ComparisonOperator.LESS_THAN_THRESHOLD,
        ),
        _Watch(
            ids[1],
            cw.Metric(
                namespace="AWS/Firehose",
                metric_name="DeliveryToS3.DataFreshness",
                dimensions_map=delivery,
                statistic="Maximum",
                period=FIVE_MINUTES,
            ),
            3 * buffer_interval_s,
            f"{name}: the oldest record waits more than three buffer intervals",
        ),
    ]
