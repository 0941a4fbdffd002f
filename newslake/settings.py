"""One typed settings object for every part of newslake.

Values come from environment variables with the ``NEWSLAKE_`` prefix (for
example ``NEWSLAKE_PROFILE=aws``, ``NEWSLAKE_PORTALS=g1,ge``). The ``local``
profile (default) points every AWS client at the one moto server on
127.0.0.1; the ``aws`` profile leaves endpoints to boto3's defaults so the same
code talks to the real services.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from newslake.experiments import Experiment, Variant, experiments_from

Profile = Literal["local", "aws"]

_NAME_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789-")
# privacy: the local profile's pseudonym key, public by design (Settings.privacy_key)
_LOCAL_PRIVACY_KEY = "newslake-local-pseudonyms"


def _is_origin(value: str) -> bool:
    parts = urlsplit(value)
    origin = f"{parts.scheme}://{parts.netloc}"
    return parts.scheme in {"http", "https"} and bool(parts.netloc) and value == origin


class Settings(BaseSettings):
    """Everything a job, handler or service reads or writes is named here."""

    model_config = SettingsConfigDict(env_prefix="NEWSLAKE_", extra="ignore", frozen=True)

    profile: Profile = "local"
    region: str = "us-east-1"
    portals: Annotated[tuple[str, ...], NoDecode] = ("g1", "ge", "gshow")
    name_prefix: str = "newslake"

    # Pageview API. A portal's events must come from its domains (exact or subdomain);
    # as JSON in the environment: NEWSLAKE_PORTAL_DOMAINS='{"g1": ["g1.globo.com"]}'.
    portal_domains: dict[str, tuple[str, ...]] = {
        "g1": ("g1.globo.com",),
        "ge": ("ge.globo.com",),
        "gshow": ("gshow.globo.com",),
    }
    # Origins allowed besides the portals' https ones, e.g. http://localhost:8080 (CSV).
    cors_extra_origins: Annotated[tuple[str, ...], NoDecode] = ()
    # Client clocks may run max_clock_skew_future_s ahead (field under "Streaming lakehouse").
    # The tracker's offline queue may hold events for days (a phone offline over a weekend).
    max_event_age_s: int = Field(default=3 * 86400, gt=0)
    # Receives of a refused event from the retry queue before it goes to the dead-letter
    # queue (the queue's redrive policy, locally and in infra/).
    retry_max_receives: int = Field(default=5, ge=1)

    # Local platform (profile "local" only).
    moto_host: str = "127.0.0.1"
    moto_port: int = 5055
    state_dir: Path = Path(".newslake")
    # The local Firehose stand-in writes a stream's buffer at this size or age (Firehose's
    # buffering hints; infra/ sets the real stream's).
    local_firehose_buffer_mib: float = Field(default=5.0, gt=0)
    local_firehose_buffer_interval_s: float = Field(default=60.0, ge=0)

    # Lake layout. Defaults derive from the bucket names and the profile; locally the lake
    # is state_dir/lake on disk (Settings.lake_root), which `make down` leaves in place.
    landing_prefix: str = "pageviews"
    lake_uri: str | None = None

    # Cognito. The pool and client are found by name when their ids are not given.
    cognito_user_pool_id: str | None = None
    cognito_client_ids: Annotated[tuple[str, ...], NoDecode] = ()
    cognito_issuer: str | None = None
    cognito_jwks_url: str | None = None

    # Spark.
    spark_master: str = "local[2]"
    spark_shuffle_partitions: int = 4
    spark_driver_memory: str = "4g"
    maven_repo: Path = Path.home() / ".m2" / "repository"
    jar_cache_dir: Path = Path.home() / ".cache" / "newslake"

    # Streaming lakehouse.
    stream_trigger_s: int = 2
    stream_max_files_per_trigger: int = 1000
    max_clock_skew_future_s: int = Field(default=300, ge=0)
    late_after_s: int = 7 * 86400
    trending_window_minutes: int = Field(default=15, ge=1)  # chosen on G1 (evaluation/README.md)
    covisit_window_hours: int = 3
    related_refresh_s: int = 60  # chosen on G1 (evaluation/README.md)
    recent_reads_hours: int = 24
    recent_reads_limit: int = 50
    live_ttl_hours: int = 48
    # The streaming job's live publisher: trending and recent reads every few seconds
    # (related every related_refresh_s); backfills may turn it off.
    stream_publish_live: bool = True
    live_publish_interval_s: float = Field(default=5, gt=0)
    # VACUUM keeps at least 7 days of files: time travel, slow readers, replays.
    vacuum_retention_hours: int = Field(default=168, ge=168)

    # Models and serving.
    top_n: int = Field(default=20, ge=1, le=100)
    # Articles each published gold list ranks past top_n: the export leaves the articles
    # blocked at its time out and still writes top_n (spark_jobs/editorial_filter.py).
    published_spare_ranks: int = Field(default=10, ge=0, le=100)
    als_rank: int = 16
    als_max_iter: int = 10
    als_reg_param: float = 0.1
    als_alpha: float = 10.0
    als_seed: int = 42
    popular_window_hours: int = 24
    version_ttl_days: int = 3
    # Nightly batch (spark_jobs/nightly.py): evaluation, gate and the published blend.
    eval_test_hours: int = Field(default=24, ge=1)  # test on the last day before as-of
    eval_k: int = Field(default=10, ge=1)
    eval_min_users: int = Field(default=5, ge=1)  # fewer users with test clicks: skipped
    # The gate (spark_jobs/gate.py) scores the request-time reader's list on the next day
    # with the candidate's personal lists at each of gate_personal_weights and without them;
    # the best weight is earned if it beats none. It publishes unless the served list falls
    # below the version in service's by more than gate_margin: relative (ndcg >=
    # in_service * (1 - margin)) or absolute.
    gate_personal_weights: Annotated[tuple[float, ...], NoDecode] = (0.05, 0.1, 0.25, 0.5, 1.0)
    gate_margin: float = Field(default=0.02, ge=0)
    gate_margin_relative: bool = True
    # older articles never recommended; 48 h cut articles readers still read a week later
    freshness_horizon_hours: int = Field(default=168, ge=1)
    trending_half_life_minutes: float = Field(default=30.0, gt=0)
    # the blend's hot list: the trending window, views halved every 2 min (protocol 1, G1)
    blend_hot_half_life_minutes: float = Field(default=2.0, gt=0)
    trending_window_hours: int = Field(default=3, ge=1)
    related_window_hours: int = Field(default=24, ge=1)
    blend_last_reads: int = Field(default=3, ge=1)  # co-visitation from the last reads
    blend_candidates: int = Field(default=50, ge=1)  # per source, before fusion
    # defaults until a --search records chosen weights: hot alone won on G1 (protocol 1)
    blend_w_hot: float = 1.0
    blend_w_trending: float = 0.0
    blend_w_covisit: float = 0.0
    blend_w_als: float = 0.0
    blend_w_popular: float = 0.0
    personal_active_days: int = Field(default=7, ge=1)  # personal lists for these readers

    # The reader's list, fused at request time (newslake.ranking.reader_list): each source
    # scaled by its best and weighed; co-visitation of the newest reader_last_reads reads,
    # the i-th newest weighing reader_read_decay ** i. Chosen on G1's validation half
    # (evaluation/README.md, "The reader's list"): what the reader reads now leads, hot and
    # trending reorder and fill it; the nightly personal list (ALS) and popular lowered
    # both targets at every weight tried, so they only top a short list up.
    reader_w_covisited: float = Field(default=1.0, ge=0)
    reader_w_hot: float = Field(default=0.25, ge=0)
    reader_w_trending: float = Field(default=0.3, ge=0)
    reader_w_personal: float = Field(default=0.0, ge=0)
    reader_w_popular: float = Field(default=0.0, ge=0)
    reader_last_reads: int = Field(default=3, ge=1)
    reader_read_decay: float = Field(default=0.25, ge=0, le=1)
    # Only reads of the last reader_lend_minutes lend their co-visitation lists: a reader
    # back after a break (G1 ends a session after 30 idle minutes) is better served by what
    # is read now than by what they read last time.
    reader_lend_minutes: float = Field(default=30.0, gt=0)
    # live hot: views counted in buckets of hot_bucket_s by the session-state consumer,
    # each view halved every live_hot_half_life_s
    hot_bucket_s: int = Field(default=60, ge=1)
    live_hot_half_life_s: float = Field(default=120.0, gt=0)
    # A hot bucket is kept this long after it closes (or the trending window, if longer):
    # many half-lives, so what ages out no longer weighs anything.
    live_hot_keep_s: int = Field(default=3600, ge=60)
    # The session-state consumer (ingestion/session_state.py): Kinesis records per batch
    # (the local poller's GetRecords limit, the Lambda's batch size); the poller's pause
    # once caught up (Kinesis allows 5 reads a second per shard) and its backoff after a
    # failure, doubled up to the maximum; conditional writes tried per item while other
    # writers keep changing it.
    session_state_batch_size: int = Field(default=500, ge=1, le=10_000)
    session_state_poll_s: float = Field(default=0.2, gt=0)
    session_state_backoff_s: float = Field(default=0.5, gt=0)
    session_state_backoff_max_s: float = Field(default=10.0, gt=0)
    session_state_write_attempts: int = Field(default=8, ge=1)
    serve_host: str = "127.0.0.1"
    serve_port: int = 8055
    gateway_port: int = 8056

    # Serving API (serving/). Store reads are short and few so an outage degrades answers
    # instead of hanging them; shared lists and version pointers are cached in process.
    serving_store_timeout_s: float = Field(default=0.25, gt=0)
    serving_store_max_attempts: int = Field(default=2, ge=1, le=5)
    serving_breaker_failures: int = Field(default=5, ge=1)  # in a row, then fail fast
    serving_breaker_open_s: float = Field(default=2.0, ge=0)
    serving_cache_ttl_s: float = Field(default=5.0, ge=0)
    serving_cache_max_entries: int = Field(default=10_000, ge=1)  # related lists by article
    serving_token_leeway_s: float = Field(default=30.0, ge=0, le=300)
    serving_jwks_min_refresh_s: float = Field(default=5.0, ge=0)
    serving_jwks_timeout_s: float = Field(default=3.0, gt=0)
    # Cognito access tokens are 1-2 kB; anything far larger is refused before any parsing.
    serving_max_token_chars: int = Field(default=8192, ge=1024)
    # A reader sends the same token with every page view for an hour; checking its
    # signature and claims again each time would be most of a request's CPU.
    serving_verified_tokens_kept: int = Field(default=10_000, ge=1)
    # Machine (client-credentials) tokens need the read scope and one scope per portal.
    serving_read_scope: str = "newslake/recommendations.read"
    serving_portal_scope_prefix: str = "newslake/portal."
    serving_access_log: bool = True
    # GET /metrics, which answers anyone: None serves it in the local profile only; in AWS
    # set it true only where the port is reachable from the scraper alone.
    serving_metrics: bool | None = None
    # ---- Editorial controls (newslake/editorial.py, serving/editorial.py) ----------------
    # Each instance re-reads every portal's blocks and promotions this often, so a change
    # holds everywhere within a couple of refreshes. Changing them takes a machine token
    # with this scope and the portal's scope.
    editorial_refresh_s: float = Field(default=2.0, gt=0, le=60)
    editorial_write_scope: str = "newslake/editorial.write"
    # make promote without UNTIL: a promotion ends by itself, so none is left forgotten.
    editorial_promotion_s: int = Field(default=86_400, gt=0)

    @property
    def editorial_client_name(self) -> str:
        """The newsroom's machine client: the editorial scope and every portal's."""
        return f"{self.name_prefix}-editorial"

    # ---- Experiments (newslake/experiments.py): A/B tests of the served lists ----------
    # As JSON in NEWSLAKE_EXPERIMENTS: [{"name", "route", "enabled", "variants": [{"name",
    # "share", "overrides"}]}], checked at load so a bad definition stops the service at
    # start. The default splits readers between the request-time reader's list and the
    # nightly list as served before it; while it is not enabled everyone gets the default.
    experiments: Annotated[tuple[Experiment, ...], NoDecode] = Field(
        default=(
            Experiment(
                "reader-list",
                "reader",
                enabled=False,
                variants=(
                    Variant("request-time", 0.5),
                    Variant("nightly", 0.5, {"reader_mode": "nightly"}),
                ),
            ),
        ),
        validate_default=True,
    )

    # ---- Measuring the lists (spark_jobs/attribution.py, spark_jobs/rec_performance.py) --
    # A pageview naming a recommendation is attributed to it when it comes within
    # attribution_window_minutes after the answer; its client clock may run up to
    # attribution_clock_skew_s behind the service's. The nightly stage rebuilds the last
    # rec_performance_days days, so a day's late clicks and impressions reach its rows the
    # next night. An experiment's variant shares are checked against the readers assigned
    # (sample-ratio mismatch), flagged when the chi-square p-value is below srm_p_threshold.
    attribution_window_minutes: int = Field(default=30, ge=1)
    attribution_clock_skew_s: int = Field(default=300, ge=0)
    rec_performance_days: int = Field(default=2, ge=1)
    experiment_confidence: float = Field(default=0.95, gt=0, lt=1)
    srm_p_threshold: float = Field(default=0.001, gt=0, lt=1)

    # ---- make replay-ab (demo/replay_ab.py): the reader-list experiment on G1 readers ---
    # Readers sampled among those clicking in hourly files replay_ab_first_hour.. (for
    # replay_ab_hours), replayed through HTTP at replay_ab_speed_up; the nightly list needs
    # their history: replay_ab_history_hours before the window, of the sampled readers and
    # of replay_ab_history_share of the others (enough co-reading for ALS, little enough
    # for two cores). A reader is shown replay_ab_list_limit items; replay_ab_workers send
    # readers' clicks side by side, each reader's in order (more workers only queue on the
    # local moto server, which answers the hot list's Query by scanning the table);
    # sending stops after replay_ab_max_seconds, whatever is left.
    replay_ab_readers: int = Field(default=2000, ge=1)
    replay_ab_first_hour: int = Field(default=185, ge=1)
    replay_ab_hours: int = Field(default=4, ge=1)
    replay_ab_history_hours: int = Field(default=72, ge=1)
    replay_ab_history_share: float = Field(default=0.2, ge=0, le=1)
    replay_ab_speed_up: float = Field(default=60.0, gt=0)
    replay_ab_list_limit: int = Field(default=10, ge=1, le=100)
    replay_ab_workers: int = Field(default=4, ge=1, le=32)
    replay_ab_max_seconds: float = Field(default=360.0, gt=0)
    replay_ab_seed: int = 19
    replay_ab_experiment: str = "reader-list"  # enabled for the replay, whatever it is here

    # ---- Impressions to the lake (serving/impressions.py -> landing -> silver) ----------
    # The landing prefix of the impression lines: the AWS Firehose's and the local
    # shipper's. Locally (profile "local" only) the service also appends its lines to
    # files under state_dir/impressions, one per process, a new one past
    # local_impressions_segment_mib, as a log group keeps them; the local shipper
    # (ingestion/local_impressions.py) lands new lines every local_impressions_poll_s.
    impressions_prefix: str = "impressions"
    local_impressions_segment_mib: float = Field(default=8.0, gt=0)
    local_impressions_poll_s: float = Field(default=2.0, gt=0)

    # ---- Privacy: erasure requests, pseudonyms in logs, retention (newslake/privacy.py) --
    # Logs and request keys name a reader by an HMAC of their id under this key, so a log
    # reader cannot recover the id, nor test a guess without the key. The local profile
    # uses a fixed, public key; the aws profile refuses to run without one of its own
    # (Settings.privacy_key), since a known key would make every pseudonym reversible by
    # trying the ids.
    privacy_hash_key: str | None = None
    # Where a process's configuration must not carry the key (an EMR job's, visible in its
    # run), the Secrets Manager secret holding it; read once (newslake.privacy.with_hash_key).
    privacy_hash_key_secret: str | None = None
    # The scope a machine client needs to ask for a reader's erasure; reader tokens never
    # carry it.
    privacy_erase_scope: str = "newslake/privacy.erase"
    # Retention. An erasure removes the reader from every current table at once; what is
    # left is history: Delta's old files and log, and raw landing objects. The limits keep
    # enough for replays of the streaming job (events are late up to late_after_s) and for
    # audits of a night's run, and let an erasure become unreadable well within 30 days:
    # vacuum_retention_hours (Delta's deleted-file retention, set on every table) plus the
    # log retention plus a night for the maintenance stage to run.
    landing_retention_days: int = Field(default=14, ge=1)
    bronze_retention_days: int = Field(default=90, ge=1)
    delta_log_retention_days: int = Field(default=7, ge=1)
    # privacy: in AWS the lake bucket is versioned (a mistaken delete or overwrite can be
    # undone) and its lifecycle rule expires a noncurrent version after these days, so a
    # file VACUUM deleted stays readable that long; the local lake keeps no versions.
    lake_noncurrent_version_days: int = Field(default=7, ge=1)

    @property
    def privacy_requests_table(self) -> str:
        return f"{self.name_prefix}-privacy-requests"

    @property
    def privacy_client_name(self) -> str:
        """The privacy office's machine client, the only one holding privacy_erase_scope."""
        return f"{self.name_prefix}-privacy"

    @property
    def privacy_key(self) -> str:
        """The pseudonyms' key: the local one, or NEWSLAKE_PRIVACY_HASH_KEY, required in aws."""
        if self.privacy_hash_key:
            return self.privacy_hash_key
        if self.profile == "local":
            return _LOCAL_PRIVACY_KEY
        raise ValueError(
            "NEWSLAKE_PRIVACY_HASH_KEY is not set: the aws profile needs a secret key of its "
            "own for the readers' pseudonyms (at least 32 random characters)"
        )

    @property
    def local_impressions_dir(self) -> Path:
        return self.state_dir / "impressions"

    @property
    def impressions_uri(self) -> str:
        """Where the impression lines land, as Spark reads them."""
        scheme = "s3a" if self.profile == "local" else "s3"
        return f"{scheme}://{self.landing_bucket}/{self.impressions_prefix}"

    @field_validator("experiments", mode="before")
    @classmethod
    def _parse_experiments(cls, value: object) -> tuple[Experiment, ...]:
        return experiments_from(value)

    @field_validator(
        "portals", "cognito_client_ids", "cors_extra_origins", "gate_personal_weights",
        mode="before",
    )  # fmt: skip
    @classmethod
    def _split_csv(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("gate_personal_weights")
    @classmethod
    def _check_trial_weights(cls, value: tuple[float, ...]) -> tuple[float, ...]:
        if any(w <= 0 for w in value):
            raise ValueError(f"gate_personal_weights must all be above 0: {list(value)}")
        return value

    @field_validator("portals")
    @classmethod
    def _check_portals(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value:
            raise ValueError("NEWSLAKE_PORTALS is empty: name at least one portal, e.g. g1,ge")
        bad = [p for p in value if not p or not set(p) <= _NAME_CHARS]
        if bad:
            raise ValueError(f"portal ids must be lower-case letters, digits or '-': {bad}")
        if len(set(value)) != len(value):
            raise ValueError(f"portal ids repeat: {list(value)}")
        return value

    @field_validator("portal_domains")
    @classmethod
    def _check_domains(cls, value: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
        bad = [d for ds in value.values() for d in ds if not d or d != d.lower() or "/" in d]
        if bad:
            raise ValueError(f"portal domains are lower-case host names, e.g. g1.globo.com: {bad}")
        return value

    @field_validator("cors_extra_origins")
    @classmethod
    def _check_origins(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        bad = [o for o in value if not _is_origin(o)]
        if bad:
            raise ValueError(f"CORS origins are http(s)://host[:port], no path: {bad}")
        return value

    @model_validator(mode="after")
    def _check_profile(self) -> Settings:
        if self.profile == "aws" and self.lake_uri and self.lake_uri.startswith("s3a://"):
            raise ValueError("profile aws reads the lake with s3:// (EMR), not s3a://")
        return self

    # privacy: Delta refuses a log retention shorter than the deleted-file retention, so
    # the maintenance's ALTER TABLE would fail on every table with a Spark trace.
    @model_validator(mode="after")
    def _check_retention(self) -> Settings:
        if self.delta_log_retention_days * 24 < self.vacuum_retention_hours:
            days = -(-self.vacuum_retention_hours // 24)
            raise ValueError(
                f"NEWSLAKE_DELTA_LOG_RETENTION_DAYS ({self.delta_log_retention_days}) is shorter "
                f"than NEWSLAKE_VACUUM_RETENTION_HOURS ({self.vacuum_retention_hours} h), and "
                f"Delta keeps a log at least as long as removed files: set it to {days} or more"
            )
        return self

    # ---- derived names -------------------------------------------------------
    @property
    def endpoint_url(self) -> str | None:
        """The AWS endpoint for boto3 and s3a: the moto server locally, AWS's own otherwise."""
        if self.profile == "local":
            return f"http://{self.moto_host}:{self.moto_port}"
        return None

    def stream_name(self, portal: str) -> str:
        return f"{self.name_prefix}-pageviews-{portal}"

    def allowed_origins(self) -> tuple[str, ...]:
        """CORS origins of the pageview API: https://<domain> of every portal, plus the extras."""
        portal_origins = (
            f"https://{d}" for p in self.portals for d in self.portal_domains.get(p, ())
        )
        return (*dict.fromkeys(portal_origins), *self.cors_extra_origins)

    @property
    def retry_queue_name(self) -> str:
        return f"{self.name_prefix}-pageview-retry"

    @property
    def dead_letter_queue_name(self) -> str:
        return f"{self.name_prefix}-pageview-dlq"

    @property
    def landing_bucket(self) -> str:
        return f"{self.name_prefix}-landing"

    @property
    def lake_bucket(self) -> str:
        return f"{self.name_prefix}-lake"

    @property
    def recommendations_table(self) -> str:
        return f"{self.name_prefix}-recommendations"

    @property
    def versions_table(self) -> str:
        return f"{self.name_prefix}-model-versions"

    @property
    def dynamodb_tables(self) -> tuple[str, ...]:
        return (self.recommendations_table, self.versions_table, self.privacy_requests_table)

    @property
    def user_pool_name(self) -> str:
        return f"{self.name_prefix}-readers"

    @property
    def app_client_name(self) -> str:
        return f"{self.name_prefix}-web"

    @property
    def published_depth(self) -> int:
        """Ranks each published gold list keeps: top_n and the spare ranks the export
        draws on when it leaves blocked articles out."""
        return self.top_n + self.published_spare_ranks

    @property
    def lake_root(self) -> str:
        """Root URI of the Delta lake: s3:// on EMR; on the local platform a folder under
        state_dir, so the tables outlive the moto server (``s3a://<prefix>-lake`` in
        NEWSLAKE_LAKE_URI puts them on its S3 instead, gone when it stops)."""
        if self.lake_uri:
            return self.lake_uri.rstrip("/")
        if self.profile == "local":
            return f"file://{self.state_dir.resolve()}/lake"
        return f"s3://{self.lake_bucket}"

    @property
    def landing_uri(self) -> str:
        scheme = "s3a" if self.profile == "local" else "s3"
        return f"{scheme}://{self.landing_bucket}/{self.landing_prefix}"

    def table_path(self, layer: str, name: str) -> str:
        return f"{self.lake_root}/{layer}/{name}"

    @property
    def moto_pid_file(self) -> Path:
        return self.state_dir / "moto.pid"

    @property
    def moto_log_file(self) -> Path:
        return self.state_dir / "moto.log"

    def issuer_for(self, pool_id: str) -> str:
        if self.cognito_issuer:
            return self.cognito_issuer
        # moto signs with the real AWS issuer, so both profiles share this form.
        return f"https://cognito-idp.{self.region}.amazonaws.com/{pool_id}"

    def jwks_url_for(self, pool_id: str) -> str:
        if self.cognito_jwks_url:
            return self.cognito_jwks_url
        if self.endpoint_url:
            # moto serves the pool's keys from its own address, not the issuer's.
            return f"{self.endpoint_url}/{pool_id}/.well-known/jwks.json"
        return f"{self.issuer_for(pool_id)}/.well-known/jwks.json"


def setting_default(name: str) -> Any:
    """The default of setting ``name``, for a class that takes the value as an argument.

    The settings pass the value in production; tests and tools that build such a class on
    its own get the same default, written once, on the field above.

    Raises:
        KeyError: no setting has that name.
    """
    return Settings.model_fields[name].default


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment."""
    return Settings()
