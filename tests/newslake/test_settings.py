from __future__ import annotations

import pytest
from pydantic import ValidationError

from newslake.settings import Settings, setting_default


def test_defaults_are_the_local_profile_with_three_portals():
    s = Settings(_env_file=None)
    assert s.profile == "local"
    assert s.portals == ("g1", "ge", "gshow")
    assert s.endpoint_url == "http://127.0.0.1:5055"
    assert s.landing_uri == "s3a://newslake-landing/pageviews"


def test_the_local_lake_lies_on_disk_under_the_state_folder_unless_a_uri_is_given(tmp_path):
    assert Settings(state_dir=tmp_path / "state").lake_root == f"file://{tmp_path}/state/lake"
    on_s3 = Settings(state_dir=tmp_path, lake_uri="s3a://newslake-lake/")
    assert on_s3.lake_root == "s3a://newslake-lake"
    assert on_s3.table_path("silver", "pageviews") == "s3a://newslake-lake/silver/pageviews"


def test_portals_come_from_a_comma_separated_variable(monkeypatch):
    monkeypatch.setenv("NEWSLAKE_PORTALS", "g1, ge")
    assert Settings().portals == ("g1", "ge")


@pytest.mark.parametrize(
    ("value", "message"),
    [("", "NEWSLAKE_PORTALS is empty"), ("G1", "lower-case"), ("g1,g1", "repeat")],
)
def test_bad_portal_lists_are_refused_with_a_clear_message(monkeypatch, value, message):
    monkeypatch.setenv("NEWSLAKE_PORTALS", value)
    with pytest.raises(ValidationError, match=message):
        Settings()


def test_names_derive_from_the_prefix():
    s = Settings(name_prefix="nl-test")
    assert s.stream_name("g1") == "nl-test-pageviews-g1"
    assert s.retry_queue_name == "nl-test-pageview-retry"
    assert s.lake_bucket == "nl-test-lake"


def test_aws_profile_has_no_endpoint_and_uses_s3_scheme():
    s = Settings(profile="aws")
    assert s.endpoint_url is None
    assert s.lake_root == "s3://newslake-lake"


def test_issuer_and_jwks_url_are_separate_locally_and_joined_on_aws():
    local = Settings(moto_port=5999)
    assert (
        local.issuer_for("us-east-1_X") == "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_X"
    )
    assert (
        local.jwks_url_for("us-east-1_X")
        == "http://127.0.0.1:5999/us-east-1_X/.well-known/jwks.json"
    )
    aws = Settings(profile="aws", region="eu-west-1")
    assert aws.jwks_url_for("eu-west-1_Y") == (
        "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Y/.well-known/jwks.json"
    )


def test_a_settings_default_is_the_fields_not_the_environments(monkeypatch):
    monkeypatch.setenv("NEWSLAKE_SERVING_CACHE_TTL_S", "9")
    assert setting_default("serving_cache_ttl_s") == 5.0
    assert setting_default("serving_max_token_chars") == 8192


def test_a_default_of_no_setting_is_an_error():
    with pytest.raises(KeyError):
        setting_default("serving_no_such_setting")


def test_a_log_retention_shorter_than_the_vacuum_retention_is_refused():
    with pytest.raises(ValidationError, match=r"\(7\) is shorter .* set it to 10 or more"):
        Settings(vacuum_retention_hours=240, delta_log_retention_days=7)
    assert Settings(vacuum_retention_hours=240, delta_log_retention_days=10)
