"""Liveness: answers while the process serves HTTP, whatever the state of AWS."""

from __future__ import annotations

from fastapi import APIRouter

from serving.api.schemas import Health

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> Health:
    """Always 200: a load balancer should not pull the instance because DynamoDB is down."""
    return Health()
