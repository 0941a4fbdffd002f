"""Errors a user can cause or fix: the CLI prints their message as one line and exits non-zero."""

from __future__ import annotations


class NewslakeError(Exception):
    """Base for errors that carry a message meant for the user, not a stack trace."""


class PlatformError(NewslakeError):
    """The local platform (moto server, provisioning) is not in the state a command needs."""


class SetupError(NewslakeError):
    """A prerequisite is missing: Java, Maven, the jar cache."""
