"""The observability stack: alarms on every moving part, a dashboard, a budget."""

from __future__ import annotations

from collections import Counter

from tests.utils.cdk_app import Synthesized


def test_alarms_cover_every_moving_part(synthesized: Synthesized) -> None:
    alarms = synthesized.resources("observability", "AWS::CloudWatch::Alarm").values()

    by_metric = Counter(
        (a["Properties"]["Namespace"], a["Properties"]["MetricName"]) for a in alarms
    )

    assert by_metric == {
        ("AWS/ApiGateway", "5XXError"): 2,  # pageview and serving APIs
        ("AWS/ApiGateway", "Latency"): 2,
        ("AWS/Lambda", "Errors"): 4,  # pageview, retry worker, session state, recommendations
        ("AWS/Lambda", "Throttles"): 4,
        ("AWS/Lambda", "IteratorAge"): 1,  # the session state
        ("AWS/Kinesis", "GetRecords.IteratorAgeMilliseconds"): 2,  # per portal
        ("AWS/Kinesis", "WriteProvisionedThroughputExceeded"): 2,
        ("AWS/Firehose", "DeliveryToS3.Success"): 3,  # per portal, and the impressions
        ("AWS/Firehose", "DeliveryToS3.DataFreshness"): 3,
        ("AWS/SQS", "ApproximateNumberOfMessagesVisible"): 2,  # the DLQ, session-state failures
        ("AWS/Events", "TriggeredRules"): 1,  # failed Spark job runs
    }


def test_queue_alarms_watch_the_dlq_and_the_session_state_failures(
    synthesized: Synthesized,
) -> None:
    queues = [
        a["Properties"]
        for a in synthesized.resources("observability", "AWS::CloudWatch::Alarm").values()
        if a["Properties"]["Namespace"] == "AWS/SQS"
    ]

    watched = sorted(str(alarm["Dimensions"][0]["Value"]) for alarm in queues)
    assert ["DeadLetterQueue" in w for w in watched] == [True, False]
    assert ["SessionStateFailureQueue" in w for w in watched] == [False, True]
    for alarm in queues:
        (dimension,) = alarm["Dimensions"]
        assert dimension["Name"] == "QueueName"
        assert alarm["Threshold"] == 1


def test_every_alarm_notifies_the_topic(synthesized: Synthesized) -> None:
    (topic_id,) = synthesized.resources("observability", "AWS::SNS::Topic")

    for name, alarm in synthesized.resources("observability", "AWS::CloudWatch::Alarm").items():
        assert alarm["Properties"]["AlarmActions"] == [{"Ref": topic_id}], name


def test_failed_spark_runs_are_caught_by_an_event_rule(synthesized: Synthesized) -> None:
    (rule,) = synthesized.resources("observability", "AWS::Events::Rule").values()
    pattern = rule["Properties"]["EventPattern"]

    assert pattern["source"] == ["aws.emr-serverless"]
    assert pattern["detail-type"] == ["EMR Serverless Job Run State Change"]
    assert pattern["detail"]["state"] == ["FAILED"]


def test_one_dashboard_and_a_monthly_budget(synthesized: Synthesized) -> None:
    dashboards = synthesized.resources("observability", "AWS::CloudWatch::Dashboard")
    (budget,) = synthesized.resources("observability", "AWS::Budgets::Budget").values()

    assert len(dashboards) == 1
    props = budget["Properties"]
    assert props["Budget"]["TimeUnit"] == "MONTHLY"
    assert props["Budget"]["BudgetLimit"] == {"Amount": 500, "Unit": "USD"}
    kinds = sorted(
        n["Notification"]["NotificationType"] for n in props["NotificationsWithSubscribers"]
    )
    assert kinds == ["ACTUAL", "FORECASTED"]
