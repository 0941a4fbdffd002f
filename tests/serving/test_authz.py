"""ScopePolicy: who may read which user and which portal."""

from __future__ import annotations

import pytest

from serving.auth import Principal
from serving.authz import ScopePolicy

POLICY = ScopePolicy("newslake/recommendations.read", "newslake/portal.")
ALICE = Principal("alice", "web", frozenset({"aws.cognito.signin.user.admin"}))
G1_READER = Principal(
    None, "partner", frozenset({"newslake/recommendations.read", "newslake/portal.g1"})
)


def test_reader_may_read_their_own_recommendations() -> None:
    assert POLICY.user_refusal(ALICE, "g1", "alice") is None


def test_reader_may_not_read_another_readers() -> None:
    assert POLICY.user_refusal(ALICE, "g1", "bob") == (
        "a reader's token may only read that reader's own recommendations"
    )


def test_reader_token_with_machine_scopes_still_reads_only_its_own() -> None:
    alice = Principal("alice", "web", G1_READER.scopes)

    assert POLICY.user_refusal(alice, "g1", "bob") is not None


def test_reader_may_read_any_portals_shared_lists() -> None:
    assert POLICY.portal_refusal(ALICE, "gshow") is None


def test_machine_client_may_read_any_user_of_its_portals() -> None:
    assert POLICY.user_refusal(G1_READER, "g1", "bob") is None


@pytest.mark.parametrize(
    ("scopes", "portal", "refusal"),
    [
        (
            {"newslake/recommendations.read", "newslake/portal.g1"},
            "ge",
            "this client's token lacks the scope newslake/portal.ge",
        ),
        (
            {"newslake/portal.g1"},
            "g1",
            "this client's token lacks the scope newslake/recommendations.read",
        ),
        (
            set(),
            "g1",
            "this client's token lacks the scope newslake/recommendations.read "
            "and newslake/portal.g1",
        ),
    ],
)
def test_machine_client_needs_the_read_and_the_portal_scope(
    scopes: set[str], portal: str, refusal: str
) -> None:
    machine = Principal(None, "partner", frozenset(scopes))

    assert (
        POLICY.user_refusal(machine, portal, "bob"),
        POLICY.portal_refusal(machine, portal),
    ) == (refusal, refusal)
