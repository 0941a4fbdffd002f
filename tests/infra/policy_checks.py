"""Least-privilege checks over synthesized templates: every IAM policy document, every statement.

A statement is flagged when it allows a wildcard action (``*`` or ``service:*``), or allows
an action of a data service on ``Resource: *`` (grants must name the stream, bucket,
queue, table or key). ``Deny`` statements are not grants and are skipped.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

# Services that hold newslake's data, or its keys.
DATA_SERVICES = frozenset({"s3", "kinesis", "firehose", "sqs", "dynamodb", "kms", "glue"})
# Resource types whose properties carry identity-based policy documents.
POLICY_HOLDERS = {
    "AWS::IAM::Policy": lambda props: [props.get("PolicyDocument")],
    "AWS::IAM::ManagedPolicy": lambda props: [props.get("PolicyDocument")],
    "AWS::IAM::Role": lambda props: [p.get("PolicyDocument") for p in props.get("Policies", [])],
}


@dataclass(frozen=True)
class Finding:
    template: str
    resource: str
    problem: str

    def __str__(self) -> str:
        return f"{self.template}/{self.resource}: {self.problem}"


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def statements(template: Mapping[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every (logical id, statement) of every identity policy in ``template``."""
    for logical_id, resource in template.get("Resources", {}).items():
        documents = POLICY_HOLDERS.get(resource.get("Type"))
        if documents is None:
            continue
        for document in documents(resource.get("Properties", {})):
            for statement in _as_list((document or {}).get("Statement")):
                yield logical_id, statement


def statement_problems(statement: Mapping[str, Any]) -> list[str]:
    """What is wrong with one statement; empty when it is least-privilege enough."""
    if statement.get("Effect") != "Allow":
        return []
    problems = []
    actions = [a for a in _as_list(statement.get("Action")) if isinstance(a, str)]
    if "NotAction" in statement:
        problems.append("NotAction grants everything else")
    for action in actions:
        verb = action.partition(":")[2]
        if action == "*" or verb == "*":
            problems.append(f"wildcard action {action!r}")
    resources = _as_list(statement.get("Resource"))
    if "*" in resources:
        data_actions = sorted(
            a for a in actions if a == "*" or a.partition(":")[0].lower() in DATA_SERVICES
        )
        if data_actions:
            problems.append(f"Resource '*' for data actions {data_actions}")
    return problems


def find_wildcards(templates: Mapping[str, Mapping[str, Any]]) -> list[Finding]:
    """Every flagged statement of every template (keyed by name)."""
    return [
        Finding(name, logical_id, problem)
        for name, template in templates.items()
        for logical_id, statement in statements(template)
        for problem in statement_problems(statement)
    ]
