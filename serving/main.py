"""Builds the serving app: ``uvicorn serving.main:app`` or ``python -m serving.main``."""

from __future__ import annotations

from fastapi import FastAPI

from newslake.settings import Settings
from serving.api.routes import health, recommendations
from serving.components import Components


def create_app(settings: Settings | None = None) -> FastAPI:
    """A new app; no network IO here, the verifier and the reader are built on first use.

    Args:
        settings: fixed settings (tests, tools); None reads ``NEWSLAKE_*`` on first use.
    """
    app = FastAPI(
        title="newslake serving",
        summary="Per-portal news recommendations for signed-in readers.",
    )
    app.state.components = Components(settings)
    app.include_router(health.router)
    app.include_router(recommendations.router)
    return app


app = create_app()


def main() -> None:
    """Serve on the host and port from settings (NEWSLAKE_SERVE_HOST, NEWSLAKE_SERVE_PORT)."""
    import uvicorn

    settings = app.state.components.settings
    uvicorn.run(app, host=settings.serve_host, port=settings.serve_port)


if __name__ == "__main__":
    main()
