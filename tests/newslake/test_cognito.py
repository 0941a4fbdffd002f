from __future__ import annotations

import pytest

from newslake import aws, cognito
from newslake.cognito import CognitoApp
from newslake.errors import PlatformError
from newslake.settings import Settings


def test_ids_given_in_settings_are_taken_without_a_lookup():
    settings = Settings(
        profile="local",
        moto_port=9,  # the discard port: a lookup would fail
        cognito_user_pool_id="us-east-1_given",
        cognito_client_ids=("given-client", "other-client"),
    )
    assert cognito.find_cognito_app(settings) == CognitoApp("us-east-1_given", "given-client")


@pytest.mark.slow
def test_the_provisioned_pool_and_client_are_found_by_name(local_platform):
    app = cognito.find_cognito_app(local_platform)
    client = aws.client("cognito-idp", local_platform)
    pool = client.describe_user_pool(UserPoolId=app.pool_id)["UserPool"]
    assert pool["Name"] == "newslake-readers"
    described = client.describe_user_pool_client(UserPoolId=app.pool_id, ClientId=app.client_id)
    assert described["UserPoolClient"]["ClientName"] == "newslake-web"


@pytest.mark.slow
def test_find_cognito_app_explains_what_to_run_when_nothing_is_provisioned(local_platform):
    other = Settings(**{**local_platform.model_dump(), "name_prefix": "unprovisioned"})
    with pytest.raises(PlatformError, match="make up"):
        cognito.find_cognito_app(other)
