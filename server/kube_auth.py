"""Who an HTTP client is, as the Kubernetes API says (`serve --http --auth kubernetes`): TokenReview.

A client sends `Authorization: Bearer <token>` with a token the cluster issued (`kubectl create token SA`, or a
user's token the API server authenticates). The server asks the API server about it with its own credentials
(authentication.k8s.io/v1 TokenReview, allowed by the `system:auth-delegator` ClusterRole) and takes the answer's
username as the principal: it is what the journal records and what the per-principal approval rules compare. An
unknown token is answered 401 by the SDK's bearer middleware; an API server that does not answer, 503
(server/auth_unavailable.py).

Layer: server (MCP wiring).
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import anyio
import anyio.to_thread
from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
from mcp.server.auth.provider import AccessToken
from mcp.server.mcpserver import Context

from incident_response.server.http_credentials import BEARER_CHARACTERS
from incident_response.server.review_cache import ExpiringCache, OneReviewAtATime
from incident_response.tools.core import errors
from incident_response.tools.kube.client import ClusterSource

logger = logging.getLogger("incident_response.server")

# Longer than any token a cluster issues (a service account JWT is ~1 KB, OIDC ID tokens a few KB); anything longer
# is refused without asking the API server.
MAX_TOKEN_LENGTH = 16384
# Seconds a review's answer is reused: a burst of calls costs one review, a revoked token stops working this soon.
AUTHENTICATED_SECONDS = 30.0
REJECTED_SECONDS = 10.0
CACHE_SIZE = 4096
# Reviews in flight at once: many distinct tokens at once (an attacker's) cannot flood the API server through us.
CONCURRENT_REVIEWS = 8


class Reviews(Protocol):
    """The calls of the Kubernetes seam (RealKube) that authentication, authorization and readiness make."""

    def review(self, group: str, kind: str, spec: dict[str, Any]) -> dict[str, Any]: ...

    def version(self) -> dict[str, Any]: ...


class ReviewUnavailable(Exception):
    """The Kubernetes API could not answer a review: the request is refused as unavailable, never let through.
    str() is what the client may read; the cause goes to the log."""


class KubernetesAccessToken(AccessToken):
    """An AccessToken whose principal (client_id) is the Kubernetes username, with what SubjectAccessReview needs."""

    username: str
    uid: str | None = None
    groups: list[str] = []
    extra: dict[str, list[str]] = {}

    def review_subject(self) -> dict[str, Any]:
        """The user part of a SubjectAccessReview spec: exactly who the TokenReview said."""
        spec: dict[str, Any] = {"user": self.username, "groups": list(self.groups)}
        if self.uid:
            spec["uid"] = self.uid
        if self.extra:
            spec["extra"] = {key: list(values) for key, values in self.extra.items()}
        return spec


@dataclass(frozen=True)
class Identity:
    username: str
    uid: str | None
    groups: tuple[str, ...]
    extra: tuple[tuple[str, tuple[str, ...]], ...]


REJECTED = Identity("", None, (), ())  # cached "not authenticated"


class ApiConnection:
    """The server's own connection for reviews, opened on first use (importing the client costs a second)."""

    def __init__(self, source: ClusterSource, connect: Callable[[ClusterSource], Reviews] | None = None) -> None:
        self.source = source
        self._connect = connect
        self._reviews: Reviews | None = None
        self._lock = threading.Lock()

    def __call__(self) -> Reviews:
        with self._lock:
            if self._reviews is None:
                if self._connect is None:
                    from incident_response.tools.kube.client import RealKube

                    self._reviews = RealKube.connect(self.source)
                else:
                    self._reviews = self._connect(self.source)
            return self._reviews


def seconds_for(identity: Identity) -> float:
    return REJECTED_SECONDS if identity is REJECTED else AUTHENTICATED_SECONDS


def digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def plausible(token: str) -> bool:
    """A token worth asking about: printable, no spaces, of a length a cluster issues."""
    return 0 < len(token) <= MAX_TOKEN_LENGTH and BEARER_CHARACTERS.match(token) is not None


def identity_of(status: dict[str, Any], audiences: Sequence[str]) -> Identity:
    """The authenticated user of a TokenReview status, or REJECTED. With audiences asked for, the answer must name one
    of them (the API documents that clients check status.audiences)."""
    if status.get("authenticated") is not True:
        return REJECTED
    user = status.get("user") or {}
    username = user.get("username")
    if not isinstance(username, str) or not username:
        return REJECTED
    if audiences and not set(audiences) & set(status.get("audiences") or []):
        return REJECTED
    groups = tuple(str(g) for g in user.get("groups") or [])
    extra_raw = user.get("extra") or {}
    extra = tuple(sorted((str(k), tuple(str(v) for v in values or [])) for k, values in extra_raw.items()))
    uid = user.get("uid")
    return Identity(username, str(uid) if uid else None, groups, extra)


def unavailable(error: errors.IncidentError, what: str) -> ReviewUnavailable:
    """What the client reads when a review cannot be made, and the log line that says what to fix."""
    if isinstance(error, errors.Forbidden | errors.Unauthorized):
        logger.error(
            "the Kubernetes API refused this server's %s (%s): grant its ServiceAccount the system:auth-delegator "
            "ClusterRole (create tokenreviews and subjectaccessreviews)",
            what,
            error,
        )
    else:
        logger.error("the Kubernetes API did not answer this server's %s: %s", what, error)
    return ReviewUnavailable(f"cannot check credentials now: the Kubernetes API did not answer the {what}; retry soon")


class KubernetesTokenVerifier:
    """The SDK's TokenVerifier over TokenReview. Answers are cached by the token's SHA-256, never the token."""

    def __init__(
        self,
        connection: Callable[[], Reviews],
        audiences: Sequence[str] = (),
        *,
        cache: ExpiringCache[bytes, Identity] | None = None,
    ) -> None:
        self.connection = connection
        self.audiences = tuple(audiences)
        self.cache: ExpiringCache[bytes, Identity] = cache if cache is not None else ExpiringCache(CACHE_SIZE)
        self._answers = OneReviewAtATime(self.cache)
        self._limiter: anyio.CapacityLimiter | None = None

    async def verify_token(self, token: str) -> AccessToken | None:
        if not plausible(token):
            return None

        async def review() -> Identity:
            if self._limiter is None:
                self._limiter = anyio.CapacityLimiter(CONCURRENT_REVIEWS)
            return await anyio.to_thread.run_sync(self.review, token, limiter=self._limiter)

        identity = await self._answers.get(digest(token), review, seconds_for)
        if identity is REJECTED:
            return None
        return KubernetesAccessToken(
            token=token,
            client_id=identity.username,
            scopes=[],
            subject=identity.uid,
            username=identity.username,
            uid=identity.uid,
            groups=list(identity.groups),
            extra={key: list(values) for key, values in identity.extra},
        )

    def review(self, token: str) -> Identity:
        spec: dict[str, Any] = {"token": token}
        if self.audiences:
            spec["audiences"] = list(self.audiences)
        try:
            answer = self.connection().review("authentication.k8s.io", "TokenReview", spec)
        except errors.IncidentError as e:
            raise unavailable(e, "TokenReview") from e
        status = answer.get("status") or {}
        identity = identity_of(status, self.audiences)
        if identity is REJECTED:
            # The API's reason, never the token: "token has expired", "invalid bearer token".
            logger.info("a bearer token was not authenticated: %s", errors.truncate(str(status.get("error") or "-")))
        return identity


def access_token_of(ctx: Context[Any, Any] | None) -> AccessToken | None:
    """The token the SDK's bearer middleware authenticated for the request being served (None over stdio)."""
    if ctx is None:
        return None
    try:
        request = ctx.request_context.request
    except ValueError:  # no request: a direct call
        return None
    user = getattr(request, "user", None)
    return user.access_token if isinstance(user, AuthenticatedUser) else None
