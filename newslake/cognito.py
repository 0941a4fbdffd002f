"""Finding the Cognito user pool and app client that readers' tokens are issued for.

A lookup by name through the boto3 factory, so it answers the same against AWS (where
infra/ created them) and the local platform's moto server (where provisioning did); ids
given in settings skip the lookup.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from newslake import aws
from newslake.errors import PlatformError
from newslake.settings import Settings


@dataclass(frozen=True)
class CognitoApp:
    """Ids of the user pool and app client that tokens are issued for, and of the machine
    clients found beside it (the privacy office's, then the newsroom's)."""

    pool_id: str
    client_id: str
    machine_client_ids: tuple[str, ...] = ()


def find_user_pool(cognito: Any, name: str) -> str | None:
    """The id of the user pool named ``name``, or None."""
    paginator = cognito.get_paginator("list_user_pools")
    for page in paginator.paginate(MaxResults=60):
        for pool in page.get("UserPools", []):
            if pool["Name"] == name:
                return str(pool["Id"])
    return None


def find_app_client(cognito: Any, pool_id: str, name: str) -> str | None:
    """The id of the app client named ``name`` in the pool, or None."""
    paginator = cognito.get_paginator("list_user_pool_clients")
    for page in paginator.paginate(UserPoolId=pool_id, MaxResults=60):
        for client in page.get("UserPoolClients", []):
            if client["ClientName"] == name:
                return str(client["ClientId"])
    return None


def find_cognito_app(settings: Settings) -> CognitoApp:
    """The pool and app client, from settings or found by name.

    Raises:
        PlatformError: neither given nor provisioned.
    """
    cognito = aws.client("cognito-idp", settings)
    pool_id = settings.cognito_user_pool_id or find_user_pool(cognito, settings.user_pool_name)
    if not pool_id:
        raise PlatformError(
            f"no Cognito user pool named {settings.user_pool_name!r}: run `make up` "
            f"(or set NEWSLAKE_COGNITO_USER_POOL_ID)"
        )
    if settings.cognito_client_ids:
        return CognitoApp(pool_id, settings.cognito_client_ids[0])
    client_id = find_app_client(cognito, pool_id, settings.app_client_name)
    if not client_id:
        raise PlatformError(
            f"no app client named {settings.app_client_name!r} in pool {pool_id}: run `make up`"
        )
    machine = (settings.privacy_client_name, settings.editorial_client_name)
    found = (find_app_client(cognito, pool_id, name) for name in machine)
    return CognitoApp(pool_id, client_id, tuple(c for c in found if c))
