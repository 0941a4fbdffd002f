"""API Gateway + Lambda entry point: the same app, adapted by Mangum.

Thin on purpose: JSON logs to CloudWatch, the app, the adapter. Mangum (``lifespan="auto"``)
runs the app's lifespan around every invocation: the cold start's fetches the signing keys
and warms the shared lists (later ones find them warm), and each invocation's end writes
its impression lines before the invocation returns.
"""

from __future__ import annotations

from mangum import Mangum

from serving.main import app
from serving.observability import configure_logging

configure_logging()

handler = Mangum(app, lifespan="auto")
