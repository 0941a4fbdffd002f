"""What one deployment is: environment, name prefix, portals and the knobs the stacks read.

Defaults come from :class:`newslake.settings.Settings`, so every name the stacks create is
the name the code computes in the ``aws`` profile with the same ``NEWSLAKE_NAME_PREFIX`` and
``NEWSLAKE_PORTALS``. :func:`load_config` checks everything a user can get wrong (from CDK
context, ``-c key=value``) and raises :class:`InfraConfigError` with one line saying what to
do, before any stack or resource is created.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from newslake.errors import NewslakeError
from newslake.settings import Settings, get_settings, setting_default


class InfraConfigError(NewslakeError):
    """The deployment's parameters are invalid; nothing was synthesized."""


# CloudWatch Logs accepts only these retention periods (days).
LOG_RETENTION_DAYS = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731,
    1096, 1827, 2192, 2557, 2922, 3288, 3653,
)  # fmt: skip
# A week of logs at least: incidents are often noticed days later.
MIN_LOG_RETENTION_DAYS = 7
# Landed objects in Deep Archive need a restore (hours) before Spark can read them; the
# streaming job, replays after a bug and backfills read the last weeks of landing.
MIN_ARCHIVE_AFTER_DAYS = 30
# Firehose limits: buffer size 1..128 MiB, interval 0..900 s. Under a minute makes many
# tiny objects, which the streaming job pays for in listing and per-file overhead.
FIREHOSE_BUFFER_MIB = (1, 128)
FIREHOSE_INTERVAL_S = (60, 900)

# The longest name derived from the prefix is the artifacts bucket: "<prefix>-artifacts".
BUCKET_SUFFIXES = ("landing", "lake", "artifacts", "trail")
MAX_PREFIX_CHARS = 63 - len("-artifacts")
_PREFIX = re.compile(r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$")
_RESERVED_BUCKET_STARTS = ("xn--", "sthree-", "amzn-s3-demo-")
_ENV = re.compile(r"^[a-z][a-z0-9]{0,11}$")
# Firehose delivery stream names are at most 64 characters: "<prefix>-pageviews-<portal>".
MAX_FIREHOSE_NAME = 64
# Cognito domain prefixes: lower-case letters, digits, hyphens; no AWS brand words.
_DOMAIN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
_DOMAIN_RESERVED = ("aws", "amazon", "cognito")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_ACCOUNT = re.compile(r"^\d{12}$")
DEFAULT_EMR_RELEASE = "emr-spark-8.0.0"  # Spark 4.0 with Delta 4.0 (see infra/README.md)


@dataclass(frozen=True)
class InfraConfig:
    """One validated deployment. Build it with :func:`load_config`."""

    env_name: str
    settings: Settings  # what the deployed code runs with (profile aws)
    account: str | None = None
    archive_after_days: int = 90
    log_retention_days: int = 30
    firehose_buffer_mib: int = 64
    firehose_buffer_interval_s: int = 300
    pageview_api_rate: int = 2000  # requests/s per stage, steady
    pageview_api_burst: int = 4000
    serving_api_rate: int = 1000
    serving_api_burst: int = 2000
    budget_usd: float = 500.0
    budget_email: str | None = None
    use_vpc: bool = False
    emr_release_label: str = DEFAULT_EMR_RELEASE
    cognito_domain_prefix: str = ""
    lambda_layer_dir: str | None = None
    max_receive_count: int = setting_default("retry_max_receives")
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def prefix(self) -> str:
        return self.settings.name_prefix

    @property
    def portals(self) -> tuple[str, ...]:
        return self.settings.portals

    @property
    def region(self) -> str:
        return self.settings.region

    def stack_name(self, concern: str) -> str:
        return f"{self.prefix}-{concern}"

    @property
    def artifacts_bucket(self) -> str:
        return f"{self.prefix}-artifacts"

    @property
    def trail_bucket(self) -> str:
        return f"{self.prefix}-trail"

    @property
    def scope_identifier(self) -> str:
        """The resource server's identifier: ``newslake`` of ``newslake/recommendations.read``."""
        return self.settings.serving_read_scope.split("/", 1)[0]

    @property
    def read_scope_name(self) -> str:
        return self.settings.serving_read_scope.split("/", 1)[1]

    @property
    def privacy_scope_name(self) -> str:
        """``privacy.erase`` of ``newslake/privacy.erase``: the privacy office's client's scope."""
        return self.settings.privacy_erase_scope.split("/", 1)[1]

    def portal_scope_name(self, portal: str) -> str:
        """``portal.g1`` of ``newslake/portal.g1``."""
        return f"{self.settings.serving_portal_scope_prefix}{portal}".split("/", 1)[1]


def _int(context: Mapping[str, Any], key: str, default: int) -> int:
    value = context.get(key, default)
    try:
        return int(value)
    except (TypeError, ValueError):
        raise InfraConfigError(f"context {key}={value!r} is not a whole number") from None


def _flag(context: Mapping[str, Any], key: str) -> bool:
    value = context.get(key, False)
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"1", "true", "yes", "on"}:
        return True
    if text in {"", "0", "false", "no", "off"}:
        return False
    raise InfraConfigError(f"context {key}={value!r}: use true or false")


def _portals(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return tuple(p.strip() for p in value.split(",") if p.strip())
    return tuple(str(p).strip() for p in value)


def _check_prefix(prefix: str) -> None:
    if not _PREFIX.match(prefix) or "--" in prefix:
        raise InfraConfigError(
            f"name prefix {prefix!r} cannot name S3 buckets: use lower-case letters, digits "
            "and single hyphens, starting and ending with a letter or digit"
        )
    if len(prefix) > MAX_PREFIX_CHARS:
        raise InfraConfigError(
            f"name prefix {prefix!r} is {len(prefix)} characters; bucket names "
            f"('<prefix>-artifacts') allow at most {MAX_PREFIX_CHARS}"
        )
    if prefix.startswith(_RESERVED_BUCKET_STARTS):
        raise InfraConfigError(
            f"name prefix {prefix!r} starts with a prefix S3 reserves {_RESERVED_BUCKET_STARTS}"
        )


def _aws_settings(base: Settings, prefix: str, portals: tuple[str, ...], region: str) -> Settings:
    """The settings the deployed code will read, checked by the same validators."""
    domains = {p: base.portal_domains[p] for p in portals if p in base.portal_domains}
    values = base.model_dump()
    values.update(
        profile="aws", name_prefix=prefix, portals=portals, region=region, portal_domains=domains
    )
    try:
        return Settings.model_validate(values)
    except ValidationError as exc:
        reasons = "; ".join(str(e["msg"]).removeprefix("Value error, ") for e in exc.errors())
        raise InfraConfigError(f"invalid settings for the deployment: {reasons}") from None


def load_config(context: Mapping[str, Any], base: Settings | None = None) -> InfraConfig:
    """Validate CDK context (``-c key=value``) against the defaults of ``base`` settings.

    Keys: ``env`` (default ``dev``), ``name_prefix`` (default ``<NEWSLAKE_NAME_PREFIX>-<env>``),
    ``portals`` (CSV, default ``NEWSLAKE_PORTALS``), ``region``, ``account``,
    ``archive_after_days``, ``log_retention_days``, ``firehose_buffer_mib``,
    ``firehose_buffer_interval_s``, ``budget_usd``, ``budget_email``, ``vpc``,
    ``emr_release_label``, ``cognito_domain_prefix``, ``lambda_layer_dir``.

    Raises:
        InfraConfigError: a value is missing, malformed or below its minimum.
    """
    base = base or get_settings()
    env_name = _env_name(context)
    settings = _deployed_settings(context, base, env_name)
    account = context.get("account")
    if account is not None and not _ACCOUNT.match(str(account)):
        raise InfraConfigError(f"account {account!r} is not a 12-digit AWS account id")
    log_days, archive_days = _retention(context)
    buffer_mib, interval_s = _firehose_buffering(context)
    budget_usd, email = _budget(context)
    domain = _cognito_domain(context, settings.name_prefix)
    _check_scopes(settings)
    layer_dir = context.get("lambda_layer_dir") or None
    return InfraConfig(
        env_name=env_name,
        settings=settings,
        account=str(account) if account is not None else None,
        archive_after_days=archive_days,
        log_retention_days=log_days,
        firehose_buffer_mib=buffer_mib,
        firehose_buffer_interval_s=interval_s,
        budget_usd=budget_usd,
        budget_email=email,
        use_vpc=_flag(context, "vpc"),
        emr_release_label=str(context.get("emr_release_label") or DEFAULT_EMR_RELEASE),
        cognito_domain_prefix=domain,
        lambda_layer_dir=str(layer_dir) if layer_dir else None,
        tags={"project": "newslake", "environment": env_name},
    )


def _env_name(context: Mapping[str, Any]) -> str:
    env_name = str(context.get("env") or "dev")
    if not _ENV.match(env_name):
        raise InfraConfigError(
            f"ENV={env_name!r}: use 1-12 lower-case letters or digits, starting with a letter"
        )
    return env_name


def _deployed_settings(context: Mapping[str, Any], base: Settings, env_name: str) -> Settings:
    """The aws-profile settings of the deployment, once every name they derive is valid."""
    prefix = str(context.get("name_prefix") or f"{base.name_prefix}-{env_name}")
    _check_prefix(prefix)
    portals = _portals(context.get("portals", base.portals))
    if not portals:
        raise InfraConfigError("the portal list is empty: name at least one, e.g. -c portals=g1,ge")
    region = str(context.get("region") or base.region)
    settings = _aws_settings(base, prefix, portals, region)
    no_domains = [p for p in portals if not settings.portal_domains.get(p)]
    if no_domains:
        raise InfraConfigError(
            f"portals {no_domains} have no domains, so the pageview API would refuse all their "
            'events: set NEWSLAKE_PORTAL_DOMAINS=\'{"<portal>": ["<host>"], ...}\''
        )
    too_long = [p for p in portals if len(settings.stream_name(p)) > MAX_FIREHOSE_NAME]
    if too_long:
        raise InfraConfigError(
            f"portal ids {too_long} make stream names over {MAX_FIREHOSE_NAME} characters "
            "(Firehose's limit): shorten them or the name prefix"
        )
    return settings


def _retention(context: Mapping[str, Any]) -> tuple[int, int]:
    """Days logs are kept, and days before landed objects go to Deep Archive."""
    log_days = _int(context, "log_retention_days", InfraConfig.log_retention_days)
    if log_days < MIN_LOG_RETENTION_DAYS or log_days not in LOG_RETENTION_DAYS:
        allowed = [d for d in LOG_RETENTION_DAYS if d >= MIN_LOG_RETENTION_DAYS]
        raise InfraConfigError(
            f"log_retention_days={log_days}: use one of CloudWatch's periods from "
            f"{MIN_LOG_RETENTION_DAYS} days up: {allowed}"
        )
    archive_days = _int(context, "archive_after_days", InfraConfig.archive_after_days)
    if archive_days < MIN_ARCHIVE_AFTER_DAYS:
        raise InfraConfigError(
            f"archive_after_days={archive_days}: landed objects must stay readable at least "
            f"{MIN_ARCHIVE_AFTER_DAYS} days before Glacier Deep Archive"
        )
    return log_days, archive_days


def _firehose_buffering(context: Mapping[str, Any]) -> tuple[int, int]:
    """Firehose's buffer size (MiB) and interval (s), within its limits."""
    buffer_mib = _int(context, "firehose_buffer_mib", InfraConfig.firehose_buffer_mib)
    interval_s = _int(context, "firehose_buffer_interval_s", InfraConfig.firehose_buffer_interval_s)
    if not FIREHOSE_BUFFER_MIB[0] <= buffer_mib <= FIREHOSE_BUFFER_MIB[1]:
        raise InfraConfigError(f"firehose_buffer_mib={buffer_mib}: Firehose buffers 1 to 128 MiB")
    if not FIREHOSE_INTERVAL_S[0] <= interval_s <= FIREHOSE_INTERVAL_S[1]:
        raise InfraConfigError(
            f"firehose_buffer_interval_s={interval_s}: use {FIREHOSE_INTERVAL_S[0]} to "
            f"{FIREHOSE_INTERVAL_S[1]} seconds"
        )
    return buffer_mib, interval_s


def _budget(context: Mapping[str, Any]) -> tuple[float, str | None]:
    """The monthly budget (USD) and the address its alerts go to, if any."""
    try:
        budget_usd = float(context.get("budget_usd", InfraConfig.budget_usd))
    except (TypeError, ValueError):
        raise InfraConfigError(
            f"budget_usd={context.get('budget_usd')!r} is not a number"
        ) from None
    if budget_usd <= 0:
        raise InfraConfigError(f"budget_usd={budget_usd}: the monthly budget must be above 0")
    email = context.get("budget_email") or None
    if email is not None and not _EMAIL.match(str(email)):
        raise InfraConfigError(f"budget_email={email!r} is not an e-mail address")
    return budget_usd, str(email) if email else None


def _cognito_domain(context: Mapping[str, Any], prefix: str) -> str:
    domain = str(context.get("cognito_domain_prefix") or f"{prefix}-auth")
    if not _DOMAIN.match(domain) or any(word in domain for word in _DOMAIN_RESERVED):
        raise InfraConfigError(
            f"Cognito domain prefix {domain!r}: lower-case letters, digits and hyphens, at "
            f"most 63, without {_DOMAIN_RESERVED}; set -c cognito_domain_prefix=..."
        )
    return domain


def _check_scopes(settings: Settings) -> None:
    """The read scope and the portal scopes must name one Cognito resource server."""
    identifier, _, read = settings.serving_read_scope.partition("/")
    portal_identifier = settings.serving_portal_scope_prefix.partition("/")[0]
    privacy_identifier, _, erase = settings.privacy_erase_scope.partition("/")
    if not erase or privacy_identifier != identifier:
        raise InfraConfigError(
            "NEWSLAKE_PRIVACY_ERASE_SCOPE must name a scope of the read scope's resource "
            "server, e.g. newslake/privacy.erase"
        )
    if not read or identifier != portal_identifier:
        raise InfraConfigError(
            "NEWSLAKE_SERVING_READ_SCOPE and NEWSLAKE_SERVING_PORTAL_SCOPE_PREFIX must share "
            "one resource server, e.g. newslake/recommendations.read and newslake/portal."
        )
