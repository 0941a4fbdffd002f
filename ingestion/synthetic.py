"""Deterministic synthetic traffic for the demo and the tests.

The shape follows what real news traffic shows (see the G1 clicks): a few articles take most
views (Zipf-like), articles are published all the time and fade within a day, readers come
back in sessions of a few pages, and each reader leans towards a few sections. The same seed
and parameters always give the same events, ids included.
"""

from __future__ import annotations

import math
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from ingestion.schema import Pageview

SECTIONS = ("politica", "economia", "mundo", "esporte", "cultura", "tecnologia")


@dataclass(frozen=True)
class TrafficSpec:
    """What to generate. Defaults give ~40k events over three portals: a demo in seconds."""

    end: datetime
    portals: tuple[str, ...] = ("g1", "ge", "gshow")
    days: float = 2.0
    users_per_portal: int = 400
    articles_per_portal: int = 240
    sessions_per_user_per_day: float = 1.5
    mean_pages_per_session: float = 3.0
    zipf_exponent: float = 1.1
    article_half_life_h: float = 8.0
    section_affinity: float = 4.0
    seed: int = 7
    domains: dict[str, str] = field(default_factory=dict)

    def domain(self, portal: str) -> str:
        return self.domains.get(portal, f"{portal}.globo.com")


@dataclass(frozen=True)
class Article:
    article_id: str
    portal: str
    section: str
    published: datetime
    weight: float  # Zipf weight: intrinsic appeal


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _articles(spec: TrafficSpec, portal: str, rng: random.Random) -> list[Article]:
    start = spec.end - timedelta(days=spec.days + 1)  # a day of back catalogue
    span_s = (spec.end - start).total_seconds()
    ranks = list(range(1, spec.articles_per_portal + 1))
    rng.shuffle(ranks)  # appeal is independent of publish time
    out = []
    for i in range(spec.articles_per_portal):
        published = start + timedelta(seconds=span_s * i / spec.articles_per_portal)
        out.append(
            Article(
                article_id=f"{portal}-{i:05d}",
                portal=portal,
                section=SECTIONS[rng.randrange(len(SECTIONS))],
                published=published,
                weight=1.0 / ranks[i] ** spec.zipf_exponent,
            )
        )
    return out


def _pick(
    articles: list[Article], at: datetime, likes: set[str], spec: TrafficSpec, rng: random.Random
) -> Article | None:
    """An article live at ``at``: appeal x freshness x the reader's taste."""
    weights = []
    live = []
    for a in articles:
        if a.published > at:
            break  # articles are sorted by publish time
        age_h = (at - a.published).total_seconds() / 3600
        w = a.weight * math.pow(0.5, age_h / spec.article_half_life_h)
        if a.section in likes:
            w *= spec.section_affinity
        live.append(a)
        weights.append(w)
    if not live:
        return None
    return rng.choices(live, weights=weights, k=1)[0]


def _session_start(spec: TrafficSpec, rng: random.Random) -> datetime:
    """A start time with a daily rhythm: more reading by day (UTC-3) than at night."""
    while True:
        offset_s = rng.uniform(0, spec.days * 86400)
        at = spec.end - timedelta(seconds=offset_s)
        local_hour = (at.hour - 3) % 24
        if rng.random() < 0.25 + 0.75 * math.sin(math.pi * local_hour / 24) ** 2:
            return at


def generate(spec: TrafficSpec) -> Iterator[Pageview]:
    """All events of the spec, ordered by client time."""
    rng = random.Random(spec.seed)
    events: list[Pageview] = []
    for portal in spec.portals:
        articles = _articles(spec, portal, rng)
        for u in range(spec.users_per_portal):
            user_id = f"{portal}-u{u:05d}"
            likes = set(rng.sample(SECTIONS, k=2))
            activity = rng.lognormvariate(0, 0.8)
            n_sessions = max(1, round(activity * spec.sessions_per_user_per_day * spec.days))
            for _ in range(n_sessions):
                events.extend(_session(spec, portal, user_id, articles, likes, rng))
    events.sort(key=lambda e: (e.client_ts, e.event_id))
    yield from events


def _session(
    spec: TrafficSpec,
    portal: str,
    user_id: str,
    articles: list[Article],
    likes: set[str],
    rng: random.Random,
) -> list[Pageview]:
    session_id = _uuid(rng)
    at = _session_start(spec, rng)
    pages = 1 + min(30, int(rng.expovariate(1 / max(spec.mean_pages_per_session - 1, 0.1))))
    seen: set[str] = set()
    referrer: str | None = None
    out: list[Pageview] = []
    for _ in range(pages):
        if at > spec.end:
            break
        article = _pick(articles, at, likes, spec, rng)
        if article is None or article.article_id in seen:
            at += timedelta(seconds=rng.uniform(5, 60))
            continue
        seen.add(article.article_id)
        url = f"https://{spec.domain(portal)}/{article.section}/noticia/{article.article_id}.html"
        pageview_id = _uuid(rng)
        dwell_ms = int(rng.lognormvariate(math.log(40_000), 0.9))
        common = dict(
            portal=portal,
            user_id=user_id,
            session_id=session_id,
            pageview_id=pageview_id,
            url=url,
            referrer=referrer,
            article_id=article.article_id,
        )
        out.append(
            Pageview(event_id=_uuid(rng), event_type="view", client_ts=_ms(at), **common)  # type: ignore[arg-type]
        )
        left = at + timedelta(milliseconds=dwell_ms)
        clicks = 1 if rng.random() < 0.6 else 0
        out.append(
            Pageview(
                event_id=_uuid(rng),
                event_type="engagement",
                client_ts=_ms(min(left, spec.end)),
                dwell_ms=min(dwell_ms, int((spec.end - at).total_seconds() * 1000)),
                scroll_depth=min(100, int(rng.betavariate(2, 1.5) * 100)),
                clicks=clicks,
                clicked_urls=[f"https://{spec.domain(portal)}/"] if clicks else [],
                **common,  # type: ignore[arg-type]
            )
        )
        referrer = url
        at = left + timedelta(seconds=rng.uniform(1, 20))
    return out


def _ms(at: datetime) -> int:
    return int(at.timestamp() * 1000)


def hour_floor(at: datetime) -> datetime:
    return at.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
