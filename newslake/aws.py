"""The one factory for boto3 clients: endpoint and credentials come from settings."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config

from newslake.settings import Settings

# moto accepts any credentials; these keep boto3 from searching the machine for real ones.
_LOCAL_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


def client(
    service: str,
    settings: Settings,
    *,
    timeout_s: float = 10.0,
    max_attempts: int = 3,
) -> Any:
    """A boto3 client for ``service`` pointed where the settings' profile says.

    Args:
        service: boto3 service name, e.g. ``"kinesis"``.
        settings: the profile decides the endpoint (moto locally, AWS otherwise).
        timeout_s: connect and read timeout; callers on a hot path pass less.
        max_attempts: botocore's retry attempts (standard mode).
    """
    config = Config(
        region_name=settings.region,
        connect_timeout=timeout_s,
        read_timeout=timeout_s,
        retries={"max_attempts": max_attempts, "mode": "standard"},
    )
    kwargs: dict[str, Any] = {"config": config, "region_name": settings.region}
    if settings.profile == "local":
        kwargs.update(endpoint_url=settings.endpoint_url, **_LOCAL_CREDENTIALS)
    return boto3.client(service, **kwargs)
