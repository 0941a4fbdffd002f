"""The whole app: least privilege, keys, logs, outputs, and cfn-lint over every template."""

from __future__ import annotations

import pytest
from cfnlint.api import ManualArgs, lint_file

from tests.utils.cdk_app import Synthesized

from .policy_checks import find_wildcards


def test_five_stacks_one_per_concern(synthesized: Synthesized) -> None:
    assert sorted(synthesized.templates) == [
        "newslake-ci-ingestion",
        "newslake-ci-lake",
        "newslake-ci-observability",
        "newslake-ci-security",
        "newslake-ci-serving",
    ]


def test_no_wildcard_grants_in_any_policy(synthesized: Synthesized) -> None:
    findings = find_wildcards(synthesized.templates)

    assert [str(f) for f in findings] == []


def test_policies_were_actually_checked(synthesized: Synthesized) -> None:
    # The check above passes trivially if it finds no policies at all. Ten: four
    # functions, two Spark job roles, one Firehose role per portal, and the impressions'
    # Firehose and subscription roles.
    assert len(synthesized.all_resources("AWS::IAM::Policy")) == 10


def test_every_key_is_customer_managed_and_rotated(synthesized: Synthesized) -> None:
    keys = synthesized.resources("security", "AWS::KMS::Key")

    assert len(keys) == 4
    for name, key in keys.items():
        assert key["Properties"]["EnableKeyRotation"] is True, name
    for service in ("kinesis", "s3", "sqs", "dynamodb"):
        assert synthesized.key_id(service) in keys


def test_every_function_logs_to_a_group_with_retention(synthesized: Synthesized) -> None:
    functions = synthesized.all_resources("AWS::Lambda::Function")
    groups = synthesized.all_resources("AWS::Logs::LogGroup")

    assert len(functions) == 4
    for name, group in groups.items():
        assert group["Properties"]["RetentionInDays"] == 30, name
    for name, fn in functions.items():
        stack = name.split("/")[0]
        ref = fn["Properties"]["LoggingConfig"]["LogGroup"]["Ref"]
        assert f"{stack}/{ref}" in groups, name


def test_cloudtrail_validates_log_files(synthesized: Synthesized) -> None:
    (trail,) = synthesized.resources("security", "AWS::CloudTrail::Trail").values()

    assert trail["Properties"]["EnableLogFileValidation"] is True
    assert trail["Properties"]["IsMultiRegionTrail"] is True


@pytest.mark.parametrize(
    ("concern", "output", "value"),
    [
        ("ingestion", "StreamNames", "newslake-ci-pageviews-g1,newslake-ci-pageviews-receitas"),
        ("lake", "LakeUri", None),
        ("serving", "CognitoUserPoolId", None),
        ("serving", "CognitoClientIds", None),
    ],
)
def test_outputs_for_the_aws_profile(
    synthesized: Synthesized, concern: str, output: str, value: str | None
) -> None:
    outputs = synthesized.templates[synthesized.config.stack_name(concern)]["Outputs"]

    assert output in outputs
    if value is not None:
        assert outputs[output]["Value"] == value


def test_cfn_lint_finds_no_errors(synthesized: Synthesized) -> None:
    config = ManualArgs(regions=[synthesized.config.region])
    matches = [
        match
        for stack in synthesized.stacks.all()
        for match in lint_file(synthesized.outdir / stack.template_file, config=config)
    ]

    errors = [str(m) for m in matches if m.rule.id.startswith("E")]
    warnings = [str(m) for m in matches if m.rule.id.startswith("W")]
    print("cfn-lint warnings:", *warnings, sep="\n  ")
    assert errors == []
