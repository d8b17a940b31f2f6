"""A stand-in for the Kubernetes API's review endpoints (TokenReview, SubjectAccessReview, SelfSubjectAccessReview),
answering as authentication.k8s.io/v1 and authorization.k8s.io/v1 do, and recording what it was asked."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from incident_response.tools.core import errors


@dataclass
class User:
    username: str
    uid: str = ""
    groups: tuple[str, ...] = ("system:authenticated",)
    extra: dict[str, list[str]] = field(default_factory=dict)
    audiences: tuple[str, ...] = ("https://kubernetes.default.svc",)
    grants: frozenset[str] = frozenset()  # toolset names this user may use


class FakeReviews:
    def __init__(self, tokens: dict[str, User] | None = None, *, may_review_tokens: bool = True) -> None:
        self.tokens = dict(tokens or {})
        self.asked: list[tuple[str, dict[str, Any]]] = []
        self.failure: errors.IncidentError | None = None
        self.may_review_tokens = may_review_tokens

    def version(self) -> dict[str, Any]:
        if self.failure is not None:
            raise self.failure
        return {"major": "1", "minor": "32"}

    def review(self, group: str, kind: str, spec: dict[str, Any]) -> dict[str, Any]:
        self.asked.append((kind, spec))
        if self.failure is not None:
            raise self.failure
        if kind == "TokenReview":
            return {"status": self.token_status(spec)}
        if kind == "SubjectAccessReview":
            return {"status": self.access_status(spec)}
        if kind == "SelfSubjectAccessReview":
            return {"status": {"allowed": self.may_review_tokens}}
        raise AssertionError(f"unexpected review {group}/{kind}")

    def token_status(self, spec: dict[str, Any]) -> dict[str, Any]:
        user = self.tokens.get(spec["token"])
        if user is None:
            return {"authenticated": False, "error": "invalid bearer token"}
        wanted = spec.get("audiences") or list(user.audiences)
        common = [a for a in wanted if a in user.audiences]
        if not common:
            return {"authenticated": False, "error": "token audiences are invalid"}
        info: dict[str, Any] = {"username": user.username, "groups": list(user.groups)}
        if user.uid:
            info["uid"] = user.uid
        if user.extra:
            info["extra"] = user.extra
        return {"authenticated": True, "user": info, "audiences": common}

    def access_status(self, spec: dict[str, Any]) -> dict[str, Any]:
        attributes = spec["resourceAttributes"]
        user = next((u for u in self.tokens.values() if u.username == spec.get("user")), None)
        allowed = (
            user is not None
            and attributes.get("group") == "incident-response.dev"
            and attributes.get("resource") == "toolsets"
            and attributes.get("verb") == "use"
            and attributes.get("name") in user.grants
        )
        return {"allowed": allowed} if allowed else {"allowed": False, "reason": "no RBAC rule allows it"}

    def kinds(self) -> list[str]:
        return [kind for kind, _ in self.asked]
