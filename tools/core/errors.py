"""Typed errors. `str(error)` is what the model reads: what happened, then what to do next.

    IncidentError
    ├── InvalidArgument            a tool argument is malformed or out of range (nothing was sent)
    │   └── NamespaceNotAllowed    outside the server's --namespace allow-list
    ├── NoClusterConfigured        no kubeconfig / in-cluster config, or it cannot be loaded
    └── KubeError                  talking to the API server failed
        ├── ApiError               the API server answered with a failure Status (`code`, `reason`)
        │   ├── BadRequest         400
        │   ├── Unauthorized       401: credentials rejected
        │   ├── Forbidden          403: RBAC; names the verb and resource
        │   ├── NotFound           404
        │   ├── Conflict           409: changed since read, or already exists
        │   ├── Gone               410: resourceVersion too old
        │   ├── Invalid            422: the object would be invalid
        │   ├── TooManyRequests    429: throttled
        │   └── ServerError        5xx
        ├── ClusterUnreachable     the request never reached the server (refused, DNS, TLS, connect timeout)
        ├── Timeout                a read got no answer in time (nothing was changed by it)
        └── OutcomeUnknown         a write was sent but no answer came back: it may or may not have been applied

Only the seam turns client-library and HTTP failures into these (chained `from e`): `tools/kube/client.py`, through
`tools/kube/api_errors.py`.

Layer: tools.core.
"""

from __future__ import annotations

# Bodies and messages copied from the API server are cut to this size so they cannot flood the model's context.
MAX_DETAIL_CHARS = 500


def truncate(text: str, limit: int = MAX_DETAIL_CHARS) -> str:
    return text if len(text) <= limit else text[:limit] + f"... ({len(text) - limit} more characters)"


class IncidentError(Exception):
    """Base class of every error a tool reports to the model."""


class InvalidArgument(IncidentError):
    """A tool argument was rejected before anything was sent to the cluster."""


class NamespaceNotAllowed(InvalidArgument):
    def __init__(self, namespace: str, allowed: tuple[str, ...]) -> None:
        self.namespace = namespace
        self.allowed = allowed
        super().__init__(
            f"namespace {namespace!r} is outside this server's allow-list ({', '.join(allowed)}); "
            "use one of those namespaces, or ask the operator to restart the server with --namespace "
            f"{namespace} if it is part of the incident"
        )


class NoClusterConfigured(IncidentError):
    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(
            f"no cluster configured: {reason}. Ask the operator to start the server with --kubeconfig PATH "
            "(and --context NAME), or set INCIDENT_RESPONSE_KUBECONFIG; run server_info to see the current settings"
        )


class KubeError(IncidentError):
    """Talking to the Kubernetes API failed."""


class ApiError(KubeError):
    """The API server answered with a failure Status."""

    def __init__(
        self, message: str, *, code: int, reason: str, verb: str = "", resource: str = "", name: str | None = None
    ) -> None:
        self.code = code
        self.reason = reason
        self.verb = verb
        self.resource = resource
        self.name = name
        super().__init__(message)


class BadRequest(ApiError):
    pass


class Unauthorized(ApiError):
    pass


class Forbidden(ApiError):
    pass


class NotFound(ApiError):
    pass


class Conflict(ApiError):
    pass


class Gone(ApiError):
    pass


class Invalid(ApiError):
    pass


class TooManyRequests(ApiError):
    pass


class ServerError(ApiError):
    pass


class ClusterUnreachable(KubeError):
    """The request did not reach the API server, so nothing in the cluster changed because of it."""


class Timeout(KubeError):
    """A read request got no answer in time."""


class OutcomeUnknown(KubeError):
    """A write was sent but its answer was lost: the change may or may not have been applied."""
