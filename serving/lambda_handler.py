"""API Gateway + Lambda entry point: the same app, adapted by Mangum.

Thin on purpose: JSON logs to CloudWatch, the app, the adapter. The lifespan runs once
per execution environment (Mangum's ``auto``), so a cold start fetches the signing keys
and warms the shared lists, and warm invocations reuse them.
"""

from __future__ import annotations

from mangum import Mangum

from serving.main import app
from serving.observability import configure_logging

configure_logging()

handler = Mangum(app, lifespan="auto")
