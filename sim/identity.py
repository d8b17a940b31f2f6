"""Who is asking: bearer tokens of the simulated cluster and the identities they stand for.

Three kinds of token: the admin token the sim's kubeconfig carries (group system:masters, as a real cluster's
admin certificate), ServiceAccount tokens minted by a TokenRequest (`kubectl create token SA -n NS`), and user
tokens tests mint for people ("alice", "bob") through /sim/tokens or `mint_user`. An unknown token is refused (401).

Layer: sim (the simulated cluster; apart from the product).
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

ADMIN_TOKEN = "simulated-cluster-token"
ADMIN_USER = "sim-admin"
MASTERS = "system:masters"
AUTHENTICATED = "system:authenticated"
UNAUTHENTICATED = "system:unauthenticated"
ANONYMOUS = "system:anonymous"
# The audience the API server itself accepts; a token minted for another audience is refused by it.
API_AUDIENCE = "https://kubernetes.default.svc.cluster.local"


@dataclass(frozen=True)
class UserInfo:
    name: str
    groups: tuple[str, ...] = ()
    uid: str = ""
    extra: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def privileged(self) -> bool:
        """In system:masters: allowed everything before RBAC is asked, as the real API server does."""
        return MASTERS in self.groups

    def as_status(self) -> dict[str, object]:
        """The user object of a TokenReview status or a SelfSubjectReview's userInfo."""
        out: dict[str, object] = {"username": self.name, "groups": list(self.groups)}
        if self.uid:
            out["uid"] = self.uid
        if self.extra:
            out["extra"] = {k: list(v) for k, v in self.extra.items()}
        return out


ADMIN = UserInfo(ADMIN_USER, (MASTERS, AUTHENTICATED))
ANONYMOUS_USER = UserInfo(ANONYMOUS, (UNAUTHENTICATED,))


def service_account_user(namespace: str, name: str, uid: str) -> UserInfo:
    return UserInfo(
        f"system:serviceaccount:{namespace}:{name}",
        ("system:serviceaccounts", f"system:serviceaccounts:{namespace}", AUTHENTICATED),
        uid,
    )


@dataclass(frozen=True)
class Minted:
    user: UserInfo
    audiences: tuple[str, ...]
    expires: datetime | None
    # A ServiceAccount token is bound to its account: (namespace, name, uid); it dies with the account.
    account: tuple[str, str, str] | None = None


class Unauthorized(Exception):
    """The request's credentials name nobody (the API answers 401 Unauthorized)."""


def _segment(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode()).rstrip(b"=").decode()


class Authenticator:
    """Maps bearer tokens to identities. `anonymous_admin`: a request without credentials is the admin.

    The default keeps every request that carries no token (raw HTTP in tests, curl) working as before; a cluster
    started with anonymous_admin=False answers such requests as system:anonymous, as a real one does.
    """

    def __init__(self, clock: Callable[[], datetime], anonymous_admin: bool = True) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._tokens: dict[str, Minted] = {ADMIN_TOKEN: Minted(ADMIN, (API_AUDIENCE,), None)}
        self.anonymous_admin = anonymous_admin
        # set by the API server: is a ServiceAccount (namespace, name) still there with this uid?
        self.account_exists: Callable[[str, str, str], bool] = lambda ns, name, uid: True

    def mint_user(self, name: str, groups: tuple[str, ...] = (), audiences: tuple[str, ...] = ()) -> str:
        """A token for a person: `name` with `groups` (system:authenticated is always added)."""
        if not name or name.startswith("system:"):
            raise ValueError("a user token needs a name outside system: (ServiceAccounts get theirs by TokenRequest)")
        all_groups = tuple(dict.fromkeys((*groups, AUTHENTICATED)))
        token = "sim-user-" + secrets.token_urlsafe(24)
        with self._lock:
            self._tokens[token] = Minted(UserInfo(name, all_groups), audiences or (API_AUDIENCE,), None)
        return token

    def mint_service_account(
        self, namespace: str, name: str, uid: str, audiences: tuple[str, ...], seconds: int
    ) -> tuple[str, datetime]:
        """A JWT-shaped token for the ServiceAccount (opaque to its holder; only this table knows it)."""
        now = self._clock()
        expires = now + timedelta(seconds=seconds)
        claims = {
            "aud": list(audiences),
            "exp": int(expires.timestamp()),
            "iat": int(now.timestamp()),
            "iss": API_AUDIENCE,
            "sub": f"system:serviceaccount:{namespace}:{name}",
        }
        token = ".".join(
            (_segment({"alg": "RS256", "kid": "sim"}), _segment(claims), secrets.token_urlsafe(64).rstrip("="))
        )
        with self._lock:
            self._tokens[token] = Minted(
                service_account_user(namespace, name, uid), audiences, expires, (namespace, name, uid)
            )
        return token, expires

    def user_of(self, token: str) -> UserInfo:
        """Who a minted token names (for the sim's own callers; requests go through review)."""
        with self._lock:
            return self._tokens[token].user

    def review(self, token: str, audiences: tuple[str, ...] = ()) -> tuple[UserInfo, tuple[str, ...]]:
        """The identity of `token` for a reader that accepts `audiences` (default: the API server's own).

        Raises Unauthorized when the token is unknown, expired, for another audience, or its account is gone.
        """
        with self._lock:
            minted = self._tokens.get(token)
        if minted is None:
            raise Unauthorized("invalid bearer token")
        if minted.expires is not None and self._clock() >= minted.expires:
            raise Unauthorized("invalid bearer token, token has expired")
        wanted = audiences or (API_AUDIENCE,)
        shared = tuple(a for a in wanted if a in minted.audiences)
        if not shared:
            raise Unauthorized("invalid bearer token, token audiences is invalid for the current issuer")
        if minted.account is not None and not self.account_exists(*minted.account):
            raise Unauthorized("invalid bearer token, service account token has been invalidated")
        return minted.user, shared

    def authenticate(self, header: str | None) -> UserInfo:
        """The identity of a request from its Authorization header."""
        if header is None:
            return ADMIN if self.anonymous_admin else ANONYMOUS_USER
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("only bearer tokens are accepted")
        return self.review(token.strip())[0]
