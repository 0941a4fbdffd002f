"""Who may read what: a reader reads their own recommendations; a machine client reads
the portals its scopes grant. Pure functions of a verified Principal, no HTTP.

Machine tokens come from Cognito's client-credentials flow with resource-server scopes,
for example ``newslake/recommendations.read newslake/portal.g1``: the read scope says
the client may read recommendations at all, each portal scope says for which portal.
"""

from __future__ import annotations

from dataclasses import dataclass

from newslake.settings import Settings
from serving.auth import Principal


@dataclass(frozen=True)
class ScopePolicy:
    """The scopes a machine token needs.

    Args:
        read_scope: needed for every read, e.g. ``newslake/recommendations.read``.
        portal_scope_prefix: ``newslake/portal.`` grants portal ``g1`` as ``newslake/portal.g1``.
    """

    read_scope: str = "newslake/recommendations.read"
    portal_scope_prefix: str = "newslake/portal."

    @classmethod
    def from_settings(cls, settings: Settings) -> ScopePolicy:
        return cls(settings.serving_read_scope, settings.serving_portal_scope_prefix)

    def portal_scope(self, portal: str) -> str:
        return f"{self.portal_scope_prefix}{portal}"

    def portal_refusal(self, principal: Principal, portal: str) -> str | None:
        """Why ``principal`` may not read the portal's shared lists; None when it may.

        Any reader may read trending, popular and related lists; a machine client needs
        the read scope and the portal's scope.
        """
        if not principal.is_machine:
            return None
        missing = [
            scope
            for scope in (self.read_scope, self.portal_scope(portal))
            if scope not in principal.scopes
        ]
        if missing:
            return f"this client's token lacks the scope {' and '.join(missing)}"
        return None

    def user_refusal(self, principal: Principal, portal: str, user_id: str) -> str | None:
        """Why ``principal`` may not read ``user_id``'s recommendations; None when it may.

        A reader's token reads only its own user, whatever scopes it carries; cross-user
        reads are for machine clients, within their portals.
        """
        if principal.is_machine:
            return self.portal_refusal(principal, portal)
        if principal.username != user_id:
            return "a reader's token may only read that reader's own recommendations"
        return None

    # ---- editorial controls: the newsroom's machine client --------------------------------
    def editorial_refusal(self, principal: Principal, portal: str, write_scope: str) -> str | None:
        """Why ``principal`` may not read or change the portal's editorial controls; None
        when it may: only a machine client with ``write_scope`` and the portal's scope,
        never a reader, whatever scopes its token carries."""
        if not principal.is_machine:
            return f"editorial controls take a machine client with the scope {write_scope}"
        missing = [s for s in (write_scope, self.portal_scope(portal)) if s not in principal.scopes]
        if missing:
            return f"this client's token lacks the scope {' and '.join(missing)}"
        return None


# ---- privacy: who may ask for a reader's erasure ---------------------------------------
def erasure_refusal(principal: Principal, scope: str) -> str | None:
    """Why ``principal`` may not ask for erasures; None when it may.

    Only a machine client holding ``scope`` may: a reader's token never may, whatever
    scopes it carries, since an erasure is the privacy office's act, done for the reader.
    """
    if not principal.is_machine:
        return f"erasure requests come from a machine client with the scope {scope}, not a reader"
    if scope not in principal.scopes:
        return f"this client's token lacks the scope {scope}"
    return None
