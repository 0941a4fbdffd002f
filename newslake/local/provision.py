"""Idempotent provisioning of the local platform: every step creates what is missing and
leaves what exists, so ``make up`` twice, or after an interrupted run, ends in the same state.

In the ``aws`` profile these resources come from the CDK app instead; this module only
ever talks to the moto server.
"""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

from newslake import aws
from newslake.cognito import CognitoApp, find_app_client, find_user_pool
from newslake.errors import PlatformError
from newslake.settings import Settings
from newslake.store import TTL_ATTRIBUTE

SHARDS_PER_STREAM = 2
RETRY_VISIBILITY_TIMEOUT_S = 30


def _error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def ensure_streams(settings: Settings) -> None:
    kinesis = aws.client("kinesis", settings)
    existing = set(kinesis.list_streams().get("StreamNames", []))
    for portal in settings.portals:
        name = settings.stream_name(portal)
        if name not in existing:
            kinesis.create_stream(StreamName=name, ShardCount=SHARDS_PER_STREAM)
        kinesis.get_waiter("stream_exists").wait(
            StreamName=name, WaiterConfig={"Delay": 0.2, "MaxAttempts": 50}
        )


def ensure_queues(settings: Settings) -> None:
    sqs = aws.client("sqs", settings)
    dlq_url = sqs.create_queue(QueueName=settings.dead_letter_queue_name)["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    attributes = {
        "VisibilityTimeout": str(RETRY_VISIBILITY_TIMEOUT_S),
        "RedrivePolicy": json.dumps(
            {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(settings.retry_max_receives)}
        ),
    }
    try:
        url = sqs.create_queue(QueueName=settings.retry_queue_name)["QueueUrl"]
    except ClientError as exc:
        if _error_code(exc) not in {"QueueAlreadyExists", "QueueNameExists"}:
            raise
        url = sqs.get_queue_url(QueueName=settings.retry_queue_name)["QueueUrl"]
    sqs.set_queue_attributes(QueueUrl=url, Attributes=attributes)


def ensure_buckets(settings: Settings) -> None:
    s3 = aws.client("s3", settings)
    for bucket in (settings.landing_bucket, settings.lake_bucket):
        try:
            s3.create_bucket(Bucket=bucket)
        except ClientError as exc:
            if _error_code(exc) not in {"BucketAlreadyOwnedByYou", "BucketAlreadyExists"}:
                raise


def ensure_tables(settings: Settings) -> None:
    ddb = aws.client("dynamodb", settings)
    existing = set(ddb.list_tables().get("TableNames", []))
    specs: dict[str, tuple[list[dict[str, str]], list[dict[str, str]]]] = {
        settings.recommendations_table: (
            [
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            [
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
        ),
        settings.versions_table: (
            [{"AttributeName": "portal", "KeyType": "HASH"}],
            [{"AttributeName": "portal", "AttributeType": "S"}],
        ),
        # privacy: erasure requests by the reader's pseudonym (newslake/privacy.py)
        settings.privacy_requests_table: (
            [{"AttributeName": "subject", "KeyType": "HASH"}],
            [{"AttributeName": "subject", "AttributeType": "S"}],
        ),
    }
    for name, (key_schema, attributes) in specs.items():
        if name not in existing:
            ddb.create_table(
                TableName=name,
                KeySchema=key_schema,
                AttributeDefinitions=attributes,
                BillingMode="PAY_PER_REQUEST",
            )
        ddb.get_waiter("table_exists").wait(
            TableName=name, WaiterConfig={"Delay": 0.2, "MaxAttempts": 50}
        )
    ddb.update_time_to_live(
        TableName=settings.recommendations_table,
        TimeToLiveSpecification={"Enabled": True, "AttributeName": TTL_ATTRIBUTE},
    )


def ensure_cognito(settings: Settings) -> CognitoApp:
    cognito = aws.client("cognito-idp", settings)
    pool_id = find_user_pool(cognito, settings.user_pool_name)
    if pool_id is None:
        pool_id = cognito.create_user_pool(
            PoolName=settings.user_pool_name,
            Policies={"PasswordPolicy": {"MinimumLength": 12}},
        )["UserPool"]["Id"]
    client_id = find_app_client(cognito, pool_id, settings.app_client_name)
    if client_id is None:
        client_id = cognito.create_user_pool_client(
            UserPoolId=pool_id,
            ClientName=settings.app_client_name,
            ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
        )["UserPoolClient"]["ClientId"]
    privacy = ensure_privacy_client(cognito, settings, pool_id)
    return CognitoApp(
        pool_id, client_id, (privacy, ensure_editorial_client(cognito, settings, pool_id))
    )


def ensure_privacy_client(cognito: Any, settings: Settings, pool_id: str) -> str:
    """The privacy office's machine client: client credentials, the erase scope alone, as
    the CDK app deploys it; its tokens come from newslake.local.oauth."""
    identifier, _, erase = settings.privacy_erase_scope.partition("/")
    try:
        cognito.describe_resource_server(UserPoolId=pool_id, Identifier=identifier)
    except ClientError as exc:
        if _error_code(exc) != "ResourceNotFoundException":
            raise
        cognito.create_resource_server(
            UserPoolId=pool_id,
            Identifier=identifier,
            Name=f"{settings.name_prefix}-api",
            Scopes=[{"ScopeName": erase, "ScopeDescription": "ask for a reader's erasure"}],
        )
    client_id = find_app_client(cognito, pool_id, settings.privacy_client_name)
    if client_id is None:
        client_id = cognito.create_user_pool_client(
            UserPoolId=pool_id,
            ClientName=settings.privacy_client_name,
            GenerateSecret=True,
            AllowedOAuthFlows=["client_credentials"],
            AllowedOAuthScopes=[settings.privacy_erase_scope],
            AllowedOAuthFlowsUserPoolClient=True,
        )["UserPoolClient"]["ClientId"]
    return str(client_id)


# ---- editorial: the newsroom's machine client (newslake/editorial.py) ----
def ensure_editorial_client(cognito: Any, settings: Settings, pool_id: str) -> str:
    """The newsroom's machine client: client credentials, the editorial scope and every
    portal's, as the CDK app deploys it; its tokens come from newslake.local.oauth
    (``python -m newslake.local token newslake-editorial``). A portal added to the settings
    is added to its scopes on the next ``make up``. (moto's token endpoint checks a client's
    scopes only against the client, so the resource server's list is left as provisioned.)
    """
    scopes = [
        settings.editorial_write_scope,
        *(f"{settings.serving_portal_scope_prefix}{p}" for p in settings.portals),
    ]
    name = settings.editorial_client_name
    client_id = find_app_client(cognito, pool_id, name)
    oauth = {
        "AllowedOAuthFlows": ["client_credentials"],
        "AllowedOAuthScopes": scopes,
        "AllowedOAuthFlowsUserPoolClient": True,
    }
    if client_id is None:
        created = cognito.create_user_pool_client(
            UserPoolId=pool_id, ClientName=name, GenerateSecret=True, **oauth
        )
        return str(created["UserPoolClient"]["ClientId"])
    held = cognito.describe_user_pool_client(UserPoolId=pool_id, ClientId=client_id)
    if sorted(held["UserPoolClient"].get("AllowedOAuthScopes", [])) != sorted(scopes):
        cognito.update_user_pool_client(
            UserPoolId=pool_id, ClientId=client_id, ClientName=name, **oauth
        )
    return client_id


def ensure_user(settings: Settings, app: CognitoApp, username: str, password: str) -> None:
    """A confirmed user with a permanent password (created if missing, password reset if not)."""
    cognito = aws.client("cognito-idp", settings)
    try:
        cognito.admin_create_user(
            UserPoolId=app.pool_id, Username=username, MessageAction="SUPPRESS"
        )
    except ClientError as exc:
        if _error_code(exc) != "UsernameExistsException":
            raise
    cognito.admin_set_user_password(
        UserPoolId=app.pool_id, Username=username, Password=password, Permanent=True
    )


def login(settings: Settings, app: CognitoApp, username: str, password: str) -> str:
    """An access token for the user, from Cognito's USER_PASSWORD_AUTH flow."""
    cognito = aws.client("cognito-idp", settings)
    result = cognito.initiate_auth(
        ClientId=app.client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": username, "PASSWORD": password},
    )
    return str(result["AuthenticationResult"]["AccessToken"])


def provision(settings: Settings) -> CognitoApp:
    """Create whatever the local platform lacks. Safe to run any number of times."""
    if settings.profile != "local":
        raise PlatformError("provisioning is for the local profile; AWS resources come from infra/")
    ensure_streams(settings)
    ensure_queues(settings)
    ensure_buckets(settings)
    ensure_tables(settings)
    return ensure_cognito(settings)
