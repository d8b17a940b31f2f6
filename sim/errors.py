"""API errors as the real kube-apiserver reports them: a meta/v1 Status body with code, reason and details.

Layer: sim (the simulated cluster; apart from the product).
"""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """An error answered to the client as a Status object."""

    def __init__(
        self,
        code: int,
        reason: str,
        message: str,
        *,
        kind: str | None = None,
        name: str | None = None,
        group: str | None = None,
        causes: list[dict[str, str]] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.kind = kind
        self.name = name
        self.group = group
        self.causes = causes or []

    def status(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        }
        details: dict[str, Any] = {}
        if self.name is not None:
            details["name"] = self.name
        if self.group:
            details["group"] = self.group
        if self.kind is not None:
            details["kind"] = self.kind
        if self.causes:
            details["causes"] = self.causes
        if details:
            body["details"] = details
        return body


def qualified(plural: str, group: str) -> str:
    return f"{plural}.{group}" if group else plural


def not_found(plural: str, group: str, name: str) -> ApiError:
    return ApiError(
        404, "NotFound", f'{qualified(plural, group)} "{name}" not found', kind=plural, name=name, group=group
    )


def already_exists(plural: str, group: str, name: str) -> ApiError:
    return ApiError(
        409, "AlreadyExists", f'{qualified(plural, group)} "{name}" already exists', kind=plural, name=name, group=group
    )


def conflict(plural: str, group: str, name: str) -> ApiError:
    return ApiError(
        409,
        "Conflict",
        f'Operation cannot be fulfilled on {qualified(plural, group)} "{name}": the object has been modified; '
        "please apply your changes to the latest version and try again",
        kind=plural,
        name=name,
        group=group,
    )


def invalid(kind: str, group: str, name: str, causes: list[tuple[str, str]]) -> ApiError:
    """422 Invalid; causes are (field, message) pairs."""
    text = "; ".join(f"{field}: {msg}" for field, msg in causes)
    return ApiError(
        422,
        "Invalid",
        f'{kind}.{group} "{name}" is invalid: {text}' if group else f'{kind} "{name}" is invalid: {text}',
        kind=kind,
        name=name,
        group=group,
        causes=[{"reason": "FieldValueInvalid", "message": msg, "field": field} for field, msg in causes],
    )


def bad_request(message: str) -> ApiError:
    return ApiError(400, "BadRequest", message)


def forbidden(
    user: str,
    verb: str,
    plural: str,
    group: str,
    namespace: str | None,
    name: str | None,
    subresource: str | None = None,
    reason: str = "",
) -> ApiError:
    """403 as the API server words it: `pods "x" is forbidden: User "u" cannot get resource "pods" in API group ""
    in the namespace "ns"` (the resource with its subresource, `deployments/scale`, in the sentence)."""
    where = f'in the namespace "{namespace}"' if namespace else "at the cluster scope"
    full = f"{plural}/{subresource}" if subresource else plural
    res = f'resource "{full}" in API group "{group}"'
    return ApiError(
        403,
        "Forbidden",
        f"{qualified(plural, group)}{' ' + repr(name).replace(chr(39), chr(34)) if name else ''} is forbidden: "
        f'User "{user}" cannot {verb} {res} {where}' + (f": {reason}" if reason else ""),
        kind=plural,
        name=name,
        group=group,
    )


def forbidden_path(user: str, verb: str, path: str) -> ApiError:
    """403 for a non-resource URL (discovery, /version, /sim/...)."""
    return ApiError(403, "Forbidden", f'forbidden: User "{user}" cannot {verb} path "{path}"')


def unauthorized() -> ApiError:
    """401: the credentials name nobody (the real server does not say why)."""
    return ApiError(401, "Unauthorized", "Unauthorized")


def gone(message: str) -> ApiError:
    return ApiError(410, "Expired", message)


def method_not_allowed(message: str) -> ApiError:
    return ApiError(405, "MethodNotAllowed", message)


def internal(message: str) -> ApiError:
    return ApiError(500, "InternalError", message)
