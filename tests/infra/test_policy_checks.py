"""The least-privilege checker itself: it must flag bad statements, or its silence means nothing."""

from __future__ import annotations

from typing import Any

from .policy_checks import find_wildcards, statement_problems


def _template(*statements: dict, resource_type: str = "AWS::IAM::Policy") -> dict:
    document = {"Version": "2012-10-17", "Statement": list(statements)}
    props: dict[str, Any]
    if resource_type == "AWS::IAM::Role":
        props = {"Policies": [{"PolicyName": "inline", "PolicyDocument": document}]}
    else:
        props = {"PolicyDocument": document}
    return {"Resources": {"Bad": {"Type": resource_type, "Properties": props}}}


def test_flags_a_deliberately_bad_policy() -> None:
    bad = _template(
        {"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::newslake-lake/*"},
        {"Effect": "Allow", "Action": ["dynamodb:GetItem"], "Resource": "*"},
        {"Effect": "Allow", "Action": "*", "Resource": "*"},
    )

    problems = [f.problem for f in find_wildcards({"bad": bad})]

    assert problems == [
        "wildcard action 's3:*'",
        "Resource '*' for data actions ['dynamodb:GetItem']",
        "wildcard action '*'",
        "Resource '*' for data actions ['*']",
    ]


def test_flags_inline_role_policies_and_managed_policies() -> None:
    statement = {"Effect": "Allow", "Action": "kinesis:*", "Resource": "*"}

    for resource_type in ("AWS::IAM::Role", "AWS::IAM::ManagedPolicy"):
        findings = find_wildcards({"t": _template(statement, resource_type=resource_type)})
        assert [f.resource for f in findings] == ["Bad", "Bad"], resource_type


def test_scoped_grants_and_non_data_actions_on_star_pass() -> None:
    assert (
        statement_problems(
            {
                "Effect": "Allow",
                "Action": ["kinesis:PutRecord", "kinesis:PutRecords"],
                "Resource": {"Fn::GetAtt": ["Stream", "Arn"]},
            }
        )
        == []
    )
    # X-Ray has no resource-level permissions: "*" is the only way to grant it.
    assert (
        statement_problems(
            {"Effect": "Allow", "Action": ["xray:PutTraceSegments"], "Resource": "*"}
        )
        == []
    )


def test_deny_statements_are_not_grants() -> None:
    assert statement_problems({"Effect": "Deny", "Action": "s3:*", "Resource": "*"}) == []
