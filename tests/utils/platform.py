"""A local platform (moto server) of the tests' own, apart from the one `make up` runs."""

from __future__ import annotations

from pathlib import Path

from newslake.local import provision, server
from newslake.local.ports import free_port
from newslake.settings import Settings


def platform_settings(state_dir: Path, **overrides: object) -> Settings:
    """Settings for a moto server of the tests' own, apart from the one `make up` runs."""
    return Settings(
        profile="local",  # never the real AWS, whatever the environment says
        cognito_user_pool_id=None,
        cognito_client_ids=(),
        cognito_issuer=None,
        cognito_jwks_url=None,
        moto_port=free_port(),
        state_dir=state_dir,
        serve_port=free_port(),
        **overrides,  # type: ignore[arg-type]
    )


def start_platform(state_dir: Path) -> Settings:
    """A provisioned moto server of its own on a free port; stop it with ``server.stop``."""
    settings = platform_settings(state_dir)
    server.start(settings)
    try:
        provision.provision(settings)
    except BaseException:
        server.stop(settings)
        raise
    return settings
