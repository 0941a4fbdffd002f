"""Erasure requests on the local platform's table, and the pseudonyms that stand for ids."""

from __future__ import annotations

import uuid

import pytest
from botocore.exceptions import ClientError

from newslake import aws
from newslake.privacy import (
    ErasureRequest,
    ErasureRequests,
    log_key,
    logged_reader,
    pseudonym,
    subject_of,
    unreadable_by,
    valid_portal,
    valid_user_id,
    with_hash_key,
)
from newslake.settings import Settings

KEY = "test-key"
ASKED = 1_800_000_000.0


@pytest.fixture
def requests(local_platform: Settings) -> ErasureRequests:
    client = aws.client("dynamodb", local_platform)
    return ErasureRequests(client, local_platform.privacy_requests_table, KEY)


def _reader() -> str:
    return f"reader-{uuid.uuid4().hex[:8]}"


def test_a_pseudonym_is_the_keyed_hash_cut_to_32_hex_digits() -> None:
    # openssl dgst -sha256 -hmac secret <<< "reader-7" (without the newline)
    assert pseudonym("reader-7", key="secret") == "f1a0823c62405ecbe6b94e96ff0b7aa1"
    assert pseudonym("reader-7", key="other") != pseudonym("reader-7", key="secret")


def test_a_subject_is_the_pseudonym_of_portal_and_id() -> None:
    assert subject_of("g1", "u1", key="k") == "998417e8896b72bce630be9d5ae87a0a"
    assert subject_of("ge", "u1", key="k") != subject_of("g1", "u1", key="k")


@pytest.mark.parametrize(
    ("user_id", "valid"),
    [
        ("u1", True),
        ("a b#c", True),  # the pageview API accepts it, so it can be in the lake
        ("x" * 128, True),
        ("x" * 129, False),
        ("", False),
        ("a\nb", False),
        ("a\u200bb", False),  # zero-width space: invisible
        (12, False),
    ],
)
def test_reader_ids_follow_the_pageview_api_rule(user_id: object, valid: bool) -> None:
    assert valid_user_id(user_id) is valid


def test_portals_are_the_configured_ones() -> None:
    settings = Settings(portals=("g1", "ge"))
    assert valid_portal("g1", settings)
    assert not valid_portal("gshow", settings)
    assert not valid_portal(None, settings)


def test_history_is_unreadable_a_night_after_the_longest_retention() -> None:
    settings = Settings(vacuum_retention_hours=240, delta_log_retention_days=10)
    # 2027-01-15T08:00Z + 10 days + 1 night
    assert unreadable_by(1_800_000_000.0, settings) == "2027-01-26"


def test_in_aws_history_is_unreadable_once_the_lake_bucket_drops_its_old_versions() -> None:
    settings = Settings(
        profile="aws",
        vacuum_retention_hours=240,
        delta_log_retention_days=10,
        lake_noncurrent_version_days=7,
    )
    # 2027-01-15T08:00Z + 10 days + 1 night + 7 days of noncurrent versions + S3's rounding
    assert unreadable_by(1_800_000_000.0, settings) == "2027-02-03"


def test_the_aws_profile_needs_a_key_of_its_own() -> None:
    assert Settings(profile="aws", privacy_hash_key="s" * 32).privacy_key == "s" * 32
    with pytest.raises(ValueError, match="NEWSLAKE_PRIVACY_HASH_KEY is not set"):
        _ = Settings(profile="aws").privacy_key


def test_logs_name_no_reader_where_no_key_is_set() -> None:
    assert log_key(Settings(profile="aws")) is None
    assert logged_reader("g1", "u1", None) == "~"
    assert logged_reader("g1", "u1", "k") == "~998417e8896b72bce630be9d5ae87a0a"


def test_a_request_is_recorded_pending_under_the_readers_pseudonym(
    requests: ErasureRequests,
) -> None:
    user = _reader()

    asked = requests.ask("g1", user, asked_by="cli:ana", now=ASKED)

    expected = ErasureRequest(
        subject=pseudonym(f"g1:{user}", key=KEY),
        portal="g1",
        user_id=user,
        asked_at=ASKED,
        asked_by="cli:ana",
        status="pending",
        steps={},
    )
    assert asked == expected
    assert requests.get("g1", user) == expected
    assert requests.get("ge", user) is None
    assert expected in requests.pending()


def test_asking_again_while_pending_changes_nothing(requests: ErasureRequests) -> None:
    user = _reader()
    first = requests.ask("g1", user, asked_by="cli:ana", now=ASKED)
    requests.record_step(first.subject, "silver/pageviews", removed=3, at=ASKED + 5)

    again = requests.ask("g1", user, asked_by="client:dpo", now=ASKED + 60)

    assert again.asked_at == ASKED
    assert again.asked_by == "cli:ana"
    assert again.steps == {"silver/pageviews": {"removed": 3.0, "at": ASKED + 5}}


def test_steps_are_recorded_per_place_and_a_rerun_overwrites(requests: ErasureRequests) -> None:
    subject = requests.ask("g1", _reader(), asked_by="cli:ana", now=ASKED).subject

    requests.record_step(subject, "bronze/pageviews", removed=4, at=ASKED + 1)
    requests.record_step(subject, "gold/interactions", removed=2, at=ASKED + 2)
    requests.record_step(subject, "bronze/pageviews", removed=0, at=ASKED + 3)

    done = next(r for r in requests.pending() if r.subject == subject)
    assert done.steps == {
        "bronze/pageviews": {"removed": 0.0, "at": ASKED + 3},
        "gold/interactions": {"removed": 2.0, "at": ASKED + 2},
    }


def test_a_completed_request_keeps_its_proof_and_forgets_the_id(
    requests: ErasureRequests,
) -> None:
    user = _reader()
    subject = requests.ask("g1", user, asked_by="cli:ana", now=ASKED).subject
    requests.record_step(subject, "dynamodb", removed=1, at=ASKED + 1)

    requests.complete(subject, done_at=ASKED + 9, unreadable_by="2027-01-24")

    assert requests.get("g1", user) == ErasureRequest(
        subject=subject,
        portal="g1",
        user_id=None,
        asked_at=ASKED,
        asked_by="cli:ana",
        status="done",
        steps={"dynamodb": {"removed": 1.0, "at": ASKED + 1}},
        done_at=ASKED + 9,
        unreadable_by="2027-01-24",
    )
    assert subject not in {r.subject for r in requests.pending()}


def test_asking_again_once_done_opens_a_new_request(requests: ErasureRequests) -> None:
    user = _reader()
    subject = requests.ask("g1", user, asked_by="cli:ana", now=ASKED).subject
    requests.record_step(subject, "dynamodb", removed=1, at=ASKED + 1)
    requests.complete(subject, done_at=ASKED + 9, unreadable_by="2027-01-24")

    again = requests.ask("g1", user, asked_by="client:dpo", now=ASKED + 100)

    assert again == ErasureRequest(
        subject=subject,
        portal="g1",
        user_id=user,
        asked_at=ASKED + 100,
        asked_by="client:dpo",
        status="pending",
        steps={},
    )


def test_a_step_for_an_unknown_request_is_refused(requests: ErasureRequests) -> None:
    with pytest.raises(ClientError, match="ConditionalCheckFailed"):
        requests.record_step("0" * 32, "dynamodb", removed=1, at=ASKED)


def test_the_key_is_read_from_its_secret_where_only_the_secret_is_named(
    local_platform: Settings,
) -> None:
    secrets = aws.client("secretsmanager", local_platform)
    name = f"privacy-key-{uuid.uuid4().hex[:8]}"
    secrets.create_secret(Name=name, SecretString="k" * 48)
    aws_like = local_platform.model_copy(update={"privacy_hash_key_secret": name})

    assert with_hash_key(aws_like).privacy_key == "k" * 48
    given = aws_like.model_copy(update={"privacy_hash_key": "given"})
    assert with_hash_key(given).privacy_key == "given"  # no secret read
