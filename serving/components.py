"""What the app builds once and shares between requests, built on first use.

Building the token verifier looks the user pool up in Cognito, and the reader makes a
boto3 client; doing either at import would make ``import serving.main`` (uvicorn, tests,
tools) need a running platform. So nothing here is built until start-up (``warm_up``) or
a request asks for it.
"""

from __future__ import annotations

import logging
import threading
from functools import cached_property

from newslake.ranking import ReaderParams
from newslake.settings import Settings, get_settings
from serving.auth import AuthUnavailableError, TokenVerifier, verifier_from_settings
from serving.authz import ScopePolicy
from serving.editorial import EditorialCopy, NoControls, editorial_store
from serving.experiments import Experiments
from serving.impressions import ImpressionLog
from serving.metrics import RequestMetrics
from serving.reader import DynamoReader, RecommendationReader
from serving.recommender import HotParams, Recommender
from serving.resilience import CircuitBreaker, GuardedReader

logger = logging.getLogger(__name__)


class Components:
    """Per-app singletons: settings, token verifier, store reader, recommender with its
    experiments, and the impression log.

    Args:
        settings: fixed settings (tests, tools); None reads the environment on first use.
        reader: a store reader to use instead of DynamoDB (tests, the overhead benchmark).
        verifier: a token verifier to use instead of the configured pool's (tests).
        impressions: where impression lines go instead of stdout (tests).
        editorial: the editorial controls' copy to use (tests); None builds one over
            DynamoDB, or over no controls when ``reader`` is given.
    """

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        reader: RecommendationReader | None = None,
        verifier: TokenVerifier | None = None,
        impressions: logging.Handler | None = None,
        editorial: EditorialCopy | None = None,
    ) -> None:
        self._settings = settings
        self._reader = reader
        self._verifier = verifier
        self._editorial = editorial
        self._own_store = reader is None
        self._recommender: Recommender | None = None
        self._experiments: Experiments | None = None
        self._warm = False
        self.metrics = RequestMetrics()
        # No thread until the lifespan starts it; its outputs follow the settings' profile.
        self.impressions = ImpressionLog(impressions, settings=lambda: self.settings)
        # Separate locks: a slow Cognito lookup must not hold up reading recommendations.
        self._verifier_lock = threading.Lock()
        self._recommender_lock = threading.Lock()

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = get_settings()
        return self._settings

    @cached_property
    def policy(self) -> ScopePolicy:
        return ScopePolicy.from_settings(self.settings)

    @property
    def verifier_built(self) -> bool:
        return self._verifier is not None

    def verifier(self) -> TokenVerifier:
        """The token verifier; a failed build is not cached, the next request tries again.

        Raises:
            AuthUnavailableError: the user pool cannot be found or reached.
        """
        if self._verifier is not None:
            return self._verifier
        with self._verifier_lock:
            if self._verifier is None:
                self._verifier = verifier_from_settings(self.settings)
            return self._verifier

    def reader(self) -> RecommendationReader:
        """The raw store reader (no breaker, no cache): what readiness checks."""
        with self._recommender_lock:
            if self._reader is None:
                self._reader = DynamoReader.from_settings(self.settings)
            return self._reader

    def recommender(self) -> Recommender:
        if self._recommender is not None:
            return self._recommender
        reader = self.reader()
        with self._recommender_lock:
            if self._recommender is None:
                s = self.settings
                breaker = CircuitBreaker(s.serving_breaker_failures, s.serving_breaker_open_s)
                params = ReaderParams.from_settings(s)
                recommender = Recommender(
                    GuardedReader(reader, breaker),
                    ttl_s=s.serving_cache_ttl_s,
                    max_entries=s.serving_cache_max_entries,
                    reader_params=params,
                    hot_params=HotParams.from_settings(s),
                    lend_minutes=s.reader_lend_minutes,
                )
                self._experiments = Experiments(s.experiments, recommender, params)
                self._recommender = recommender
            return self._recommender

    def editorial(self) -> EditorialCopy:
        """The in-process copy of the portals' editorial controls (not read until asked)."""
        with self._recommender_lock:
            if self._editorial is None:
                s = self.settings
                store = editorial_store(s) if self._own_store else NoControls()
                self._editorial = EditorialCopy(store, s.portals, refresh_s=s.editorial_refresh_s)
            return self._editorial

    def experiments(self) -> Experiments:
        """The enabled experiments, built with the recommender their variants share."""
        self.recommender()
        assert self._experiments is not None  # built with the recommender
        return self._experiments

    # ---- start-up and readiness ----------------------------------------------------------
    def warm_up(self) -> None:
        """Build the verifier, fetch the signing keys and read the version pointers, so
        the first requests do not pay for it. Failures are logged: the app still starts,
        /readyz says what is missing and requests retry. Once per process: Mangum runs
        the lifespan around every Lambda invocation, and only the cold start needs it."""
        if self._warm:
            return
        self._warm = True
        try:
            self.check_jwks()
        except AuthUnavailableError as exc:
            logger.warning("start-up: token verification not ready: %s", exc)
        self.editorial().start()  # logs, once, when the controls cannot be read
        recommender = self.recommender()
        for portal in self.settings.portals:
            recommender.popular(portal, limit=1)
            recommender.trending(portal, limit=1)

    def check_jwks(self) -> None:
        """Raises AuthUnavailableError unless the verifier is built and holds signing keys."""
        self.verifier().jwks.ensure_loaded()

    def check_store(self) -> None:
        """Raises StoreUnavailableError unless the store answers a pointer read now."""
        self.reader().active_version(self.settings.portals[0])
