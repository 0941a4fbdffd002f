"""The CDK app: ``python -m infra.app`` (what ``make synth`` and ``make deploy`` run).

Context (``-c key=value``, see :func:`infra.config.load_config`) is checked first; a bad
value stops with one line on stderr before any stack exists. The stacks, in the order
CloudFormation deploys them:

1. ``<prefix>-security``: KMS keys, CloudTrail, API Gateway's log role, optional VPC;
2. ``<prefix>-serving``: DynamoDB tables, Cognito, the recommendation API;
3. ``<prefix>-lake``: landing, lake and artifacts buckets, EMR Serverless, job roles;
4. ``<prefix>-ingestion``: pageview API, Kinesis, Firehose, SQS retry queue and worker,
   the session-state consumer;
5. ``<prefix>-observability``: alarms, dashboard, budget.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import aws_cdk as cdk

from infra.config import InfraConfig, InfraConfigError, load_config
from infra.stacks.ingestion import IngestionStack
from infra.stacks.lake import LakeStack
from infra.stacks.observability import ObservabilityStack
from infra.stacks.security import SecurityStack
from infra.stacks.serving import ServingStack
from newslake.settings import Settings

CONTEXT_KEYS = (
    "env",
    "name_prefix",
    "portals",
    "region",
    "account",
    "archive_after_days",
    "log_retention_days",
    "firehose_buffer_mib",
    "firehose_buffer_interval_s",
    "budget_usd",
    "budget_email",
    "vpc",
    "emr_release_label",
    "cognito_domain_prefix",
    "lambda_layer_dir",
)


@dataclass(frozen=True)
class Stacks:
    security: SecurityStack
    serving: ServingStack
    lake: LakeStack
    ingestion: IngestionStack
    observability: ObservabilityStack

    def all(self) -> tuple[cdk.Stack, ...]:
        return (self.security, self.serving, self.lake, self.ingestion, self.observability)


def add_stacks(app: cdk.App, config: InfraConfig) -> Stacks:
    """Every stack of one deployment, wired by reference."""
    account = config.account or os.environ.get("CDK_DEFAULT_ACCOUNT")
    env = cdk.Environment(account=account, region=config.region)
    description = f"newslake {config.env_name}"

    def common(concern: str) -> dict[str, Any]:
        return {
            "stack_name": config.stack_name(concern),
            "env": env,
            "description": f"{description}: {concern}",
            "termination_protection": config.env_name == "prod",
        }

    security = SecurityStack(app, config.stack_name("security"), config, **common("security"))
    serving = ServingStack(app, config.stack_name("serving"), config, security, **common("serving"))
    lake = LakeStack(app, config.stack_name("lake"), config, security, serving, **common("lake"))
    ingestion = IngestionStack(
        app,
        config.stack_name("ingestion"),
        config,
        security,
        lake,
        serving=serving,
        **common("ingestion"),
    )
    observability = ObservabilityStack(
        app,
        config.stack_name("observability"),
        config,
        ingestion=ingestion,
        lake=lake,
        serving=serving,
        **common("observability"),
    )
    stacks = Stacks(security, serving, lake, ingestion, observability)
    for stack in stacks.all():
        for key, value in config.tags.items():
            cdk.Tags.of(stack).add(key, value)
    return stacks


def context_of(app: cdk.App) -> dict[str, Any]:
    """The app's context values for the keys :func:`load_config` reads."""
    found = {key: app.node.try_get_context(key) for key in CONTEXT_KEYS}
    return {key: value for key, value in found.items() if value is not None}


def synth(
    context: Mapping[str, Any], outdir: str, base: Settings | None = None
) -> tuple[cdk.App, Stacks]:
    """Validate ``context``, build every stack and synthesize into ``outdir``.

    Args:
        context: CDK context values (what ``-c key=value`` sets).
        outdir: the cloud assembly directory (``cdk.out`` for the CLI).
        base: settings the defaults come from; the environment's when None.

    Raises:
        InfraConfigError: ``context`` is invalid; no stack was built.
    """
    config = load_config(context, base)
    app = cdk.App(outdir=outdir, context=dict(context))
    stacks = add_stacks(app, config)
    app.synth()
    return app, stacks


def main() -> int:
    app = cdk.App()
    try:
        config = load_config(context_of(app))
    except InfraConfigError as exc:
        print(f"newslake infra: {exc}", file=sys.stderr)
        return 1
    add_stacks(app, config)
    app.synth()
    return 0


if __name__ == "__main__":
    sys.exit(main())
