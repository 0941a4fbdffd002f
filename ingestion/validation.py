"""What a pageview request must be to be accepted: size, shape, schema, and the checks
that need settings or the clock (portal, domains, URL schemes, clock bounds, clean ids).

Markup or script in a string field is data: stored as sent, only ever answered as JSON.

A recommendation named by a pageview (``rec_id``, ``rec_position``) that is malformed does
not refuse the pageview: the reader's visit happened whatever the portal's markup says. It
is kept as an organic pageview (both fields null) and the reason is counted.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from ingestion.schema import MAX_REC_POSITION, REC_ID_PATTERN, Pageview, http_url_host
from newslake.ids import clean_id
from newslake.settings import Settings

MAX_BODY_BYTES = 256 * 1024
MAX_EVENT_BYTES = 8 * 1024
MAX_BATCH = 100
# A batch nests three deep ({"events": [{"clicked_urls": [...]}]}); Python's json recurses
# once a level, so a body of 10,000 "[" would otherwise end in a RecursionError.
MAX_JSON_DEPTH = 8
# client_ts has 13 digits; int() refuses more than 4,300 digits with an error of its own.
MAX_NUMBER_CHARS = 32
# Hosts as plain DNS names or IPv4 addresses: no percent-escapes or Unicode that a browser
# maps (IDNA) to another host than the one compared here.
_PLAIN_HOST = re.compile(r"[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?")
ID_FIELDS = ("event_id", "user_id", "session_id", "pageview_id", "article_id")
REC_FIELDS = ("rec_id", "rec_position")
# Why a pageview's recommendation was set aside (the pageview is kept, as organic).
REC_INCOMPLETE = "incomplete"  # one of the pair without the other
REC_MALFORMED_ID = "malformed_id"  # not a string of 32 lowercase hex digits
REC_BAD_POSITION = "bad_position"  # not an integer in 1..MAX_REC_POSITION
_REC_ID = re.compile(REC_ID_PATTERN)


def problem(index: int | None, field: str | None, message: str) -> dict[str, Any]:
    return {"index": index, "field": field, "message": message}


def _is_http_url(value: str) -> bool:
    return http_url_host(value) is not None


class UnreadableBodyError(ValueError):
    """The body is not JSON a pageview request can be; the message says why, for the client."""


def _number(text: str) -> int | float:
    if len(text) > MAX_NUMBER_CHARS:
        raise UnreadableBodyError(f"a number is longer than {MAX_NUMBER_CHARS} characters")
    value = float(text) if any(c in text for c in ".eE") else int(text)
    if not math.isfinite(value):  # 1e999 reads as infinity
        raise UnreadableBodyError(f"the number {text} is too large")
    return value


def _not_a_number(name: str) -> Any:
    raise UnreadableBodyError(f"{name} is not a JSON number")


def _deeper_than(value: Any, limit: int) -> bool:
    if not isinstance(value, dict | list):
        return False
    if limit == 0:
        return True
    items = value.values() if isinstance(value, dict) else value
    return any(_deeper_than(v, limit - 1) for v in items)


def decode_json(body: str) -> Any:
    """The body's JSON value, read within the limits a pageview request needs.

    Raises:
        UnreadableBodyError: not JSON, nested deeper than MAX_JSON_DEPTH, a number past
            MAX_NUMBER_CHARS or infinite, or NaN/Infinity (no JSON numbers at all).
    """
    too_deep = UnreadableBodyError(f"it is nested deeper than {MAX_JSON_DEPTH} levels")
    try:
        doc = json.loads(body, parse_int=_number, parse_float=_number, parse_constant=_not_a_number)
    except json.JSONDecodeError as exc:
        raise UnreadableBodyError(exc.msg) from None
    except RecursionError:  # the decoder's own depth limit, far past MAX_JSON_DEPTH
        raise too_deep from None
    if _deeper_than(doc, MAX_JSON_DEPTH):
        raise too_deep
    return doc


def _host_allowed(host: str, domains: tuple[str, ...]) -> bool:
    return any(host == d or host.endswith(f".{d}") for d in domains)


def rec_refusal(item: Mapping[str, Any]) -> str | None:
    """Why the event's recommendation cannot be kept, or None (well formed, or none named).

    The id is judged by its form only: whether it names one of the portal's answers is
    known in the lake, against the impressions."""
    rec_id, position = (item.get(f) for f in REC_FIELDS)
    if rec_id is None and position is None:
        return None
    if rec_id is None or position is None:
        return REC_INCOMPLETE
    if not isinstance(rec_id, str) or not _REC_ID.fullmatch(rec_id):
        return REC_MALFORMED_ID
    # JSON's true is a bool, and 3.0 a float: neither is a position.
    if type(position) is not int or not 1 <= position <= MAX_REC_POSITION:
        return REC_BAD_POSITION
    return None


def check_event(
    index: int, event: Pageview, settings: Settings, now_ms: int
) -> list[dict[str, Any]]:
    """Checks that need the settings or the clock; the schema has done the rest."""
    if event.portal not in settings.portals:
        return [problem(index, "portal", f"unknown portal {event.portal!r}")]
    problems = []
    for name in ID_FIELDS:
        value = getattr(event, name)
        if value and not clean_id(value):
            problems.append(problem(index, name, "ids must not contain control characters"))
    domains = settings.portal_domains.get(event.portal, ())
    host = http_url_host(event.url) or ""  # the schema has refused a URL without one
    if not domains:
        problems.append(
            problem(index, "portal", f"no domains configured for portal {event.portal!r}")
        )
    elif not _PLAIN_HOST.fullmatch(host):
        problems.append(problem(index, "url", "url host must be a plain domain name"))
    elif not _host_allowed(host, domains):
        problems.append(
            problem(
                index, "url", f"url host {host!r} is not within {event.portal}'s {list(domains)}"
            )
        )
    # document.referrer is "" when there is none.
    if event.referrer and not _is_http_url(event.referrer):
        problems.append(problem(index, "referrer", "referrer must be an absolute http(s) URL"))
    problems.extend(
        problem(index, f"clicked_urls.{i}", "clicked urls must be absolute http(s) URLs")
        for i, url in enumerate(event.clicked_urls)
        if not _is_http_url(url)
    )
    ahead_s = (event.client_ts - now_ms) / 1000
    if ahead_s > settings.max_clock_skew_future_s:
        problems.append(
            problem(
                index,
                "client_ts",
                f"client_ts is {ahead_s:.0f} s ahead of the server clock "
                f"(at most {settings.max_clock_skew_future_s} s)",
            )
        )
    elif -ahead_s > settings.max_event_age_s:
        problems.append(
            problem(
                index,
                "client_ts",
                f"client_ts is {-ahead_s:.0f} s old (at most {settings.max_event_age_s} s)",
            )
        )
    return problems


@dataclass(frozen=True)
class ParsedRequest:
    events: list[Pageview]
    problems: list[dict[str, Any]]
    received: int  # events in the request, 0 when the body could not be read as events
    # Valid events kept as organic pageviews, by the reason their recommendation was refused.
    rec_refused: Mapping[str, int] = field(default_factory=dict)


def parse_request(body: str, settings: Settings, now_ms: int) -> ParsedRequest:
    """Decode and validate a request body, one event or ``{"events": [...]}``: what the
    handler calls. :func:`parse_events` returns the same events and problems as a pair."""
    if not body.strip():
        return ParsedRequest(
            [], [problem(None, None, 'body is empty: send an event or {"events": [...]}')], 0
        )
    if len(body.encode()) > MAX_BODY_BYTES:
        return ParsedRequest(
            [], [problem(None, None, f"body is larger than {MAX_BODY_BYTES} bytes")], 0
        )
    try:
        doc = decode_json(body)
    except UnreadableBodyError as exc:
        return ParsedRequest([], [problem(None, None, f"body is not valid JSON: {exc}")], 0)
    if isinstance(doc, dict) and "events" in doc:
        raw = doc["events"]
        if not isinstance(raw, list) or not raw:
            return ParsedRequest(
                [], [problem(None, "events", "events must be a non-empty list")], 0
            )
    elif isinstance(doc, dict):
        raw = [doc]
    else:
        message = 'body must be an event object or {"events": [...]}'
        return ParsedRequest([], [problem(None, None, message)], 0)
    if len(raw) > MAX_BATCH:
        message = f"a batch holds at most {MAX_BATCH} events"
        return ParsedRequest([], [problem(None, "events", message)], len(raw))
    return _parse_items(raw, settings, now_ms)


def _parse_items(raw: list[Any], settings: Settings, now_ms: int) -> ParsedRequest:
    """Validate each event of a request; a malformed recommendation is set aside, counted."""
    events: list[Pageview] = []
    problems: list[dict[str, Any]] = []
    rec_refused: Counter[str] = Counter()
    for i, item in enumerate(raw):
        if len(json.dumps(item).encode()) > MAX_EVENT_BYTES:
            problems.append(problem(i, None, f"event is larger than {MAX_EVENT_BYTES} bytes"))
            continue
        reason = rec_refusal(item) if isinstance(item, dict) else None
        if reason is not None:
            item = {**item, **dict.fromkeys(REC_FIELDS)}
        try:
            event = Pageview.model_validate(item)
        except ValidationError as exc:
            problems.extend(
                problem(i, ".".join(str(p) for p in err["loc"]) or None, err["msg"])
                for err in exc.errors(include_url=False)
            )
            continue
        found = check_event(i, event, settings, now_ms)
        if found:
            problems.extend(found)
        else:
            events.append(event)
            if reason is not None:
                rec_refused[reason] += 1
    return ParsedRequest(events, problems, len(raw), dict(rec_refused))


def parse_events(
    body: str, settings: Settings, now_ms: int
) -> tuple[list[Pageview], list[dict[str, Any]]]:
    """Decode and validate a request body: one event, or ``{"events": [...]}``.

    Args:
        body: the request body as text.
        settings: portals, their domains and the clock bounds.
        now_ms: the server clock (epoch ms) that ``client_ts`` is judged against.

    Returns:
        The valid events and a list of problems, each ``{"index", "field", "message"}``
        (``index`` is None for problems of the whole request).
    """
    parsed = parse_request(body, settings, now_ms)
    return parsed.events, parsed.problems
