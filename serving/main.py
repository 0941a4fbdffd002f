"""Builds the serving app: ``python -m serving.main`` (make serve), ``uvicorn serving.main:app``,
or ``serving.lambda_handler.handler`` behind API Gateway + Lambda."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from newslake.privacy import log_key
from newslake.settings import Settings
from serving.api import errors
from serving.api.routes import editorial as editorial_routes
from serving.api.routes import health, lists, privacy, recommendations, related
from serving.auth import TokenVerifier
from serving.components import Components
from serving.editorial import EditorialCopy
from serving.limits import HeaderLimitMiddleware
from serving.observability import ObservabilityMiddleware, configure_logging
from serving.reader import RecommendationReader

logger = logging.getLogger(__name__)


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    if not logging.getLogger().handlers:
        configure_logging()  # run as `uvicorn serving.main:app`: nothing else shows our logs
    components: Components = app.state.components
    components.impressions.start()
    try:
        await run_in_threadpool(components.warm_up)  # keys and shared lists before traffic
        yield
    finally:
        # after the last request: writes every impression still queued
        await run_in_threadpool(components.impressions.stop)
        await run_in_threadpool(components.editorial().stop)


def create_app(
    settings: Settings | None = None,
    *,
    reader: RecommendationReader | None = None,
    verifier: TokenVerifier | None = None,
    impressions: logging.Handler | None = None,
    editorial: EditorialCopy | None = None,
) -> FastAPI:
    """A new app; no network IO here: the verifier and the reader are built at start-up
    (the lifespan, which uvicorn and Mangum run) or on first use.

    Args:
        settings: fixed settings (tests, tools); None reads ``NEWSLAKE_*`` on first use.
        reader: a store reader to use instead of DynamoDB (tests, the overhead benchmark).
        verifier: a token verifier to use instead of the configured pool's (tests).
        impressions: where the impression lines go instead of stdout (tests).
        editorial: the editorial controls' copy, with its store and clocks (tests).
    """
    app = FastAPI(
        title="newslake serving",
        summary="Per-portal news recommendations for readers and machine clients.",
        lifespan=_lifespan,
        # Swagger UI and ReDoc load their scripts from a public CDN: /openapi.json only.
        docs_url=None,
        redoc_url=None,
        # The redirect's Location would be built from the request's Host header.
        redirect_slashes=False,
        # The service keeps its own request metrics and JSON logs; FastAPI's OpenTelemetry
        # hooks would ask the global providers on every request for nothing.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    components = Components(
        settings, reader=reader, verifier=verifier, impressions=impressions, editorial=editorial
    )
    app.state.components = components
    app.add_middleware(HeaderLimitMiddleware)  # inside: its 431s are logged and counted
    app.add_middleware(
        ObservabilityMiddleware,
        metrics=components.metrics,
        access_log=lambda: components.settings.serving_access_log,
        reader_key=lambda: log_key(components.settings),  # privacy: no reader ids in logs
    )
    errors.install(app)
    # Routers are matched in order: the route of every page view first.
    app.include_router(recommendations.router)
    app.include_router(related.router)
    app.include_router(lists.router)
    app.include_router(health.router)
    app.include_router(privacy.router)  # privacy: erasure requests (machine clients only)
    app.include_router(editorial_routes.router)  # the newsroom's blocks and promotions
    return app


app = create_app()


def main() -> None:
    """Serve on the host and port from settings (NEWSLAKE_SERVE_HOST, NEWSLAKE_SERVE_PORT)."""
    import uvicorn

    configure_logging()
    try:
        settings = app.state.components.settings
    except ValidationError as exc:  # e.g. a bad experiment: one line, not a traceback
        raise SystemExit(f"serving cannot start: {settings_problem(exc)}") from None
    # Our middleware writes the access lines (JSON, with request ids); uvicorn's would repeat them.
    uvicorn.run(
        app, host=settings.serve_host, port=settings.serve_port, log_config=None, access_log=False
    )


def settings_problem(exc: ValidationError) -> str:
    """What is wrong with the settings, in one line naming each variable."""
    return "; ".join(
        f"NEWSLAKE_{'_'.join(map(str, e['loc'])).upper()}: {e['msg'].removeprefix('Value error, ')}"
        for e in exc.errors()
    )


if __name__ == "__main__":
    main()
