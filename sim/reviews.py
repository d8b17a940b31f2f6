"""The authentication and authorization APIs: TokenRequest, TokenReview, SelfSubjectReview and the access reviews.

Each is a create that is answered, never stored. A SubjectAccessReview asks about anyone (RBAC answers), a
Self* review about the requester, a TokenReview who a token is (for servers that authenticate their own clients
with Kubernetes tokens), and a TokenRequest (`kubectl create token`) mints a token for a ServiceAccount.

Layer: sim (the simulated cluster; apart from the product).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from incident_response.sim import errors
from incident_response.sim.authz import Authorizer
from incident_response.sim.identity import API_AUDIENCE, Authenticator, Unauthorized, UserInfo
from incident_response.sim.requests import Target, is_dry_run, json_response, read_body
from incident_response.sim.resources import SERVICEACCOUNTS
from incident_response.sim.store import Store, timestamp

DEFAULT_TOKEN_SECONDS = 3600
MIN_TOKEN_SECONDS = 600
MAX_TOKEN_SECONDS = 2**32


async def _body(request: web.Request, kind: str) -> dict[str, Any]:
    if request.method != "POST":
        raise errors.method_not_allowed(f"a {kind} is created with POST")
    body = await read_body(request)
    if not isinstance(body, dict):
        raise errors.bad_request(f"the request body must be a {kind} object")
    spec = body.get("spec")
    if spec is not None and not isinstance(spec, dict):
        raise errors.bad_request(f"{kind}.spec must be an object")
    return body


def _strings(value: Any, kind: str, field: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise errors.bad_request(f"{kind}.{field} must be a list of strings")
    return tuple(value)


def _answer(target: Target, spec: dict[str, Any], status: dict[str, Any], namespace: str | None = None) -> web.Response:
    metadata: dict[str, Any] = {"creationTimestamp": None}
    if namespace:
        metadata["namespace"] = namespace
    return json_response(
        {
            "kind": target.res.kind,
            "apiVersion": target.res.api_version,
            "metadata": metadata,
            "spec": spec,
            "status": status,
        },
        201,
    )


async def token_request(request: web.Request, target: Target, store: Store, authn: Authenticator) -> web.Response:
    """POST serviceaccounts/NAME/token: a bound token for an existing ServiceAccount."""
    assert target.name is not None and target.namespace is not None
    body = await _body(request, "TokenRequest")
    spec = dict(body.get("spec") or {})
    account = store.get(SERVICEACCOUNTS, target.namespace, target.name)  # 404 when there is none
    audiences = _strings(spec.get("audiences"), "TokenRequest", "spec.audiences") or (API_AUDIENCE,)
    seconds = spec.get("expirationSeconds")
    seconds = DEFAULT_TOKEN_SECONDS if seconds is None else seconds
    problem = None
    if isinstance(seconds, bool) or not isinstance(seconds, int) or seconds < MIN_TOKEN_SECONDS:
        problem = f"Invalid value: {seconds!r}: may not specify a duration less than 10 minutes"
    elif seconds > MAX_TOKEN_SECONDS:
        problem = f"Invalid value: {seconds}: may not specify a duration larger than 2^32 seconds"
    if problem:
        raise errors.invalid(
            "TokenRequest", "authentication.k8s.io", target.name, [("spec.expirationSeconds", problem)]
        )
    spec.update(audiences=list(audiences), expirationSeconds=seconds, boundObjectRef=spec.get("boundObjectRef"))
    if is_dry_run(request):
        status = {"token": "", "expirationTimestamp": timestamp(store.clock())}
    else:
        token, expires = authn.mint_service_account(
            target.namespace, target.name, str(account["metadata"]["uid"]), audiences, seconds
        )
        status = {"token": token, "expirationTimestamp": timestamp(expires)}
    return json_response(
        {
            "kind": "TokenRequest",
            "apiVersion": "authentication.k8s.io/v1",
            "metadata": {"name": target.name, "namespace": target.namespace, "creationTimestamp": None},
            "spec": spec,
            "status": status,
        },
        201,
    )


async def token_review(request: web.Request, target: Target, authn: Authenticator) -> web.Response:
    body = await _body(request, "TokenReview")
    spec = dict(body.get("spec") or {})
    token = spec.get("token")
    if not isinstance(token, str) or not token:
        raise errors.bad_request("token is required for TokenReview in authentication")
    audiences = _strings(spec.get("audiences"), "TokenReview", "spec.audiences")
    try:
        user, shared = authn.review(token, audiences)
    except Unauthorized as e:
        status: dict[str, Any] = {"user": {}, "error": str(e)}
    else:
        status = {"authenticated": True, "user": user.as_status(), "audiences": list(shared)}
    spec["token"] = ""  # never echo a credential back
    return _answer(target, spec, status)


async def self_subject_review(request: web.Request, target: Target, user: UserInfo) -> web.Response:
    await _body(request, "SelfSubjectReview")
    return _answer(target, {}, {"userInfo": user.as_status()})


def _attributes_problem(spec: dict[str, Any]) -> str | None:
    has_resource = spec.get("resourceAttributes") is not None
    has_other = spec.get("nonResourceAttributes") is not None
    if has_resource == has_other:
        return "exactly one of nonResourceAttributes or resourceAttributes must be specified"
    for key in ("resourceAttributes", "nonResourceAttributes"):
        if spec.get(key) is not None and not isinstance(spec[key], dict):
            return f"{key} must be an object"
    return None


async def access_review(request: web.Request, target: Target, authz: Authorizer, user: UserInfo) -> web.Response:
    """SubjectAccessReview and LocalSubjectAccessReview (about spec's user), SelfSubjectAccessReview (the caller)."""
    kind = target.res.kind
    body = await _body(request, kind)
    spec = dict(body.get("spec") or {})
    problem = _attributes_problem(spec)
    if problem:
        raise errors.invalid(kind, "authorization.k8s.io", "", [("spec.resourceAttributes", problem)])
    subject = user
    if kind != "SelfSubjectAccessReview":
        name = spec.get("user") or ""
        groups = _strings(spec.get("groups"), kind, "spec.groups")
        if not isinstance(name, str) or (not name and not groups):
            raise errors.invalid(
                kind, "authorization.k8s.io", "", [("spec.user", "at least one of user or group must be specified")]
            )
        extra = spec.get("extra") or {}
        subject = UserInfo(
            name,
            groups,
            str(spec.get("uid") or ""),
            {str(k): tuple(v) for k, v in extra.items() if isinstance(v, list)} if isinstance(extra, dict) else {},
        )
    if kind == "LocalSubjectAccessReview":
        attrs = spec.get("resourceAttributes")
        if not isinstance(attrs, dict) or (attrs.get("namespace") or target.namespace) != target.namespace:
            raise errors.bad_request(
                f"spec.resourceAttributes.namespace must match metadata.namespace {target.namespace!r}"
            )
        attrs = {**attrs, "namespace": target.namespace}
        spec["resourceAttributes"] = attrs
    status = authz.access_review(spec, subject)
    return _answer(target, spec, status, target.namespace)


async def rules_review(request: web.Request, target: Target, authz: Authorizer, user: UserInfo) -> web.Response:
    body = await _body(request, "SelfSubjectRulesReview")
    spec = dict(body.get("spec") or {})
    namespace = spec.get("namespace") or "default"
    if not isinstance(namespace, str):
        raise errors.bad_request("SelfSubjectRulesReview.spec.namespace must be a string")
    return _answer(target, spec, authz.rules_review(namespace, user))
