"""The local platform's Kinesis: every acknowledged record is stored once, read in order."""

from __future__ import annotations

import http.client
import io
import itertools
import json
from concurrent.futures import ThreadPoolExecutor

import boto3
import pytest
from botocore.config import Config

from newslake import aws
from newslake.local import moto_server

WRITERS, CALLS, PER_CALL = 8, 25, 20


_names = itertools.count()


@pytest.fixture()
def stream(local_platform):
    """A one-shard stream of the test's own, deleted afterwards (the platform is shared)."""
    kinesis = aws.client("kinesis", local_platform)
    name = f"{local_platform.name_prefix}-moto-test-{next(_names)}"
    kinesis.create_stream(StreamName=name, ShardCount=1)
    kinesis.get_waiter("stream_exists").wait(StreamName=name)
    yield name
    kinesis.delete_stream(StreamName=name)


def _read_shard(kinesis, stream: str, shard_id: str, limit: int) -> list[tuple[str, bytes]]:
    iterator = kinesis.get_shard_iterator(
        StreamName=stream, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    got: list[tuple[str, bytes]] = []
    while True:
        page = kinesis.get_records(ShardIterator=iterator, Limit=limit)
        got += [(r["SequenceNumber"], r["Data"]) for r in page["Records"]]
        if not page["Records"]:
            return got
        iterator = page["NextShardIterator"]


def test_concurrent_writers_lose_nothing_and_pages_follow_sequence_numbers(local_platform, stream):
    kinesis = aws.client("kinesis", local_platform)

    def write(writer: int) -> list[str]:
        client = aws.client("kinesis", local_platform)  # a client of its own per thread
        acked = []
        for call in range(CALLS):
            records = [
                {"Data": f"{writer}-{call}-{i}".encode(), "PartitionKey": f"user-{writer}"}
                for i in range(PER_CALL)
            ]
            out = client.put_records(StreamName=stream, Records=records)
            assert out["FailedRecordCount"] == 0
            acked += [r["SequenceNumber"] for r in out["Records"]]
        return acked

    with ThreadPoolExecutor(WRITERS) as pool:
        acked = [seq for seqs in pool.map(write, range(WRITERS)) for seq in seqs]

    shard_id = kinesis.list_shards(StreamName=stream)["Shards"][0]["ShardId"]
    stored = _read_shard(kinesis, stream, shard_id, limit=333)
    total = WRITERS * CALLS * PER_CALL
    assert len(acked) == len(set(acked)) == total  # no number handed out twice
    assert len(stored) == total
    assert sorted(seq for seq, _ in stored) == sorted(acked)
    assert {data for _, data in stored} == {
        f"{w}-{c}-{i}".encode()
        for w in range(WRITERS)
        for c in range(CALLS)
        for i in range(PER_CALL)
    }
    assert [int(seq) for seq, _ in stored] == list(range(1, total + 1))  # in order, no gaps


def test_reading_from_the_latest_position_returns_only_new_records(local_platform, stream):
    kinesis = aws.client("kinesis", local_platform)
    kinesis.put_record(StreamName=stream, Data=b"old", PartitionKey="k")
    shard_id = kinesis.list_shards(StreamName=stream)["Shards"][0]["ShardId"]
    latest = kinesis.get_shard_iterator(
        StreamName=stream, ShardId=shard_id, ShardIteratorType="LATEST"
    )["ShardIterator"]
    kinesis.put_record(StreamName=stream, Data=b"new", PartitionKey="k")
    page = kinesis.get_records(ShardIterator=latest, Limit=10)
    assert [r["Data"] for r in page["Records"]] == [b"new"]
    empty = kinesis.get_records(ShardIterator=page["NextShardIterator"], Limit=10)
    assert empty["Records"] == []


# ---- the short way to PutRecords answers as stock moto does --------------------------


def _raw_answers(client) -> list[tuple[int, dict[str, str], bytes]]:
    """Every PutRecords answer the client gets, as it came over HTTP (header names in
    lower case)."""
    answers: list[tuple[int, dict[str, str], bytes]] = []

    def keep(http_response, **_: object) -> None:
        answers.append(
            (
                http_response.status_code,
                {k.lower(): v for k, v in http_response.headers.items()},
                http_response.content,
            )
        )

    client.meta.events.register("after-call.kinesis.PutRecords", keep)
    return answers


def test_put_records_answers_with_moto_body_and_headers(local_platform, stream):
    kinesis = aws.client("kinesis", local_platform)
    answers = _raw_answers(kinesis)
    out = kinesis.put_records(
        StreamName=stream,
        Records=[{"Data": b"a", "PartitionKey": "k1"}, {"Data": b"b", "PartitionKey": "k2"}],
    )
    assert out["FailedRecordCount"] == 0
    [(status, headers, body)] = answers
    assert status == 200
    assert body == (
        b'{"FailedRecordCount": 0, "Records": ['
        b'{"SequenceNumber": "1", "ShardId": "shardId-000000000000"}, '
        b'{"SequenceNumber": "2", "ShardId": "shardId-000000000000"}]}'
    )
    assert headers["content-type"] == "application/x-amz-json-1.1"
    assert headers["server"].endswith("amazon.com")  # after the dev server's own
    assert headers["access-control-allow-origin"] == "*"
    assert len(headers["x-amzn-requestid"]) == 52
    shard_id = kinesis.list_shards(StreamName=stream)["Shards"][0]["ShardId"]
    page = kinesis.get_records(
        ShardIterator=kinesis.get_shard_iterator(
            StreamName=stream, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
    )
    assert [(r["SequenceNumber"], r["Data"], r["PartitionKey"]) for r in page["Records"]] == [
        ("1", b"a", "k1"),
        ("2", b"b", "k2"),
    ]


def test_put_records_to_an_unknown_stream_is_refused_as_moto_does(local_platform):
    kinesis = aws.client("kinesis", local_platform)
    with pytest.raises(kinesis.exceptions.ResourceNotFoundException) as refused:
        kinesis.put_records(
            StreamName="no-such-stream", Records=[{"Data": b"a", "PartitionKey": "k"}]
        )
    assert refused.value.response["Error"]["Message"] == (
        "Stream no-such-stream under account 123456789012 not found."
    )


def _unchecked_client(settings):
    """A Kinesis client that sends what it is given: the server is to judge it."""
    return boto3.client(
        "kinesis",
        endpoint_url=settings.endpoint_url,
        region_name=settings.region,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(parameter_validation=False, retries={"max_attempts": 1}),
    )


def test_put_records_of_more_than_500_records_is_refused_whole(local_platform, stream):
    kinesis = aws.client("kinesis", local_platform)
    client = _unchecked_client(local_platform)
    with pytest.raises(client.exceptions.ClientError) as refused:
        client.put_records(StreamName=stream, Records=[{"Data": b"a", "PartitionKey": "k"}] * 501)
    assert refused.value.response["Error"]["Code"] == "ValidationException"
    shard_id = kinesis.list_shards(StreamName=stream)["Shards"][0]["ShardId"]
    assert _read_shard(kinesis, stream, shard_id, limit=10) == []


def test_put_records_with_a_too_long_partition_key_gets_moto_own_answer(local_platform, stream):
    # Not the short way's to judge: stock moto answers (it takes the records before the bad one).
    client = _unchecked_client(local_platform)
    records = [{"Data": b"a", "PartitionKey": "k"}, {"Data": b"b", "PartitionKey": "k" * 257}]
    with pytest.raises(client.exceptions.ClientError) as refused:
        client.put_records(StreamName=stream, Records=records)
    assert refused.value.response["Error"]["Code"] == "InvalidArgumentException"


def test_the_short_way_leaves_a_body_it_does_not_take_readable():
    body = json.dumps(
        {"StreamName": "s", "Records": [{"Data": "YQ==", "PartitionKey": "k" * 257}]}
    ).encode()
    environ = {
        "REQUEST_METHOD": "POST",
        "CONTENT_LENGTH": str(len(body)),
        "HTTP_AUTHORIZATION": "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/kinesis/"
        "aws4_request, SignedHeaders=host, Signature=0",
        "HTTP_X_AMZ_TARGET": "Kinesis_20131202.PutRecords",
        "wsgi.input": io.BytesIO(body),
    }
    assert moto_server.put_records_answer(environ) is None
    assert environ["wsgi.input"].read() == body


def test_server_keeps_connections_alive(local_platform):
    """Two calls on one TCP connection: werkzeug's server closed it after every answer."""
    conn = http.client.HTTPConnection(
        local_platform.moto_host, local_platform.moto_port, timeout=10
    )
    try:
        answers = []
        for _ in range(2):
            conn.request("GET", "/moto-api/")
            response = conn.getresponse()
            answers.append((response.status, response.getheader("Connection"), response.read()))
            sock = conn.sock
            assert sock is not None, "the server closed the connection after an answer"
        assert [(status, header) for status, header, _ in answers] == [(200, None), (200, None)]
        assert all(b"Moto" in body for _, _, body in answers)
    finally:
        conn.close()


def test_parse_args_takes_motos_host_and_port():
    args = moto_server.parse_args(["-H", "127.0.0.2", "-p", "5099"])
    assert (args.host, args.port, args.threads) == ("127.0.0.2", 5099, 32)


HOSTS = [
    None,
    "moto_api",
    "s3.us-east-1.amazonaws.com",
    "kinesis.us-east-1.amazonaws.com",
    "firehose.eu-west-1.amazonaws.com",
    "dynamodb.us-east-1.amazonaws.com",
    "sqs.us-east-1.amazonaws.com",
    "cognito-idp.us-east-1.amazonaws.com",
    "kinesis",
    "no-such-service.example.org",
]


def test_dispatcher_remembers_each_hosts_backend_as_moto_finds_it(monkeypatch):
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    stock = DomainDispatcherApplication(create_backend_app)
    expected = [stock.get_backend_for_host(h) for h in HOSTS]
    assert expected[2:5] == ["s3", "kinesis", "firehose"]  # hand-checked, not computed alone
    assert expected[-1] is None
    looked_up: list[str | None] = []
    find = DomainDispatcherApplication.get_backend_for_host

    def counting(self, host):
        looked_up.append(host)
        return find(self, host)

    monkeypatch.setattr(DomainDispatcherApplication, "get_backend_for_host", counting)
    dispatcher = moto_server._dispatcher_class()(create_backend_app)
    for _ in range(3):
        assert [dispatcher.get_backend_for_host(h) for h in HOSTS] == expected
    assert looked_up == HOSTS  # moto's search ran once per host, not once per request


# ---- S3 listings under a prefix answer as stock moto does ----------------------------

KEYS = ["a/1", "a/2/x", "a/2/y", "a/3", "ab", "b/1", "v/keep", "v/gone"]


def _listings(s3) -> list[object]:
    """Listings of one bucket: (keys, common prefixes, truncated, has a next token) for
    the single pages, and the keys alone for the paged v2 and the v1 marker listings."""

    def v2(**kw):
        got = s3.list_objects_v2(Bucket="listing-test", **kw)
        keys = [(o["Key"], o["Size"], o["ETag"]) for o in got.get("Contents", [])]
        prefixes = [p["Prefix"] for p in got.get("CommonPrefixes", [])]
        return keys, prefixes, got["IsTruncated"], got.get("NextContinuationToken") is not None

    first = s3.list_objects_v2(Bucket="listing-test", Prefix="a/", MaxKeys=2)
    rest = s3.list_objects_v2(
        Bucket="listing-test", Prefix="a/", MaxKeys=2,
        ContinuationToken=first["NextContinuationToken"],
    )  # fmt: skip
    v1 = s3.list_objects(Bucket="listing-test", Prefix="a", Marker="a/2/x")
    return [
        v2(Prefix="a/", Delimiter="/"),
        v2(Prefix="a"),
        v2(Prefix="a/2/x/", Delimiter="/"),  # s3a's listStatus of a file: nothing under it
        v2(Prefix="v/"),  # a deleted key of a versioned bucket is not listed
        v2(),
        [o["Key"] for o in first["Contents"]] + [o["Key"] for o in rest["Contents"]],
        [o["Key"] for o in v1.get("Contents", [])],
    ]


def test_listing_under_a_prefix_answers_as_stock_moto(monkeypatch):
    from moto import mock_aws
    from moto.s3.models import S3Backend

    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="listing-test")
        s3.put_bucket_versioning(
            Bucket="listing-test", VersioningConfiguration={"Status": "Enabled"}
        )
        for key in KEYS:
            s3.put_object(Bucket="listing-test", Key=key, Body=key.encode())
        s3.put_object(Bucket="listing-test", Key="a/1", Body=b"second version")
        s3.delete_object(Bucket="listing-test", Key="v/gone")
        stock = _listings(s3)
        monkeypatch.setattr(
            S3Backend, "list_objects", moto_server.prefix_listing(S3Backend.list_objects)
        )
        patched = _listings(s3)
    # Written out by hand for the first listing and the deleted key, the rest as stock moto.
    assert [k for k, _, _ in stock[0][0]] == ["a/1", "a/3"] and stock[0][1] == ["a/2/"]
    assert stock[0][0][0][1] == len(b"second version")
    assert [k for k, _, _ in stock[3][0]] == ["v/keep"]
    assert stock[5] == ["a/1", "a/2/x", "a/2/y", "a/3"]
    assert patched == stock


def test_the_s3_listing_patch_is_made_once(monkeypatch):
    from moto.s3.models import S3Backend

    stock = S3Backend.list_objects
    monkeypatch.setattr(S3Backend, "list_objects", stock)  # restored after the test
    moto_server.patch_s3_listing()
    patched = S3Backend.list_objects
    moto_server.patch_s3_listing()
    assert patched is not stock and S3Backend.list_objects is patched
