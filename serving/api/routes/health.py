"""Liveness, readiness and metrics: for load balancers and scrapers, without tokens."""

from __future__ import annotations

import logging

from fastapi import APIRouter, HTTPException, Response, status
from starlette.concurrency import run_in_threadpool

from serving.api.deps import ComponentsDep
from serving.api.schemas import Health, Readiness
from serving.auth import AuthUnavailableError
from serving.components import Components
from serving.metrics import CONTENT_TYPE
from serving.reader import StoreUnavailableError

logger = logging.getLogger(__name__)
router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> Health:
    """Always 200 while the process serves HTTP, whatever the state of AWS."""
    return Health()


def _checks(components: Components) -> dict[str, str]:
    # The causes (endpoints, pool ids) go to the log; the answer only says what is missing.
    checks = {"store": "ok", "jwks": "ok"}
    try:
        components.check_store()
    except StoreUnavailableError as exc:
        logger.warning("not ready: store: %s", exc)
        checks["store"] = "unreachable"
    try:
        components.check_jwks()
    except AuthUnavailableError as exc:
        logger.warning("not ready: signing keys: %s", exc)
        checks["jwks"] = "unavailable"
    return checks


@router.get(
    "/readyz",
    responses={503: {"model": Readiness, "description": "The store or the keys are missing"}},
)
async def readyz(components: ComponentsDep, response: Response) -> Readiness:
    """200 when the store answers and the pool's signing keys are loaded, 503 otherwise.

    Not ready does not mean failing: recommendation routes still answer 200 (degraded)
    while the store is down. Use it to hold traffic from an instance that is starting.
    """
    checks = await run_in_threadpool(_checks, components)
    ready = all(value == "ok" for value in checks.values())
    if not ready:
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    return Readiness(status="ready" if ready else "not ready", checks=checks)


@router.get("/metrics", response_class=Response, include_in_schema=False)
async def metrics(components: ComponentsDep) -> Response:
    """Request latency by route and status, in Prometheus' text format; a 404 like any
    unknown path unless ``serving_metrics`` (None: the local profile) turns it on, since it
    answers without a token."""
    settings = components.settings
    enabled = settings.serving_metrics
    if enabled is None:
        enabled = settings.profile == "local"
    if not enabled:
        raise HTTPException(status.HTTP_404_NOT_FOUND)
    return Response(components.metrics.render(), media_type=CONTENT_TYPE)
