"""Bearer authentication for `serve --http` over the SDK: the token verifier for the credentials of
server/http_credentials.py (where they come from, whose each one is), and who sent a request. The SDK's bearer
middleware answers 401 before any MCP handling; this module only says which tokens are valid and whose they are.

Layer: server (MCP wiring).
"""

from __future__ import annotations

from contextvars import ContextVar

from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
from mcp.server.auth.provider import AccessToken
from mcp.server.mcpserver import Context

from incident_response.server.http_credentials import Credentials
from incident_response.tools.engine.approvals import LOCAL, Caller


class StaticTokenVerifier:
    """The SDK's TokenVerifier over `Credentials`: the AccessToken's client_id is the principal."""

    def __init__(self, credentials: Credentials) -> None:
        self.credentials = credentials

    async def verify_token(self, token: str) -> AccessToken | None:
        principal = self.credentials.principal(token)
        return None if principal is None else AccessToken(token=token, client_id=principal, scopes=[])


# Set by the server around a tool call it authorized per toolset (server/toolset_authz.py): the caller's grants.
GRANTED: ContextVar[tuple[str, ...] | None] = ContextVar("incident_response_granted", default=None)


def caller_of(ctx: Context) -> Caller:
    """Who sent this request: the principal its bearer token authenticated over HTTP (and its grants, in team mode),
    the local client over stdio."""
    try:
        request = ctx.request_context.request
    except ValueError:  # no request (a direct call): nothing came over the network
        return LOCAL
    if request is None:
        return LOCAL
    user = getattr(request, "user", None)
    principal = user.access_token.client_id if isinstance(user, AuthenticatedUser) else None
    return Caller(transport="http", principal=principal, grants=GRANTED.get())
