"""The moto server of the local platform: stock moto, with two fixes to its Kinesis shard,
a short way to its Kinesis ``PutRecords`` and a quicker S3 listing under a prefix.

``python -m newslake.local.moto_server -H 127.0.0.1 -p 5055`` takes moto's ``-H``/``-p``.

moto's own server (werkzeug's development server) answers every request with
``Connection: close``, so each boto3 or s3a call opened a TCP connection and moto started a
thread for it, which costs both the caller and moto more CPU per call than a kept-alive
connection. This server runs moto's WSGI
application in waitress instead, which keeps connections alive and answers from a fixed
pool of threads. Like werkzeug, waitress drops request headers with ``_`` in their name;
moto's own server puts them back for S3 user metadata, this one does not (newslake sets no
such metadata). There is no access log.

moto 5's ``Shard`` finds the next sequence number by listing every record it holds, and
reads by scanning from the first record, so each ``PutRecords`` and ``GetRecords`` costs
more the longer the server runs; and two requests writing to one shard at once (the
server answers each in a thread) can both take the same sequence number, so one record is
acknowledged and then overwritten. Within a shard moto numbers records 1, 2, 3, ... and
never removes one, so the patched shard keeps the same numbers and answers in O(1) per
record, under a lock.

moto answers every call through the same generic machinery: it finds the service by
matching the host against every backend's URL patterns (a ``stat`` per moto module: the
dispatcher remembers the answer per host, since it depends on the host alone), parses
the body against the botocore model, and serialises the answer from it; that is most of
the CPU of a ``PutRecords``, the hottest call of ``make bench-ingest``.
:class:`Dispatcher` answers a ``PutRecords`` it can judge simply (records with a
partition key within Kinesis's limits and no explicit hash key, no compression, no IAM
checks) straight from moto's own Kinesis backend, with the same body and headers; anything
else, and every call the backend refuses before storing a record (an unknown stream, a batch
over the size limits), goes the generic way, which answers it as stock moto does.

moto lists the objects under a prefix by walking every key of the bucket, with two Python
calls per key, so each ``LIST`` costs more the more keys the bucket holds, where S3's cost
does not grow with the bucket. The file source of Spark's streaming job
lists each landed object that way when it plans a micro-batch (s3a's ``listStatus`` on a
file lists the "directory" first). :func:`prefix_listing` hands moto only the keys under
the prefix, found in one pass over the bucket's key names; moto does the rest as before.

It also answers ``POST /oauth2/token``, the client-credentials grant moto lacks
(:mod:`newslake.local.oauth`), so machine clients get tokens locally.

Nothing else changes: the AWS profile never runs this module.
"""

from __future__ import annotations

import argparse
import io
import json
import math
import os
import secrets
import sys
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from newslake.gctune import freeze_long_lived
from newslake.local import oauth

if TYPE_CHECKING:
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

PUT_RECORDS_TARGET = "Kinesis_20131202.PutRecords"
MAX_RECORDS = 500  # per PutRecords, as Kinesis's API model says
MAX_PARTITION_KEY = 256
MAX_STREAM_NAME = 128
JSON_CONTENT_TYPE = "application/x-amz-json-1.1"
THREADS = 32  # SQS long polls (the retry worker's) each hold a thread while they wait
CONNECTION_LIMIT = 1000  # s3a alone pools up to a hundred connections per Spark session
IDLE_CONNECTION_S = 300
MAX_REMEMBERED_HOSTS = 1024  # hosts whose backend the dispatcher keeps (a few per service)

StartResponse = Callable[..., Any]

_patched = False


def patch_kinesis() -> None:
    """Replace ``moto.kinesis.models.Shard``'s record methods (idempotent)."""
    global _patched
    if _patched:
        return
    from moto.kinesis.models import Record, Shard

    lock = threading.Lock()

    def put_record(self: Any, partition_key: str, data: str, explicit_hash_key: str) -> str:
        with lock:
            sequence_number = _last(self) + 1
            self.records[sequence_number] = Record(
                partition_key, data, sequence_number, explicit_hash_key
            )
        return str(sequence_number)

    def get_records(
        self: Any, last_sequence_id: str, limit: int | None
    ) -> tuple[list[Any], int, int]:
        last = int(last_sequence_id)
        if not self.records:
            return [], last, 0
        wanted = max(last + 1, next(iter(self.records)))
        results: list[Any] = []
        while wanted in self.records and (limit is None or len(results) < limit):
            results.append(self.records[wanted])
            wanted += 1
        if not results:
            return [], last, 0
        newest = self.records[_last(self)]
        behind_ms = int((newest.created_at - results[-1].created_at) * 1000)
        return results, results[-1].sequence_number, behind_ms

    def get_min_sequence_number(self: Any) -> int:
        return next(iter(self.records)) if self.records else 0

    Shard.put_record = put_record  # type: ignore[method-assign]
    Shard.get_records = get_records  # type: ignore[method-assign]
    Shard.get_min_sequence_number = get_min_sequence_number  # type: ignore[method-assign]
    Shard.get_max_sequence_number = _last  # type: ignore[method-assign,assignment]
    _patched = True


def prefix_listing(list_objects: Callable[..., Any]) -> Callable[..., Any]:
    """moto's ``S3Backend.list_objects``, given only the keys under the prefix it lists."""
    from moto.s3.models import FakeBucket
    from moto.s3.utils import _VersionedKeyStore

    def listed(self: Any, bucket: Any, prefix: str | None, *args: Any, **kwargs: Any) -> Any:
        if prefix and type(bucket) is FakeBucket and type(bucket.keys) is _VersionedKeyStore:
            under = _VersionedKeyStore()
            # dict's own methods, not the store's (its items() copies the whole store and
            # looks up each key's last version); names only, since (name, versions) pairs
            # would be thousands of new tuples for the garbage collector to walk.
            for name in list(dict.keys(bucket.keys)):
                if name.startswith(prefix):
                    versions = dict.get(bucket.keys, name)
                    if versions is not None:  # deleted meanwhile
                        dict.__setitem__(under, name, versions)
            bucket = _KeysOf(bucket, under)
        return list_objects(self, bucket, prefix, *args, **kwargs)

    return listed


class _KeysOf:
    """A bucket as moto's listing sees it, with only some of its keys."""

    def __init__(self, bucket: Any, keys: Any) -> None:
        self._bucket, self.keys = bucket, keys

    def __getattr__(self, name: str) -> Any:
        return getattr(self._bucket, name)


def patch_s3_listing() -> None:
    """Replace ``moto.s3.models.S3Backend.list_objects`` with :func:`prefix_listing`'s."""
    from moto.s3.models import S3Backend

    if not getattr(S3Backend.list_objects, "_newslake", False):
        listed = prefix_listing(S3Backend.list_objects)
        listed._newslake = True  # type: ignore[attr-defined]
        S3Backend.list_objects = listed  # type: ignore[method-assign]


def _last(shard: Any) -> int:
    return next(reversed(shard.records)) if shard.records else 0


def _simple_put_records(doc: Any) -> tuple[str | None, str | None, list[Any]] | None:
    """(stream ARN, stream name, records) of a PutRecords body the short way can take."""
    if not isinstance(doc, dict) or not doc.keys() <= {"StreamName", "StreamARN", "Records"}:
        return None
    name, arn, records = doc.get("StreamName"), doc.get("StreamARN"), doc.get("Records")
    if name is None and arn is None:
        return None
    if name is not None and not (isinstance(name, str) and 1 <= len(name) <= MAX_STREAM_NAME):
        return None
    if arn is not None and not isinstance(arn, str):
        return None
    if not isinstance(records, list) or not 1 <= len(records) <= MAX_RECORDS:
        return None
    for r in records:
        if not (
            isinstance(r, dict)
            and r.keys() == {"Data", "PartitionKey"}
            and isinstance(r["Data"], str)
            and isinstance(r["PartitionKey"], str)
            and 1 <= len(r["PartitionKey"]) <= MAX_PARTITION_KEY
        ):
            return None
    return arn, name, records


def put_records_answer(environ: dict[str, Any]) -> tuple[str, list[tuple[str, str]], bytes] | None:
    """moto's answer to a simple Kinesis ``PutRecords``, or None for the generic way.

    Returns:
        (status line, headers, body) as moto's generic path would answer a stored batch.
        None leaves ``environ`` as it came (its body can be read again).
    """
    from moto import settings as moto_settings
    from moto.core.exceptions import JsonRESTError
    from moto.core.responses import BaseResponse
    from moto.iam.models import get_account_id_from, mark_account_as_visited
    from moto.kinesis.models import kinesis_backends

    if environ.get("REQUEST_METHOD") != "POST" or environ.get("HTTP_CONTENT_ENCODING"):
        return None
    if not math.isinf(moto_settings.INITIAL_NO_AUTH_ACTION_COUNT):
        return None  # IAM checks on: let moto do them
    auth = environ.get("HTTP_AUTHORIZATION", "")
    host = environ.get("HTTP_HOST", "")
    if "AWS4" not in auth or "amazonaws.com" in host or "HTTP_ORIGIN" in environ:
        return None  # moto would take the region from elsewhere, or answer CORS
    if BaseResponse.region_from_useragent_regex.search(environ.get("HTTP_USER_AGENT", "")):
        return None
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return None
    body = environ["wsgi.input"].read(length) if length else b""
    environ["wsgi.input"] = io.BytesIO(body)  # for the generic way, if it comes to that
    try:
        parsed = _simple_put_records(json.loads(body))
    except ValueError:
        return None
    if parsed is None:
        return None
    arn, name, records = parsed
    region = auth.split(",")[0].split("/")[2]
    key_match = BaseResponse.access_key_regex.search(auth)
    access_key = key_match.group(1) if key_match else "AKIAEXAMPLE"
    account = (
        os.environ.get("MOTO_ACCOUNT_ID")
        or environ.get("HTTP_X_MOTO_ACCOUNT_ID")
        or get_account_id_from(access_key)
    )
    mark_account_as_visited(account, access_key, "kinesis", region)
    try:
        # moto's own response class passes None for the one not given, too.
        backend = kinesis_backends[account][region]
        result = backend.put_records(arn, name, records)  # type: ignore[arg-type]
    except (JsonRESTError, ValueError):
        # Raised before any record is stored (unknown stream, sizes, bad base64).
        environ["wsgi.input"].seek(0)
        return None
    content = json.dumps(result).encode()
    headers = [
        ("Content-Type", JSON_CONTENT_TYPE),
        ("server", "amazon.com"),
        ("x-amzn-requestid", secrets.token_hex(26)),
        ("Content-Length", str(len(content))),
    ]
    return "200 OK", headers, content


def _dispatcher_class() -> type[DomainDispatcherApplication]:
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication
    from moto.settings import DISABLE_GLOBAL_CORS

    class Dispatcher(DomainDispatcherApplication):
        """moto's WSGI application, with the short way to ``PutRecords`` and a memory of
        which backend answers which host."""

        def __init__(self, create_app: Any) -> None:
            super().__init__(create_app)
            self._backends: dict[str | None, Any] = {}

        def get_backend_for_host(self, host: str | None) -> Any:
            # moto looks the host up afresh on every request, twice: a listing and a stat of
            # each of its module folders, then its URL patterns one by one (CPU spent under
            # its global lock). The answer depends on the host alone, and the hosts a
            # server sees are few (service.region.amazonaws.com), so it is kept.
            try:
                return self._backends[host]
            except KeyError:
                backend = super().get_backend_for_host(host)
                if len(self._backends) < MAX_REMEMBERED_HOSTS:
                    self._backends[host] = backend
                return backend

        def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Any:
            if environ.get("PATH_INFO") == oauth.TOKEN_PATH:  # privacy: machine clients' tokens
                status, headers, content = oauth.token_answer(environ)
                start_response(status, headers)
                return [content]
            if environ.get("HTTP_X_AMZ_TARGET") == PUT_RECORDS_TARGET:
                answer = put_records_answer(environ)
                if answer is not None:
                    status, headers, content = answer
                    if not DISABLE_GLOBAL_CORS:  # flask-cors's answer to a request without Origin
                        headers.append(("Access-Control-Allow-Origin", "*"))
                    start_response(status, headers)
                    return [content]
            return super().__call__(environ, start_response)

    return Dispatcher


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m newslake.local.moto_server",
        description="moto's server for the local platform (keep-alive HTTP, see the module doc)",
    )
    parser.add_argument("-H", "--host", default="127.0.0.1", help="address to bind")
    parser.add_argument("-p", "--port", type=int, default=5000, help="port to listen on")
    parser.add_argument(
        "--threads",
        type=int,
        default=THREADS,
        help="requests answered at once; an SQS long poll holds one for its wait",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    import waitress
    from moto.moto_server.werkzeug_app import create_backend_app

    args = parse_args(sys.argv[1:] if argv is None else argv)
    os.environ.setdefault("MOTO_PORT", str(args.port))  # moto builds some URLs from it
    patch_kinesis()
    patch_s3_listing()
    app = _dispatcher_class()(create_backend_app)
    freeze_long_lived()  # moto's stored records would make every full collection longer
    waitress.serve(
        app,
        host=args.host,
        port=args.port,
        threads=args.threads,
        connection_limit=CONNECTION_LIMIT,
        channel_timeout=IDLE_CONNECTION_S,
        asyncore_use_poll=True,  # select() stops at 1,024 descriptors
        ident="moto",
        _quiet=True,
    )


if __name__ == "__main__":
    main()
