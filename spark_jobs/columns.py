"""Column names, in one place: transforms take them from here, tests too."""

from __future__ import annotations

# Pageview events (tracker fields, see ingestion.schema.Pageview).
EVENT_ID = "event_id"
EVENT_TYPE = "event_type"
PORTAL = "portal"
USER_ID = "user_id"
SESSION_ID = "session_id"
PAGEVIEW_ID = "pageview_id"
URL = "url"
REFERRER = "referrer"
ARTICLE_ID = "article_id"
DWELL_MS = "dwell_ms"
SCROLL_DEPTH = "scroll_depth"
CLICKS = "clicks"
CLICKED_URLS = "clicked_urls"
CLIENT_TS = "client_ts"
SERVER_TS = "server_ts"
REC_ID = "rec_id"  # the recommendation a click came through (null: organic)
REC_POSITION = "rec_position"

# Added in the lake.
EVENT_TIME = "event_time"
EVENT_DATE = "event_date"
INGESTED_AT = "ingested_at"
SOURCE_OBJECT = "source_object"
VISIT_START = "visit_start"
STRENGTH = "strength"
VISITS = "visits"
LAST_SEEN = "last_seen"
SILVER_AT = "silver_at"  # when a visit first reached silver (freshness)
USER_IDX = "user_idx"
ITEM_IDX = "item_idx"
SCORE = "score"
RANK = "rank"
VERSION = "version"
VIEWS = "views"
SOURCE_ARTICLE = "source_article_id"
BATCH_ID = "batch_id"

# Nightly batch (id maps, blend, evaluation records).
KIND = "kind"  # of an id map row: "user" or "article"
ENTITY_ID = "entity_id"
IDX = "idx"
FIRST_SEEN = "first_seen"
MODEL = "model"
