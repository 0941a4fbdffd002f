"""The CDK app as the infra tests synthesize it: its context (one default portal, one new,
so the per-portal tests cannot pass on the defaults by accident) and its templates.

The jsii runtime runs the CDK in the machine's Node.js; synthesis needs no AWS account,
no credentials and no network.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# jsii prints a banner on every start under Node 20 (end of life); it says nothing about
# the templates. The variable names the major versions to stay quiet about.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

from aws_cdk.assertions import Template

from infra.app import Stacks, synth
from infra.config import InfraConfig, load_config
from newslake.settings import Settings

PORTALS = ("g1", "receitas")
CONTEXT = {"env": "ci", "portals": ",".join(PORTALS), "archive_after_days": "120"}


def base_settings() -> Settings:
    """Defaults as in the repository, plus the domain of the new portal and a lake bucket
    version expiry other than the default, so its rule is seen to read the setting."""
    return Settings(
        portal_domains={"g1": ("g1.globo.com",), "receitas": ("receitas.globo.com",)},
        lake_noncurrent_version_days=9,
    )


@dataclass(frozen=True)
class Synthesized:
    config: InfraConfig
    stacks: Stacks
    outdir: Path
    templates: dict[str, dict[str, Any]]  # by stack name

    def template(self, concern: str) -> Template:
        return Template.from_json(self.templates[self.config.stack_name(concern)])

    def resources(self, concern: str, resource_type: str) -> dict[str, dict[str, Any]]:
        resources = self.templates[self.config.stack_name(concern)]["Resources"]
        return {k: v for k, v in resources.items() if v["Type"] == resource_type}

    def key_id(self, service: str) -> str:
        """Logical id of the security stack's key for ``service`` (found by its alias)."""
        alias = f"alias/{self.config.prefix}/{service}"
        for resource in self.resources("security", "AWS::KMS::Alias").values():
            if resource["Properties"]["AliasName"] == alias:
                return str(resource["Properties"]["TargetKeyId"]["Fn::GetAtt"][0])
        raise AssertionError(f"no key with alias {alias}")

    def all_resources(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return {
            f"{name}/{k}": v
            for name, template in self.templates.items()
            for k, v in template["Resources"].items()
            if v["Type"] == resource_type
        }


def synthesize(outdir: Path) -> Synthesized:
    """The whole app synthesized into ``outdir``, with every stack's template read back."""
    _, stacks = synth(CONTEXT, str(outdir), base_settings())
    templates = {
        stack.stack_name: json.loads((outdir / stack.template_file).read_text())
        for stack in stacks.all()
    }
    return Synthesized(load_config(CONTEXT, base_settings()), stacks, outdir, templates)


def refers_to(value: Any, logical_id: str) -> bool:
    """Whether a property value references ``logical_id`` (Ref, GetAtt or a cross-stack import)."""
    return logical_id in json.dumps(value)
