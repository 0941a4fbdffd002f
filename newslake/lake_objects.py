"""Small text objects under the lake's root, wherever the lake lives: a folder on local
disk (``file://``), the local S3 (``s3a://``) or S3 (``s3://``).

For the few records that must outlive the serving store and are too small for a Delta
table (the active version per portal, :mod:`newslake.versions`), written and read with
boto3 or plain files, so orchestrators without Spark can use them.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from botocore.exceptions import ClientError

from newslake import aws
from newslake.settings import Settings


def _where(settings: Settings, name: str) -> tuple[str, str]:
    """(scheme, location): a file path, or ``bucket/key`` for S3."""
    parts = urlsplit(f"{settings.lake_root}/{name}")
    if parts.scheme == "file":
        return "file", parts.path
    if parts.scheme in {"s3", "s3a"}:
        return "s3", f"{parts.netloc}/{parts.path.lstrip('/')}"
    raise ValueError(f"the lake root {settings.lake_root} is neither file://, s3:// nor s3a://")


def write_text(settings: Settings, name: str, text: str, *, s3: Any = None) -> None:
    """Write ``text`` to ``name`` under the lake root, whole or not at all (a file is
    renamed into place; an S3 put is atomic)."""
    scheme, location = _where(settings, name)
    if scheme == "file":
        path = Path(location)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        with os.fdopen(fd, "w") as out:
            out.write(text)
        os.replace(tmp, path)
        return
    bucket, key = location.split("/", 1)
    (s3 or aws.client("s3", settings)).put_object(Bucket=bucket, Key=key, Body=text.encode())


def read_text(settings: Settings, name: str, *, s3: Any = None) -> str | None:
    """The text of ``name`` under the lake root; None when there is no such object."""
    scheme, location = _where(settings, name)
    if scheme == "file":
        try:
            return Path(location).read_text()
        except FileNotFoundError:
            return None
    bucket, key = location.split("/", 1)
    try:
        body = (s3 or aws.client("s3", settings)).get_object(Bucket=bucket, Key=key)["Body"]
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in {"NoSuchKey", "NoSuchBucket", "404"}:
            return None
        raise
    return str(body.read().decode())


def exists(settings: Settings, name: str, *, s3: Any = None) -> bool:
    """True when ``name`` under the lake root is a file, a folder, or an S3 prefix with
    objects."""
    scheme, location = _where(settings, name)
    if scheme == "file":
        return Path(location).exists()
    bucket, key = location.split("/", 1)
    try:
        listed = (s3 or aws.client("s3", settings)).list_objects_v2(
            Bucket=bucket, Prefix=key, MaxKeys=1
        )
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "NoSuchBucket":
            return False
        raise
    return bool(listed.get("KeyCount"))
