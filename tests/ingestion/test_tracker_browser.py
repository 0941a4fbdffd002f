"""The browser tracker in headless Chromium: what reaches the API for each reader behaviour.

Pages come from a local "portal" origin. Most tests point the tracker at a double of the
collector on a second origin (cross-origin, as in production), which records every request
and can answer with scripted statuses; one test sends through the real local gateway and
handler to Kinesis. Chromium is Debian's (``make chromium``); ``playwright install`` is
never needed.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import json
import os
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from ingestion.schema import Pageview
from tests.ingestion.test_gateway import running_gateway, stream_records

TRACKER_DIR = Path(__file__).resolve().parents[2] / "ingestion" / "tracker"
SOURCE = TRACKER_DIR / "newslake-tracker.js"
MINIFIED = TRACKER_DIR / "newslake-tracker.min.js"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-quic",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 800, "height": 800}
PAGE_HEIGHT = 4000  # px: the viewport shows the first 20 % of a page
UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
FIELDS = set(Pageview.model_fields)

HIDE = """() => {
  Object.defineProperty(document, 'visibilityState', {value: 'hidden', configurable: true});
  Object.defineProperty(document, 'hidden', {value: true, configurable: true});
  document.dispatchEvent(new Event('visibilitychange'));
}"""
SHOW = """() => {
  Object.defineProperty(document, 'visibilityState', {value: 'visible', configurable: true});
  Object.defineProperty(document, 'hidden', {value: false, configurable: true});
  document.dispatchEvent(new Event('visibilitychange'));
}"""


# ---- the shipped file ------------------------------------------------------------------
def test_the_minified_tracker_is_at_most_4_kb_gzipped():
    size = len(gzip.compress(MINIFIED.read_bytes(), compresslevel=9))
    assert size <= 4096, f"newslake-tracker.min.js is {size} bytes gzipped"


def test_the_minified_tracker_is_built_from_the_current_source():
    digest = hashlib.sha256(SOURCE.read_bytes()).hexdigest()
    first_line = MINIFIED.read_text().splitlines()[0]
    assert f"source sha256 {digest}" in first_line, (
        "newslake-tracker.min.js is stale: run `make tracker` and commit the result"
    )


# ---- local servers ---------------------------------------------------------------------
@dataclass(frozen=True)
class Request:
    """One POST /pageview as the collector double saw it."""

    events: list[dict[str, Any]]
    mode: str  # Sec-Fetch-Mode: "no-cors" for navigator.sendBeacon, "cors" for fetch
    content_type: str
    status: int


class Origin:
    """An HTTP server on 127.0.0.1: serves test pages and the tracker, and doubles as the
    collector (POST /pageview), answering the scripted ``statuses`` first, then 200.
    Status 0 drops the connection without an answer (a network error)."""

    def __init__(self) -> None:
        self.pages: dict[str, str] = {}
        self.statuses: list[int] = []
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def events(self) -> list[dict[str, Any]]:
        with self._lock:
            return [e for r in self.requests for e in r.events]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        origin = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _send(self, status: int, body: bytes, content_type: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Access-Control-Allow-Origin", "*")
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                path = self.path.split("?")[0]
                if path == "/newslake-tracker.min.js":
                    self._send(200, MINIFIED.read_bytes(), "text/javascript")
                elif path in origin.pages:
                    self._send(200, origin.pages[path].encode(), "text/html; charset=utf-8")
                else:
                    self._send(404, b"not found", "text/plain")

            def do_OPTIONS(self) -> None:
                self._send(204, b"", "text/plain")

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with origin._lock:
                    status = origin.statuses.pop(0) if origin.statuses else 200
                    origin.requests.append(
                        Request(
                            events=json.loads(body)["events"],
                            mode=self.headers.get("Sec-Fetch-Mode", ""),
                            content_type=self.headers.get("Content-Type", ""),
                            status=status,
                        )
                    )
                if status == 0:
                    self.close_connection = True
                    return
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self._send(status, b'{"accepted":0}', "application/json")  # page may be gone

        return Handler


def page_html(
    config: dict[str, Any] | None,
    *,
    article_id: str | None = "a-1",
    script_attrs: str = "",
    links: str = '<a id="next" href="/next.html">next</a>',
) -> str:
    """An article page: config, meta article id, the tracker in <head>, a tall body."""
    config_js = f"<script>window.newslake = {json.dumps(config)};</script>" if config else ""
    meta = f'<meta name="newslake:article-id" content="{article_id}">' if article_id else ""
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>t</title>{config_js}"
        f'<script src="/newslake-tracker.min.js" {script_attrs}></script>{meta}</head>'
        f'<body style="margin:0"><div style="height:{PAGE_HEIGHT}px">{links}</div></body></html>'
    )


def wait_for(condition: Callable[[], Any], what: str, timeout_s: float = 10.0) -> Any:
    """Poll ``condition`` until it returns something truthy; fail naming ``what``."""
    deadline = time.monotonic() + timeout_s
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout_s} s waiting for {what}")
        time.sleep(0.05)


def valid(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The events, after checking each has exactly the schema's fields and passes it."""
    for event in events:
        assert set(event) == FIELDS, set(event) ^ FIELDS
        try:
            Pageview.model_validate(event)
        except ValidationError as exc:  # pragma: no cover - the message is the point
            pytest.fail(f"the tracker sent an invalid event: {exc}")
    return events


def of_type(origin: Origin, event_type: str, count: int = 1) -> list[dict[str, Any]]:
    """Wait until ``count`` distinct events of the type arrived; returns them, checked.

    Delivery is at least once: an event whose fetch was cut by a navigation is sent again
    (the lake keeps one per ``event_id``), so events are told apart by id, as the lake does.
    """

    def distinct() -> list[dict[str, Any]]:
        unique = {e["event_id"]: e for e in origin.events if e["event_type"] == event_type}
        return list(unique.values()) if len(unique) >= count else []

    return valid(wait_for(distinct, f"{count} {event_type} event(s) at the collector"))


def queued(page: Any) -> list[dict[str, Any]]:
    return json.loads(page.evaluate("localStorage.getItem('newslake:queue') || '[]'"))


# ---- fixtures --------------------------------------------------------------------------
@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{CHROMIUM} is missing; `make setup` installs it (`make chromium`)")
        pytest.skip(f"{CHROMIUM} is missing: run `make chromium` (Debian, as root)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def portal() -> Iterator[Origin]:
    origin = Origin()
    yield origin
    origin.close()


@pytest.fixture
def collector() -> Iterator[Origin]:
    origin = Origin()
    yield origin
    origin.close()


@pytest.fixture
def context(browser: Any) -> Iterator[Any]:
    ctx = browser.new_context(viewport=VIEWPORT)
    yield ctx
    ctx.close()


@pytest.fixture
def config(collector: Origin) -> dict[str, Any]:
    return {"endpoint": f"{collector.url}/pageview", "portal": "g1"}


@pytest.fixture
def site(portal: Origin, config: dict[str, Any]) -> Origin:
    """The portal with an article page and the page it links to, both tracked."""
    portal.pages["/article.html"] = page_html(config)
    portal.pages["/next.html"] = page_html(config, article_id="a-2")
    return portal


# ---- a visit ---------------------------------------------------------------------------
@pytest.mark.slow
def test_a_visit_reports_a_view_with_every_field(context, site, collector):
    page = context.new_page()
    before = int(time.time() * 1000)
    page.goto(f"{site.url}/article.html", referer="https://www.google.com/")
    (view,) = of_type(collector, "view")
    stored_uid = json.loads(page.evaluate("localStorage.getItem('newslake:uid')"))

    assert UUID4.match(view["event_id"]) and UUID4.match(view["pageview_id"])
    assert UUID4.match(view["session_id"])
    assert view["user_id"] == stored_uid and UUID4.match(stored_uid)
    assert {k: view[k] for k in ("portal", "url", "referrer", "article_id")} == {
        "portal": "g1",
        "url": f"{site.url}/article.html",
        "referrer": "https://www.google.com/",
        "article_id": "a-1",
    }
    assert (view["dwell_ms"], view["scroll_depth"], view["clicks"], view["clicked_urls"]) == (
        0,
        20,
        0,
        [],
    )
    assert before <= view["client_ts"] <= int(time.time() * 1000)
    assert collector.requests[0].mode == "cors"  # fetch while the page lives
    assert collector.requests[0].content_type.startswith("text/plain")
    wait_for(lambda: queued(page) == [], "the acknowledged view to leave the queue")
    cookie = next(c for c in context.cookies() if c["name"] == "newslake_uid")
    assert cookie["value"] == stored_uid


@pytest.mark.slow
def test_a_visit_through_the_gateway_lands_in_kinesis(
    context, disposable_platform, portal, tmp_path
):
    # A platform of the test's own: the shared one's streams belong to the end-to-end slice.
    # The handler takes a portal's events only from its domains and answers CORS for its
    # origins; this portal is 127.0.0.1 on a port of its own.
    platform = disposable_platform
    env = {
        "NEWSLAKE_PORTAL_DOMAINS": json.dumps({"g1": ["127.0.0.1"]}),
        "NEWSLAKE_CORS_EXTRA_ORIGINS": portal.url,
    }
    with running_gateway(platform, tmp_path / "gateway.log", env=env) as gateway_url:
        config = {"endpoint": f"{gateway_url}/pageview", "portal": "g1"}
        portal.pages["/article.html"] = page_html(config)
        page = context.new_page()
        page.goto(f"{portal.url}/article.html")
        # The fetch succeeds, and the view leaves the queue, only with the CORS answer.
        wait_for(lambda: queued(page) == [], "the view to be acknowledged", 20)
        user = json.loads(page.evaluate("localStorage.getItem('newslake:uid')"))
        page.evaluate(HIDE)

        landed = wait_for(
            lambda: len(found := stream_records(platform, "g1")) >= 2 and found,
            "the view and the engagement in Kinesis",
            30,
        )
    assert [r["user_id"] for r in landed] == [user, user]
    by_type = {r["event_type"]: r for r in landed}
    view, engagement = by_type["view"], by_type["engagement"]
    assert view["url"] == f"{portal.url}/article.html"
    assert (view["article_id"], view["portal"], view["dwell_ms"]) == ("a-1", "g1", 0)
    assert engagement["pageview_id"] == view["pageview_id"]
    assert engagement["session_id"] == view["session_id"]
    assert engagement["server_ts"] >= view["server_ts"]


# ---- engagement ------------------------------------------------------------------------
@pytest.mark.slow
def test_a_hidden_tab_sends_its_engagement_with_a_beacon(context, site, collector):
    page = context.new_page()
    page.goto(f"{site.url}/article.html")
    (view,) = of_type(collector, "view")
    page.evaluate(HIDE)
    (engagement,) = of_type(collector, "engagement")
    assert engagement["pageview_id"] == view["pageview_id"]
    assert engagement["event_id"] != view["event_id"]
    assert collector.requests[-1].mode == "no-cors"  # navigator.sendBeacon
    assert collector.requests[-1].content_type.startswith("text/plain")


@pytest.mark.slow
def test_without_a_beacon_the_engagement_goes_by_fetch(context, site, collector):
    context.add_init_script("navigator.sendBeacon = () => false;")
    page = context.new_page()
    page.goto(f"{site.url}/article.html")
    of_type(collector, "view")
    page.evaluate(HIDE)
    of_type(collector, "engagement")
    assert [r.mode for r in collector.requests] == ["cors", "cors"]


@pytest.mark.slow
def test_dwell_counts_visible_active_time_only(context, site, collector):
    """Engaged time: visible, and within 5 s of the reader's last action; nothing else."""
    page = context.new_page()
    page.clock.install(time=datetime.now())
    page.goto(f"{site.url}/article.html")
    of_type(collector, "view")
    loaded_s = page.evaluate("Date.now()") / 1000
    page.clock.pause_at(loaded_s + 60)  # idle a minute after load: 5 s count
    page.mouse.move(10, 10)
    page.clock.run_for(2_000)  # active: 2 s count
    page.mouse.move(20, 20)
    page.clock.run_for(60_000)  # idle again: 5 s count
    page.evaluate(HIDE)
    of_type(collector, "engagement")
    page.clock.run_for(60_000)  # hidden: nothing counts
    page.evaluate(SHOW)  # coming back is an action
    page.clock.run_for(1_000)
    page.evaluate(HIDE)
    engagements = sorted(of_type(collector, "engagement", 2), key=lambda e: e["client_ts"])
    assert [e["dwell_ms"] for e in engagements] == [12_000, 13_000]


@pytest.mark.slow
def test_scroll_depth_is_the_deepest_point_seen(context, site, collector):
    page = context.new_page()
    page.goto(f"{site.url}/article.html")
    of_type(collector, "view")
    scroll = """y => new Promise(done => {
      addEventListener('scroll', () => done(), {once: true});
      scrollTo(0, y);
    })"""
    page.evaluate(scroll, 2200)  # (2200 + 800) / 4000: 75 % seen
    page.evaluate(scroll, 0)
    page.evaluate(HIDE)
    (engagement,) = of_type(collector, "engagement")
    assert engagement["scroll_depth"] == 75


@pytest.mark.slow
def test_a_link_click_is_counted_and_reported_when_leaving(context, site, collector):
    page = context.new_page()
    page.goto(f"{site.url}/article.html")
    (first_view,) = of_type(collector, "view")
    page.click("#next")
    page.wait_for_url(f"{site.url}/next.html")
    (engagement,) = of_type(collector, "engagement")
    assert engagement["pageview_id"] == first_view["pageview_id"]
    assert (engagement["clicks"], engagement["clicked_urls"]) == (1, [f"{site.url}/next.html"])
    views = of_type(collector, "view", 2)
    second_view = next(v for v in views if v["pageview_id"] != first_view["pageview_id"])
    assert second_view["referrer"] == f"{site.url}/article.html"
    assert second_view["article_id"] == "a-2"
    assert (second_view["user_id"], second_view["session_id"]) == (
        first_view["user_id"],
        first_view["session_id"],
    )


# ---- identity and sessions -------------------------------------------------------------
@pytest.mark.slow
def test_a_logged_in_id_replaces_the_anonymous_one(context, portal, collector, config):
    portal.pages["/anonymous.html"] = page_html(config)
    portal.pages["/logged-in.html"] = page_html({**config, "userId": "reader-42"})
    page = context.new_page()
    page.goto(f"{portal.url}/anonymous.html")
    (anonymous_view,) = of_type(collector, "view")
    page.goto(f"{portal.url}/logged-in.html")
    (view,) = [v for v in of_type(collector, "view", 2) if v["url"].endswith("/logged-in.html")]
    assert UUID4.match(anonymous_view["user_id"])
    assert view["user_id"] == "reader-42"
    assert view["session_id"] == anonymous_view["session_id"]
    page.evaluate("newslakeTracker.setUserId('reader-7')")  # logged in again, no reload
    page.evaluate(HIDE)
    engagements = of_type(collector, "engagement", 2)  # one per page
    (engagement,) = [e for e in engagements if e["pageview_id"] == view["pageview_id"]]
    assert engagement["user_id"] == "reader-7"


@pytest.mark.slow
def test_a_session_ends_after_30_minutes_without_activity(context, site, collector):
    page = context.new_page()
    page.clock.install(time=datetime.now())
    page.goto(f"{site.url}/article.html")
    loaded_s = page.evaluate("Date.now()") / 1000
    page.clock.pause_at(loaded_s + 10 * 60)
    page.goto(f"{site.url}/next.html")
    page.clock.pause_at(loaded_s + 10 * 60 + 31 * 60)
    page.goto(f"{site.url}/article.html")
    views = of_type(collector, "view", 3)
    sessions = [v["session_id"] for v in sorted(views, key=lambda v: v["client_ts"])]
    assert sessions[0] == sessions[1]
    assert sessions[2] != sessions[1]
    assert len({v["user_id"] for v in views}) == 1


@pytest.mark.parametrize(
    ("init_script", "extra_config"),
    [
        ("Object.defineProperty(Navigator.prototype, 'doNotTrack', {get: () => '1'});", {}),
        (
            "Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', "
            "{get: () => true});",
            {},
        ),
        (None, {"consent": False}),
    ],
    ids=["do-not-track", "global-privacy-control", "no-consent"],
)
@pytest.mark.slow
def test_privacy_signals_give_an_anonymous_mode(
    context, portal, collector, config, init_script, extra_config
):
    if init_script:
        context.add_init_script(init_script)
    portal.pages["/article.html"] = page_html({**config, **extra_config, "userId": "reader-42"})
    page = context.new_page()
    page.goto(f"{portal.url}/article.html")
    page.goto(f"{portal.url}/article.html")
    first, second = of_type(collector, "view", 2)
    assert first["user_id"] != second["user_id"]  # random per page, and never the login
    assert "reader-42" not in {first["user_id"], second["user_id"]}
    assert first["session_id"] != second["session_id"]
    assert page.evaluate("localStorage.length") == 0
    assert context.cookies() == []


@pytest.mark.slow
def test_data_attributes_configure_the_tracker(context, portal, collector):
    portal.pages["/article.html"] = page_html(
        None,
        article_id=None,
        script_attrs=(
            f'data-endpoint="{collector.url}/pageview" data-portal="ge" '
            'data-article-id="a-9" data-consent="false"'
        ),
    )
    page = context.new_page()
    page.goto(f"{portal.url}/article.html")
    (view,) = of_type(collector, "view")
    assert (view["portal"], view["article_id"]) == ("ge", "a-9")
    assert page.evaluate("localStorage.length") == 0


# ---- delivery --------------------------------------------------------------------------
@pytest.mark.slow
def test_events_wait_offline_and_go_when_back_online(context, site, collector):
    page = context.new_page()
    page.goto(f"{site.url}/article.html")
    of_type(collector, "view")
    wait_for(lambda: queued(page) == [], "the view to be acknowledged")
    context.set_offline(True)
    page.evaluate(HIDE)
    (waiting,) = queued(page)
    assert waiting["event_type"] == "engagement"
    assert [e["event_type"] for e in collector.events] == ["view"]
    context.set_offline(False)
    (engagement,) = of_type(collector, "engagement")
    assert engagement["event_id"] == waiting["event_id"]
    wait_for(lambda: queued(page) == [], "the queue to empty")


@pytest.mark.slow
def test_the_offline_queue_keeps_the_newest_200_and_sends_batches_of_100(context, site, collector):
    collector.statuses = [503] * 50  # the view is refused: it is the oldest event queued
    page = context.new_page()
    page.goto(f"{site.url}/article.html")
    wait_for(lambda: collector.requests, "the first attempt")
    context.set_offline(True)
    collector.statuses = []  # from now on the collector takes everything
    refused = len(collector.requests)  # the view, and any retry before going offline
    # 250 hide/show cycles, each 1 ms of engaged time apart: 250 distinct engagements.
    page.evaluate(
        f"""() => {{
          const hide = {HIDE}, show = {SHOW};
          for (let i = 0; i < 250; i++) {{
            show();
            const t = Date.now();
            while (Date.now() === t) {{}}
            hide();
          }}
        }}"""
    )
    waiting = queued(page)
    assert len(waiting) == 200
    assert {e["event_type"] for e in waiting} == {"engagement"}  # the view was dropped
    context.set_offline(False)
    wait_for(lambda: len(collector.requests) == refused + 2, "two batches after the views")
    assert {(r.status, r.events[0]["event_type"]) for r in collector.requests[:refused]} == {
        (503, "view")
    }
    assert [len(r.events) for r in collector.requests[refused:]] == [100, 100]
    sent = [e["event_id"] for r in collector.requests[refused:] for e in valid(r.events)]
    assert sent == [e["event_id"] for e in waiting]


@pytest.mark.parametrize("status", [503, 429, 0], ids=["503", "429", "network-error"])
@pytest.mark.slow
def test_failures_are_retried_with_backoff(context, site, collector, status):
    collector.statuses = [status, status]
    page = context.new_page()
    page.clock.install(time=datetime.now())
    page.goto(f"{site.url}/article.html")
    wait_for(lambda: len(collector.requests) == 1, "the first attempt")
    deadline = time.monotonic() + 20
    while len(collector.requests) < 3 and time.monotonic() < deadline:
        page.clock.run_for(1_000)  # backoff timers run on the page's fake clock
        time.sleep(0.05)
    assert [r.status for r in collector.requests] == [status, status, 200]
    assert len({r.events[0]["event_id"] for r in collector.requests}) == 1
    wait_for(lambda: queued(page) == [], "the delivered view to leave the queue")


@pytest.mark.slow
def test_a_client_error_is_not_retried(context, site, collector):
    collector.statuses = [400]
    page = context.new_page()
    page.clock.install(time=datetime.now())
    page.goto(f"{site.url}/article.html")
    wait_for(lambda: collector.requests, "the first attempt")
    wait_for(lambda: queued(page) == [], "the refused view to be dropped")
    page.clock.run_for(10 * 60_000)
    page.evaluate("newslakeTracker.flush()")
    assert [r.status for r in collector.requests] == [400]


# ---- recommended links -----------------------------------------------------------------
REC_ID = "0123456789abcdef0123456789abcdef"


def rec_link(href: str, rec: str, extra: str = "") -> str:
    return f'<a id="rec" href="{href}" data-newslake-rec="{rec}" {extra}>recommended</a>'


def kept_rec(page: Any) -> Any:
    return page.evaluate("sessionStorage.getItem('newslake:rec')")


def recs(events: list[dict[str, Any]]) -> list[tuple[Any, Any]]:
    return [(e["rec_id"], e["rec_position"]) for e in events]


def rec_clicks(collector: Origin) -> list[dict[str, Any]]:
    """Wait for the engagement events that report a click on a recommendation (the click's
    fetch may land after the beacon sent when the page was left)."""

    def found() -> list[dict[str, Any]]:
        events = [e for e in collector.events if e["event_type"] == "engagement"]
        return list({e["event_id"]: e for e in events if e["rec_id"]}.values())

    return valid(wait_for(found, "the click on a recommendation at the collector"))


def follow_rec(page: Any, collector: Origin, start: str, lands_on: str) -> list[dict[str, Any]]:
    """Open ``start``, click its recommended link, land on ``lands_on``: the two views."""
    page.goto(start)
    of_type(collector, "view")
    page.click("#rec")
    page.wait_for_url(lands_on)
    return of_type(collector, "view", 2)


@pytest.mark.parametrize("activate", ["mouse", "keyboard"])
@pytest.mark.slow
def test_a_recommended_link_reports_the_click_and_the_page_it_leads_to(
    context, site, collector, config, activate
):
    site.pages["/home.html"] = page_html(config, links=rec_link("/next.html", f"{REC_ID}:3"))
    page = context.new_page()
    page.goto(f"{site.url}/home.html")
    (home_view,) = of_type(collector, "view")
    if activate == "mouse":
        page.click("#rec")
    else:
        page.focus("#rec")
        page.keyboard.press("Enter")
    page.wait_for_url(f"{site.url}/next.html")
    views = of_type(collector, "view", 2)
    next_view = next(v for v in views if v["url"] == f"{site.url}/next.html")
    assert recs([home_view, next_view]) == [(None, None), (REC_ID, 3)]
    clicked = rec_clicks(collector)
    assert [(e["pageview_id"], e["clicked_urls"]) for e in clicked] == [
        (home_view["pageview_id"], [f"{site.url}/next.html"])
    ]
    assert recs(clicked) == [(REC_ID, 3)]
    assert kept_rec(page) is None  # sent once, then forgotten


@pytest.mark.slow
def test_a_recommended_link_to_another_origin_keeps_and_sends_nothing(
    context, site, collector, config
):
    collector.pages["/elsewhere.html"] = page_html(config)  # tracked there too
    site.pages["/home.html"] = page_html(
        config, links=rec_link(f"{collector.url}/elsewhere.html", f"{REC_ID}:3")
    )
    page = context.new_page()
    follow_rec(page, collector, f"{site.url}/home.html", f"{collector.url}/elsewhere.html")
    page.go_back()
    page.wait_for_url(f"{site.url}/home.html")
    of_type(collector, "engagement")
    assert kept_rec(page) is None
    assert {(e["rec_id"], e["rec_position"]) for e in collector.events} == {(None, None)}


@pytest.mark.parametrize(
    "value",
    [
        f"{REC_ID.upper()}:3",
        f"{REC_ID[:31]}:3",
        f"{REC_ID}0:3",
        f"{REC_ID}:0",
        f"{REC_ID}:101",
        f"{REC_ID}:03",
        f"{REC_ID}:1.5",
        f"{REC_ID}:",
        REC_ID,
        f" {REC_ID}:3",
        "",
    ],
)
@pytest.mark.slow
def test_a_malformed_recommendation_attribute_is_an_ordinary_link(
    context, site, collector, config, value
):
    site.pages["/home.html"] = page_html(config, links=rec_link("/next.html", value))
    page = context.new_page()
    follow_rec(page, collector, f"{site.url}/home.html", f"{site.url}/next.html")
    (engagement,) = of_type(collector, "engagement")
    assert engagement["clicked_urls"] == [f"{site.url}/next.html"]  # still a link click
    assert kept_rec(page) is None
    assert {(e["rec_id"], e["rec_position"]) for e in collector.events} == {(None, None)}


@pytest.mark.slow
def test_a_page_that_is_not_the_links_target_gets_no_recommendation(
    context, site, collector, config
):
    # The page stops the navigation (as a single-page app does): the click is reported and
    # kept, and the next page load, elsewhere, forgets it without sending it.
    site.pages["/home.html"] = page_html(
        config,
        links=rec_link("/next.html", f"{REC_ID}:5", 'onclick="event.preventDefault()"'),
    )
    page = context.new_page()
    page.goto(f"{site.url}/home.html")
    of_type(collector, "view")
    page.click("#rec")
    (clicked,) = of_type(collector, "engagement")
    assert recs([clicked]) == [(REC_ID, 5)]
    assert json.loads(kept_rec(page))["to"] == f"{site.url}/next.html"
    page.goto(f"{site.url}/article.html")
    page.goto(f"{site.url}/next.html")  # the target, but no longer the next page load
    views = of_type(collector, "view", 3)
    assert recs(views) == [(None, None)] * 3
    assert kept_rec(page) is None


@pytest.mark.slow
def test_a_recommended_link_opened_in_another_tab_is_reported_and_not_kept(
    context, site, collector, config
):
    site.pages["/home.html"] = page_html(config, links=rec_link("/next.html", f"{REC_ID}:2"))
    page = context.new_page()
    page.goto(f"{site.url}/home.html")
    (home_view,) = of_type(collector, "view")
    page.click("#rec", button="middle")
    (clicked,) = of_type(collector, "engagement")
    assert (clicked["pageview_id"], clicked["rec_id"], clicked["rec_position"]) == (
        home_view["pageview_id"],
        REC_ID,
        2,
    )
    assert kept_rec(page) is None


@pytest.mark.slow
def test_in_anonymous_mode_the_click_is_reported_and_nothing_kept(context, site, collector, config):
    site.pages["/home.html"] = page_html(
        {**config, "consent": False}, links=rec_link("/next.html", f"{REC_ID}:4")
    )
    site.pages["/next.html"] = page_html({**config, "consent": False}, article_id="a-2")
    page = context.new_page()
    views = follow_rec(page, collector, f"{site.url}/home.html", f"{site.url}/next.html")
    assert recs(rec_clicks(collector)) == [(REC_ID, 4)]
    assert recs(views) == [(None, None)] * 2  # nothing carried from one page to the next
    assert page.evaluate("sessionStorage.length") == 0
