"""What the app builds once and shares between requests, built on first use.

Building the token verifier looks the user pool up in Cognito, and the reader makes a
boto3 client; doing either at import would make ``import serving.main`` (uvicorn, tests,
tools) need a running platform. So nothing here is built until a request asks for it.
"""

from __future__ import annotations

import threading

from newslake.settings import Settings, get_settings
from serving.auth import TokenVerifier, verifier_from_settings
from serving.reader import DynamoReader
from serving.recommender import Recommender


class Components:
    """Per-app singletons: settings, the token verifier and the recommender.

    Args:
        settings: fixed settings (tests, tools); None reads the environment on first use.
    """

    def __init__(self, settings: Settings | None = None) -> None:
        self._settings = settings
        self._verifier: TokenVerifier | None = None
        self._recommender: Recommender | None = None
        # Separate locks: a slow Cognito lookup must not hold up reading recommendations.
        self._verifier_lock = threading.Lock()
        self._recommender_lock = threading.Lock()

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = get_settings()
        return self._settings

    def verifier(self) -> TokenVerifier:
        """The token verifier; a failed build is not cached, the next request tries again.

        Raises:
            AuthUnavailableError: the user pool cannot be found or reached.
        """
        with self._verifier_lock:
            if self._verifier is None:
                self._verifier = verifier_from_settings(self.settings)
            return self._verifier

    def recommender(self) -> Recommender:
        with self._recommender_lock:
            if self._recommender is None:
                self._recommender = Recommender(DynamoReader.from_settings(self.settings))
            return self._recommender
