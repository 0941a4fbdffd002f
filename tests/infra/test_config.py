"""Bad deployment parameters stop synthesis with one clear line, before any stack exists."""

from __future__ import annotations

import pytest

from infra import app as infra_app
from infra.config import InfraConfigError, load_config
from newslake.settings import Settings
from tests.utils.cdk_app import base_settings


def _load(**context: object):
    return load_config(context, base_settings())


def test_defaults_follow_the_settings_names() -> None:
    config = load_config({}, Settings())

    assert config.env_name == "dev"
    assert config.prefix == "newslake-dev"
    assert config.portals == ("g1", "ge", "gshow")
    assert config.settings.profile == "aws"
    assert config.settings.stream_name("g1") == "newslake-dev-pageviews-g1"
    assert config.settings.landing_bucket == "newslake-dev-landing"
    assert config.settings.recommendations_table == "newslake-dev-recommendations"
    assert config.archive_after_days == 90
    assert config.log_retention_days == 30


def test_empty_portal_list_is_refused() -> None:
    with pytest.raises(InfraConfigError, match="portal list is empty"):
        _load(portals="")


@pytest.mark.parametrize("portals", ["G1", "g1,g_1", "g1,g1"])
def test_portal_ids_follow_the_settings_rules(portals: str) -> None:
    with pytest.raises(InfraConfigError, match="portal ids"):
        _load(portals=portals)


def test_portal_without_domains_is_refused() -> None:
    with pytest.raises(InfraConfigError, match=r"\['ge'\] have no domains"):
        _load(portals="g1,ge")


def test_portal_making_names_too_long_is_refused() -> None:
    with pytest.raises(InfraConfigError, match="over 64 characters"):
        load_config(
            {"portals": "p" * 50},
            Settings(portal_domains={"p" * 50: ("p.example.com",)}),
        )


@pytest.mark.parametrize(
    ("prefix", "message"),
    [
        ("News_Lake", "cannot name S3 buckets"),
        ("newslake-", "cannot name S3 buckets"),
        ("news--lake", "cannot name S3 buckets"),
        ("n" * 54, "at most 53"),
        ("sthree-newslake", "reserves"),
    ],
)
def test_name_prefix_must_make_valid_bucket_names(prefix: str, message: str) -> None:
    with pytest.raises(InfraConfigError, match=message):
        _load(portals="g1", name_prefix=prefix)


@pytest.mark.parametrize("days", ["3", "10"])
def test_log_retention_below_minimum_or_not_a_cloudwatch_period(days: str) -> None:
    with pytest.raises(InfraConfigError, match="log_retention_days"):
        _load(portals="g1", log_retention_days=days)


def test_archive_age_below_minimum_is_refused() -> None:
    with pytest.raises(InfraConfigError, match="at least 30 days"):
        _load(portals="g1", archive_after_days=29)


def test_archive_age_at_minimum_is_accepted() -> None:
    assert _load(portals="g1", archive_after_days=30).archive_after_days == 30


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("firehose_buffer_mib", 0),
        ("firehose_buffer_mib", 129),
        ("firehose_buffer_interval_s", 30),
        ("budget_usd", 0),
        ("budget_email", "nobody"),
        ("env", "Prod"),
        ("account", "1234"),
        ("vpc", "maybe"),
        ("log_retention_days", "thirty"),
        ("cognito_domain_prefix", "newslake-cognito"),
    ],
)
def test_other_bad_values_are_refused(key: str, value: object) -> None:
    with pytest.raises(InfraConfigError):
        _load(portals="g1", **{key: value})


def test_bad_context_builds_nothing(tmp_path) -> None:
    outdir = tmp_path / "cdk.out"

    with pytest.raises(InfraConfigError):
        infra_app.synth({"portals": ""}, str(outdir), base_settings())

    assert not outdir.exists()


def test_cli_prints_one_line_and_fails(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # What `cdk synth -c portals=g1 -c archive_after_days=7` hands the app.
    monkeypatch.setattr(
        infra_app, "context_of", lambda app: {"portals": "g1", "archive_after_days": "7"}
    )
    monkeypatch.setattr(infra_app, "add_stacks", _must_not_run)

    assert infra_app.main() == 1

    err = capsys.readouterr().err.strip()
    assert err.startswith("newslake infra: archive_after_days=7:")
    assert "\n" not in err


def _must_not_run(*args: object) -> None:
    raise AssertionError("stacks were built from invalid context")


def test_the_erase_scope_must_be_on_the_read_scopes_resource_server() -> None:
    settings = base_settings().model_copy(update={"privacy_erase_scope": "other/privacy.erase"})

    with pytest.raises(InfraConfigError, match="NEWSLAKE_PRIVACY_ERASE_SCOPE"):
        load_config({"portals": "g1"}, settings)
