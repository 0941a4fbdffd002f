"""The pageview event: what the tracker sends and what lands in the lake.

One page visit produces a ``view`` event at load and ``engagement`` updates when the page is
hidden or left; both carry the same ``pageview_id`` so the lake can merge them into one visit.

A portal marks a recommended link with the list answer's ``recommendation_id`` and the
link's position in it; the tracker then sends them as ``rec_id`` and ``rec_position``: on
the ``engagement`` event it sends when the link is clicked (the click on this page), and
on the next page's ``view`` when that page is the link's target (the visit the click
brought). Both or neither: ingestion.validation keeps a pageview whose pair is malformed
as an organic one, with both null.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema, field_validator, model_validator
from pydantic.json_schema import JsonDict

from newslake.ids import ID_CHARS_PATTERN, MAX_ID_CHARS

EventType = Literal["view", "engagement"]

MAX_CLICKED_URLS = 50
# A list answer's recommendation_id is uuid4().hex; positions in a list are 1-based.
REC_ID_PATTERN = r"^[0-9a-f]{32}$"
MAX_REC_POSITION = 100
# Where a browser (WHATWG URL) and urlsplit part ways: a backslash is a slash to a browser
# ("https://evil.com\@g1.globo.com/" is evil.com's page), and whitespace and controls are
# dropped by one parser and kept by the other. A URL the tracker sends (location.href,
# document.referrer, a link's href) is serialized by the browser and never holds them.
_AMBIGUOUS_IN_URL = re.compile(r"[\\\x00-\x20\x7f]")
# The document's word for ids and URLs, which ingestion.validation judges (clean_id,
# http_url_host) rather than the schema, so that its answers keep their words: every value
# these patterns take is accepted there. A URL: absolute http(s), a host that is a plain
# DNS name or IPv4 address (the page's must be, and within the portal's domains), a port
# of at most four digits, none of the characters above.
_HTTP_URL = (
    r"[Hh][Tt][Tt][Pp][Ss]?://[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?(?::[0-9]{0,4})?"
    r"(?:[/?#][^\\\u0000-\u0020\u007F]*)?"
)
HTTP_URL_PATTERN = f"^{_HTTP_URL}$"
_ID: JsonDict = {"pattern": ID_CHARS_PATTERN}
_CLICKED_URL = WithJsonSchema({"type": "string", "maxLength": 2048, "pattern": HTTP_URL_PATTERN})


def http_url_host(value: str) -> str | None:
    """The host of an absolute http(s) URL, or None when it is no such URL or holds a
    character on which a browser and ``urlsplit`` may read different hosts."""
    if _AMBIGUOUS_IN_URL.search(value):
        return None
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 (raises on a port out of range or not a number)
    except ValueError:  # e.g. an unclosed "[" or characters NFKC turns into "/", "@"
        return None
    if parts.scheme not in {"http", "https"}:
        return None
    return parts.hostname or None


class Pageview(BaseModel):
    """One tracker event. Unknown fields are refused so typos do not pass silently."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_max_length=2048)

    event_id: str = Field(min_length=1, max_length=64, json_schema_extra=_ID)
    event_type: EventType
    portal: str = Field(min_length=1, max_length=32)
    # What erasure accepts too.
    user_id: str = Field(min_length=1, max_length=MAX_ID_CHARS, json_schema_extra=_ID)
    session_id: str = Field(min_length=1, max_length=128, json_schema_extra=_ID)
    pageview_id: str = Field(min_length=1, max_length=64, json_schema_extra=_ID)
    url: str = Field(min_length=1, json_schema_extra={"pattern": HTTP_URL_PATTERN})
    # document.referrer is "" when there is none.
    referrer: str | None = Field(default=None, json_schema_extra={"pattern": f"^(?:{_HTTP_URL})?$"})
    article_id: str | None = Field(default=None, max_length=128, json_schema_extra=_ID)
    dwell_ms: int = Field(default=0, ge=0, le=24 * 3600 * 1000)
    scroll_depth: int = Field(default=0, ge=0, le=100)
    clicks: int = Field(default=0, ge=0, le=10_000)
    clicked_urls: list[Annotated[str, _CLICKED_URL]] = Field(
        default_factory=list, max_length=MAX_CLICKED_URLS
    )
    # At most 13 digits in the document (epoch ms until the year 2286): the clock check
    # refuses anything far later, and the body's reader any number past 32 characters.
    client_ts: int = Field(
        description="client clock, epoch milliseconds",
        gt=0,
        json_schema_extra={"maximum": 9_999_999_999_999},
    )
    # Strict: "3" or true is no position (ingestion.validation has already set such a pair
    # aside; anything else that builds a Pageview gets the same rule).
    rec_id: str | None = Field(default=None, pattern=REC_ID_PATTERN, strict=True)
    rec_position: int | None = Field(default=None, ge=1, le=MAX_REC_POSITION, strict=True)

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if http_url_host(value) is None:
            raise ValueError(
                "url must be an absolute http(s) URL, without backslashes, spaces or "
                "control characters"
            )
        return value

    @model_validator(mode="after")
    def _rec_pair(self) -> Pageview:
        if (self.rec_id is None) != (self.rec_position is None):
            raise ValueError("rec_id and rec_position come together or not at all")
        return self


# Field names of the landed record: the event plus what the collector adds.
SERVER_TS = "server_ts"
