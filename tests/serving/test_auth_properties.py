"""Hypothesis properties of the token checks, with tokens signed by the pool's own key:
whatever claims and header fields a token holds (any name, any JSON value), the verifier
gives a principal or refuses with InvalidTokenError, and the service answers 200, 401 or
403, never a 500.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi.testclient import TestClient
from hypothesis import event, given
from hypothesis import strategies as st

from serving.auth import CLAIM_KINDS, InvalidTokenError, Principal
from serving.main import create_app
from tests.utils.fakes import FakeReader
from tests.utils.fuzz import fuzz, say_seed
from tests.utils.pool import Pool
from tests.utils.serving_app import app_settings
from tests.utils.tokens import CLIENT_ID, MACHINE_CLIENT_ID, bearer

POOL = Pool()
VERIFIER = POOL.verifier()
READER = FakeReader()
READER.versions["g1"] = "v2"
CLIENT = TestClient(
    create_app(
        app_settings(), reader=READER, verifier=POOL.verifier(), impressions=logging.NullHandler()
    )
)
RECS = "/v1/portals/g1/users/alice/recommendations"

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=8,
)
# The claims the service reads, Cognito's others, and any name at all.
claim_names = st.sampled_from(
    [*CLAIM_KINDS, "auth_time", "jti", "version", "origin_jti", "event_id"]
) | st.text(max_size=20)
# A reader's token and a machine client's, valid before the changes.
valid_claims = st.sampled_from(
    [
        POOL.claims(sub="alice-sub", username="alice", client_id=CLIENT_ID),
        POOL.claims(
            sub=MACHINE_CLIENT_ID,
            client_id=MACHINE_CLIENT_ID,
            scope="newslake/recommendations.read newslake/portal.g1",
        ),
    ]
)
changed_claims = st.builds(
    lambda base, changes, dropped: {
        k: v for k, v in {**base, **changes}.items() if k not in dropped
    },
    valid_claims,
    st.dictionaries(claim_names, json_values, max_size=4),
    st.sets(st.sampled_from(list(CLAIM_KINDS)), max_size=2),
)
header_changes = st.dictionaries(
    st.sampled_from(["kid", "typ", "cty", "jku", "x5u", "crit"]) | st.text(max_size=8),
    json_values,
    max_size=2,
)


def _token(claims: dict[str, Any], header: dict[str, Any]) -> str:
    say_seed()
    return POOL.sign(claims, header)


@fuzz(max_examples=300)
@given(claims=changed_claims, header=header_changes)
def test_any_claims_give_a_principal_or_invalid_token_error(claims, header):
    token = _token(claims, header)
    try:
        outcome = VERIFIER.verify(token)
    except InvalidTokenError as exc:
        event("refused")
        assert str(exc)  # the 401's message, sent back to the caller
    else:
        event("accepted")
        assert isinstance(outcome, Principal)


@fuzz(max_examples=200)
@given(claims=changed_claims, header=header_changes)
def test_any_claims_are_answered_200_401_or_403(claims, header):
    response = CLIENT.get(RECS, headers=bearer(_token(claims, header)))

    event(f"answered {response.status_code}")
    assert response.status_code in {200, 401, 403}, response.text
    if response.status_code == 401:
        challenge = response.headers["WWW-Authenticate"]
        assert challenge.startswith("Bearer") and challenge.isascii(), challenge
