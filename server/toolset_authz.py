"""What an authenticated client may do, as the cluster's RBAC says: a SubjectAccessReview per tool call.

Each tool belongs to one of three grants on a virtual resource, `toolsets.incident-response.dev`, verb `use`, in the
server's namespace: `read` (the read-only tools), `plan` (planners and the server's own records: declare_incident,
cancel_command) and `confirm` (confirm_command). A Kubernetes admin grants them with the ClusterRoles
incident-response-read, -plan and -confirm (deploy/), bound in the server's namespace or cluster-wide. A call
without the grant is a tool error that names the grant and the command that gives it: the model reads it and
can tell its human, and the client's session goes on with the tools it may use (an HTTP 403 would end the
request in the transport, where neither sees why).

Layer: server (MCP wiring).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from typing import Any, Literal

import anyio
import anyio.to_thread
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError

from incident_response.server import catalog
from incident_response.server.kube_auth import KubernetesAccessToken, Reviews, access_token_of, unavailable
from incident_response.server.review_cache import ExpiringCache, OneReviewAtATime
from incident_response.tools.core import errors

logger = logging.getLogger("incident_response.server")

GROUP = "incident-response.dev"
RESOURCE = "toolsets"
VERB = "use"
Grant = Literal["read", "plan", "confirm"]
GRANTS: tuple[Grant, ...] = ("read", "plan", "confirm")
GRANT_OF_KIND: dict[catalog.Kind, Grant] = {"read": "read", "plan": "plan", "record": "plan", "confirm": "confirm"}
CLUSTER_ROLE_PREFIX = "incident-response-"
# A grant or a revocation takes effect within these seconds.
DECISION_SECONDS = 10.0
CACHE_SIZE = 4096
SERVICE_ACCOUNT_PREFIX = "system:serviceaccount:"


def grant_for(tool: str) -> Grant | None:
    """The grant a tool needs; None for a name that is not one of our tools (refused in team mode: check)."""
    entry = catalog.CATALOG.get(tool)
    return None if entry is None else GRANT_OF_KIND[entry.kind]


def how_to_grant(user: str, grant: Grant, namespace: str) -> str:
    """The kubectl command an admin runs to give `user` the grant in the server's namespace."""
    subject = f"--user {user}"
    if user.startswith(SERVICE_ACCOUNT_PREFIX) and user.count(":") == 3:
        sa_namespace, sa_name = user.removeprefix(SERVICE_ACCOUNT_PREFIX).split(":")
        subject = f"--serviceaccount {sa_namespace}:{sa_name}"
    return (
        f"kubectl create rolebinding incident-response-{grant}-<name> --clusterrole {CLUSTER_ROLE_PREFIX}{grant} "
        f"{subject} -n {namespace}"
    )


def decision_key(token: KubernetesAccessToken, grant: Grant) -> bytes:
    """Cache key: who (as the TokenReview said, whole) and which grant."""
    who = json.dumps([token.username, token.uid, sorted(token.groups), token.extra, grant], sort_keys=True)
    return hashlib.sha256(who.encode()).digest()


class ToolsetAuthorizer:
    """Checks each tool call against the cluster's RBAC; `check` raises a ToolError saying what is missing."""

    def __init__(
        self,
        connection: Callable[[], Reviews],
        namespace: str,
        *,
        cache: ExpiringCache[bytes, bool] | None = None,
    ) -> None:
        self.connection = connection
        self.namespace = namespace
        self.cache: ExpiringCache[bytes, bool] = cache if cache is not None else ExpiringCache(CACHE_SIZE)
        self._answers = OneReviewAtATime(self.cache)

    async def check(self, tool: str, ctx: Context[Any, Any] | None) -> tuple[str, ...] | None:
        """The caller's grants when it may call `tool`; a ToolError naming the missing grant when it may not."""
        needed = grant_for(tool)
        if needed is None:
            # Fail closed: a tool outside the catalogue (an unknown name, or one added the SDK's way) needs a grant
            # nobody can hold, so it never runs unauthorized.
            raise ToolError(
                f"{tool!r} is in no toolset of this server (read, plan, confirm), so no grant allows it in team mode; "
                "nothing was run. Call one of this server's own tools (tools/list)"
            )
        token = access_token_of(ctx)
        if not isinstance(token, KubernetesAccessToken):
            # Only reachable if the server was wired without the Kubernetes verifier: refuse, never let through.
            raise ToolError(f"{tool} needs the {needed!r} toolset and this request carries no Kubernetes identity")
        granted = await self.grants(token)
        if needed not in granted:
            logger.info("refused %s to %s: no %r grant", tool, token.username, needed)
            raise ToolError(
                f"forbidden (403): {token.username} may not use the {needed!r} toolset of this server, which {tool} "
                f"needs (RBAC: verb {VERB} on {RESOURCE}.{GROUP} named {needed} in namespace {self.namespace}). Ask a "
                f"cluster admin to grant it, e.g. `{how_to_grant(token.username, needed, self.namespace)}`; nothing "
                "was run"
            )
        return granted

    async def grants(self, token: KubernetesAccessToken) -> tuple[Grant, ...]:
        """Every toolset the cluster grants this user (one review each, at once, cached): server_info shows them."""
        allowed: dict[Grant, bool] = {}

        async def decide(grant: Grant) -> None:
            allowed[grant] = await self._answers.get(
                decision_key(token, grant),
                lambda: anyio.to_thread.run_sync(self.review, token, grant),
                lambda _: DECISION_SECONDS,
            )

        try:
            async with anyio.create_task_group() as group:
                for grant in GRANTS:
                    group.start_soon(decide, grant)
        except BaseExceptionGroup as failed:
            cause = next((e for e in failed.exceptions if isinstance(e, errors.IncidentError)), None)
            if cause is None:
                raise
            raise ToolError(str(unavailable(cause, "SubjectAccessReview"))) from cause
        return tuple(grant for grant in GRANTS if allowed[grant])

    def review(self, token: KubernetesAccessToken, grant: Grant) -> bool:
        spec = {
            **token.review_subject(),
            "resourceAttributes": {
                "group": GROUP,
                "resource": RESOURCE,
                "name": grant,
                "verb": VERB,
                "namespace": self.namespace,
            },
        }
        answer = self.connection().review("authorization.k8s.io", "SubjectAccessReview", spec)
        status = answer.get("status") or {}
        if problem := status.get("evaluationError"):
            logger.warning("SubjectAccessReview for %s: %s", token.username, errors.truncate(str(problem)))
        return status.get("allowed") is True and status.get("denied") is not True
