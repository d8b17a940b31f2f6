"""What `serve --http` puts in front of the tools: who a client is (static credentials or TokenReview), what it may
call (SubjectAccessReview per toolset, with --auth kubernetes), and what /readyz asks.

Layer: server (MCP wiring).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mcp.server.auth.provider import TokenVerifier

from incident_response.server import health, http_auth, http_credentials
from incident_response.server.config import Settings, SettingsError
from incident_response.server.health import Check
from incident_response.server.kube_auth import ApiConnection, KubernetesTokenVerifier, Reviews
from incident_response.server.toolset_authz import ToolsetAuthorizer
from incident_response.server.wire import Authorize, IncidentServer
from incident_response.tools.core import errors

logger = logging.getLogger("incident_response.server")

POD_NAMESPACE_FILE = Path("/var/run/secrets/kubernetes.io/serviceaccount/namespace")


@dataclass(frozen=True)
class HttpSecurity:
    verifier: TokenVerifier
    authorize: Authorize | None
    # The Kubernetes API as /readyz asks it (no cluster configured: never ready).
    api_check: Check
    # --auth kubernetes: the namespace whose RoleBindings grant the toolsets.
    grants_namespace: str | None = None


def for_settings(
    settings: Settings,
    *,
    pod_namespace_file: Path = POD_NAMESPACE_FILE,
    credentials: http_credentials.Credentials | None = None,
) -> HttpSecurity:
    """The HTTP front for these settings, or a SettingsError saying what to configure. `credentials`: the static
    ones already resolved for these settings (http_credentials.of_settings; serve resolves them before its imports)."""
    connection = ApiConnection(settings.cluster) if settings.cluster is not None else None
    if settings.auth == "kubernetes":
        return kubernetes(settings, connection, pod_namespace_file)
    if credentials is None:
        credentials = http_credentials.of_settings(settings)
    principals = sorted({principal for _, principal in credentials.principals})
    # The path, never the value: logs travel further than a file only this user can read.
    logger.info(
        "HTTP clients must send an Authorization header with a bearer token; credentials: %s; principals: %s",
        credentials.origin,
        ", ".join(principals),
    )
    return HttpSecurity(http_auth.StaticTokenVerifier(credentials), None, version_check(connection))


def kubernetes(settings: Settings, connection: ApiConnection | None, pod_namespace_file: Path) -> HttpSecurity:
    if settings.auth_token_file is not None or settings.auth_token:
        raise SettingsError(
            "--auth kubernetes checks Kubernetes tokens: drop --auth-token-file and INCIDENT_RESPONSE_AUTH_TOKEN, or "
            "use --auth static"
        )
    if connection is None:
        raise SettingsError(
            "--auth kubernetes asks the Kubernetes API who a client is: run in a pod, or pass --kubeconfig"
        )
    try:
        connection()  # loads the configuration only (no request): a bad kubeconfig stops the start, not every client
    except errors.NoClusterConfigured as e:
        raise SettingsError(f"--auth kubernetes cannot use the cluster configuration: {e.reason}") from e
    namespace = settings.auth_namespace or settings.store_namespace or pod_namespace(pod_namespace_file)
    if namespace is None:
        raise SettingsError(
            "--auth kubernetes checks the toolset grants in the server's namespace: outside a pod, pass "
            "--auth-namespace NAMESPACE"
        )
    audiences = ", ".join(settings.auth_audiences) or "the API server's own"
    logger.info(
        "HTTP clients must send a Kubernetes bearer token (audiences: %s); tool calls need the read, plan or confirm "
        "grant on toolsets.incident-response.dev in namespace %s",
        audiences,
        namespace,
    )
    return HttpSecurity(
        KubernetesTokenVerifier(connection, settings.auth_audiences),
        ToolsetAuthorizer(connection, namespace).check,
        review_check(connection),
        namespace,
    )


def pod_namespace(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8").strip() or None
    except OSError:
        return None


def version_check(connection: Callable[[], Reviews] | None) -> Check:
    def probe() -> None:
        if connection is None:
            raise RuntimeError("no cluster is configured")
        connection().version()

    return Check("kubernetes API", probe)


def review_check(connection: Callable[[], Reviews]) -> Check:
    """Ready when the API answers this server with its own credentials and lets it review tokens."""

    def probe() -> None:
        answer = connection().review(
            "authorization.k8s.io",
            "SelfSubjectAccessReview",
            {"resourceAttributes": {"group": "authentication.k8s.io", "resource": "tokenreviews", "verb": "create"}},
        )
        if (answer.get("status") or {}).get("allowed") is not True:
            raise RuntimeError(
                "this server may not create tokenreviews: bind its ServiceAccount to the system:auth-delegator "
                "ClusterRole"
            )

    return Check("kubernetes API", probe)


def build(settings: Settings, security: HttpSecurity, **options: Any) -> IncidentServer:
    """The server `serve --http` runs: its clients authenticated and authorized, /healthz and /readyz added.
    `options` go to build_server (a test's kube or clock)."""
    from incident_response.server.app import build_server

    limit = None
    if settings.rate_limit:
        from incident_response.server.rate_limit import CallRate, limiter

        limit = limiter(CallRate(settings.rate_limit))
    server = build_server(settings, auth=security.verifier, authorize=security.authorize, limit=limit, **options)
    health.install(server, health.Readiness([security.api_check, store_check(server)]))
    return server


def store_check(server: IncidentServer) -> Check:
    """Ready when the store answers a read and holds the plan-sealing key (team mode: deploy/'s Secret, filled in by
    the first replica; a replica without it could not plan, so it is not ready and logs why). The first probe builds
    the tools: a replica is ready once warm."""

    def probe() -> None:
        if server.lazy is None:
            raise RuntimeError("this server has no tools")
        journal = server.lazy.built().deps.journal
        journal.incidents(limit=1)
        journal.seal_key()  # read once, then kept: no load on the API server

    return Check("store", probe)
