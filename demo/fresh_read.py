"""The walkthrough's last step: a reader's list within seconds of what they read.

A reader of the first portal who has recent reads is shown their list; they read two of
its articles (ones whose live co-visitation lists name articles they have not read, so the
effect shows) through a real ``POST /pageview`` to the local gateway; their list is asked
again until the two are gone. By then the session-state poller has put the reads in the
reader's recent reads, and the service has left them out and used their co-visitation
lists: the articles read with them come in, sourced ``covisited``.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

from demo.reader_list import (
    Item,
    choose_reads,
    covisited_shown,
    describe,
    fresh_covisited,
    items_of,
    wait_until,
)
from demo.servers import running_gateway
from demo.service import get_json, post_json, recommendations_url, token_for
from ingestion import session_daemon
from ingestion.schema import Pageview
from newslake.cognito import CognitoApp
from newslake.errors import NewslakeError
from newslake.settings import Settings
from newslake.store import LIVE, recent_key, related_key
from serving.reader import DynamoReader, StoreUnavailableError

READERS_TRIED = 5  # the portal's most active readers, until one's list shows the effect
READS = 2
BOUND_S = 15.0  # the issue asks for 5 s at p95 under load; this only catches a broken path
POLL_S = 0.1


@dataclass(frozen=True, kw_only=True)
class Plan:
    """A reader, their list now, and the articles of it they are about to read."""

    portal: str
    reader: str
    token: str
    url: str
    before: list[Item]
    already_read: list[str]
    reads: tuple[str, ...]
    brought: set[str]  # what the reads' co-visitation lists can bring in


@dataclass(frozen=True)
class FreshRead:
    """What the step saw: seconds from the read's 200 to an answer without the reads (None:
    not within the bound) and how many co-visited articles of the reads that answer holds."""

    seconds: float | None
    covisited: int


def show(settings: Settings, app: CognitoApp, base: str, readers: list[str]) -> FreshRead:
    """Run the step over the service at ``base``; ``readers`` most active first."""
    portal = settings.portals[0]
    candidates = [r for r in readers if r.startswith(f"{portal}-")][:READERS_TRIED]
    try:
        plan = _plan(settings, app, base, portal, candidates)
    except StoreUnavailableError as exc:
        raise NewslakeError(f"the recommendations table could not be read: {exc}") from exc
    if plan is None:
        print(f"== none of {portal}'s most active readers has two articles to read in the list")
        return FreshRead(None, 0)
    print(f"== {plan.reader} ({len(plan.already_read)} recent reads) reads two of their articles")
    print(f"   now:  {describe(plan.before)}")
    with running_gateway(settings) as gateway:
        accepted_at = _read(settings, gateway, plan)
        answer, seconds = wait_until(
            lambda: get_json(plan.url, plan.token),
            lambda got: got[0] == 200 and not set(plan.reads) & _articles(items_of(got[1])),
            bound_s=BOUND_S,
            every_s=POLL_S,
            since=accepted_at,
        )
    return _shown(settings, plan, answer, seconds)


def _shown(
    settings: Settings, plan: Plan, answer: tuple[int, Any], seconds: float | None
) -> FreshRead:
    """Print the list as it stood at the end of the wait, and what it says."""
    after = items_of(answer[1]) if answer[0] == 200 else []
    shown = covisited_shown(after, plan.brought)
    reads = " and ".join(plan.reads)
    if seconds is None:
        print(f"   not within {BOUND_S:.0f}s: {describe(after, shown)}")
        print(f"   {reads} still listed: see {session_daemon.log_file(settings)}")
    else:
        print(f"   {seconds:.1f}s later: {describe(after, shown)}")
        print(f"   {reads} gone; * co-visited with them: {len(shown)}")
    return FreshRead(seconds, len(shown))


def _plan(
    settings: Settings, app: CognitoApp, base: str, portal: str, candidates: list[str]
) -> Plan | None:
    """The first candidate with recent reads whose list has articles worth reading."""
    store = DynamoReader.from_settings(settings)
    for reader in candidates:
        recent = store.items_many([(recent_key(portal, reader), LIVE)])
        already_read = [i.article_id for i in next(iter(recent.values()), [])]
        if not already_read:
            continue
        token = token_for(settings, app, reader)
        url = recommendations_url(base, portal, reader)
        status, body = get_json(url, token)
        before = items_of(body) if status == 200 else []
        listed = [article for article, _ in before]
        covisited = _live_lists(store, portal, listed)
        reads = choose_reads(listed, covisited, already_read, READS)
        if reads:
            brought = fresh_covisited(reads, covisited, already_read)
            return Plan(
                portal=portal,
                reader=reader,
                token=token,
                url=url,
                before=before,
                already_read=already_read,
                reads=reads,
                brought=brought,
            )
    return None


def _live_lists(store: DynamoReader, portal: str, articles: list[str]) -> dict[str, list[str]]:
    """The live co-visitation list of each article (empty when it has none), best first."""
    found = store.items_many([(related_key(portal, a), LIVE) for a in articles])
    return {
        a: [i.article_id for i in found.get((related_key(portal, a), LIVE), [])] for a in articles
    }


def _read(settings: Settings, gateway: str, plan: Plan) -> float:
    """POST a view of each read, one page after the other; the monotonic time of the last
    200 (from then on the reads count as made)."""
    url, statuses = f"{gateway}/pageview", []
    for article in plan.reads:
        event = view_event(settings, plan.portal, plan.reader, article)
        status, body = post_json(url, {"events": [event]})
        if status != 200:
            raise NewslakeError(f"POST /pageview answered {status}: {body}")
        statuses.append(str(status))
    accepted_at = time.monotonic()
    print(f"   reads {', then '.join(plan.reads)}: POST {url} -> {', '.join(statuses)}")
    return accepted_at


def view_event(settings: Settings, portal: str, reader: str, article: str) -> dict[str, object]:
    """The tracker's ``view`` event of ``article`` by ``reader``, now, on the portal's site."""
    domain = settings.portal_domains[portal][0]
    pageview_id = str(uuid.uuid4())
    return Pageview(
        event_id=pageview_id,
        event_type="view",
        portal=portal,
        user_id=reader,
        session_id=f"demo-{reader}",
        pageview_id=pageview_id,
        url=f"https://{domain}/noticia/{article}.html",
        article_id=article,
        client_ts=int(time.time() * 1000),
    ).model_dump()


def _articles(items: list[Item]) -> set[str]:
    return {article for article, _ in items}
