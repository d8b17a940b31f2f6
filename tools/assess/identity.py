"""server_info: who the server is, what cluster it talks to, and which mitigations its identity may perform.

Layer: tools.assess.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field

from incident_response import __version__
from incident_response.tools.core import errors
from incident_response.tools.core.models import ToolResult
from incident_response.tools.engine.approvals import CALLER
from incident_response.tools.engine.deps import Deps, Mode, ToolSettings

MAX_RULES = 40

# What each mitigation tool writes: (verb, resource, group, subresource, cluster-scoped).
MITIGATION_NEEDS: dict[str, tuple[str, str, str, str | None, bool]] = {
    "rollback_deployment": ("patch", "deployments", "apps", None, False),
    "scale_deployment": ("patch", "deployments", "apps", None, False),  # a JSON patch with a test op, not /scale
    "set_memory_limit": ("patch", "deployments", "apps", None, False),
    "override_hpa": ("patch", "horizontalpodautoscalers", "autoscaling", None, False),
    "remove_pods_from_service": ("patch", "pods", "", None, False),
    "delete_pod": ("delete", "pods", "", None, False),
    "isolate_network": ("create", "networkpolicies", "networking.k8s.io", None, False),
    "patch_service_selector": ("patch", "services", "", None, False),
    "switch_ingress_backend": ("patch", "ingresses", "networking.k8s.io", None, False),
    "rollback_helm_release": ("create", "secrets", "", None, False),
    "cordon_node": ("patch", "nodes", "", None, True),
    "drain_node": ("create", "pods", "", "eviction", False),
}

MODE_MEANING: dict[Mode, str] = {
    "safe": "read-only: mitigation tools return advice only and confirm_command refuses",
    "standard": "mitigations become pending commands that run only after a human approves them",
    "full": "mitigations become pending commands that confirm_command runs without a human approval",
}


class Permission(BaseModel):
    mitigation: str
    allowed: bool | None = Field(description="None when the cluster could not answer the access review.")
    needs: str = Field(description="The API permission the mitigation uses, as verb resource.")


class ServerInfo(ToolResult):
    server_version: str
    mode: Mode
    mode_meaning: str
    context: str | None
    cluster_source: str
    cluster_version: str | None
    cluster_error: str | None = Field(description="Why the cluster could not be reached or read, if it could not.")
    namespaces_allowed: list[str] = Field(description="Empty means every namespace is allowed.")
    store: str = Field(description="Where the journal and pending commands live, as the approve command finds them.")
    acting_as: str | None = Field(description="The user the cluster sees, when it says.")
    permissions_namespace: str | None
    permissions: list[Permission]
    rules: list[str] = Field(description="RBAC rules of the identity in that namespace (verbs on resources), capped.")
    rules_incomplete: bool
    caller: str = Field(description="Who called: the HTTP principal its credential authenticated, or the local client.")
    caller_toolsets: list[str] | None = Field(
        default=None,
        description="Team mode: the toolsets the cluster grants the caller (read, plan, confirm); None: every tool.",
    )


def store_of(settings: ToolSettings) -> str:
    if settings.store == "kubernetes":
        return f"--store kubernetes --store-namespace {settings.store_namespace}"
    return f"--state-dir {settings.state_dir}"


def server_info(
    deps: Deps,
    namespace: Annotated[
        str | None, Field(description="Namespace to check permissions in; default the first allowed one or 'default'.")
    ] = None,
) -> ServerInfo:
    """Show the safety mode, the cluster and context, the namespace allow-list, who the server acts as and which
    mitigations that identity may perform. Call it first when connecting, or when a tool says forbidden."""
    settings = deps.settings
    caller = CALLER.get()
    target_namespace = namespace or (settings.namespaces[0] if settings.namespaces else "default")
    info = ServerInfo(
        summary="",
        server_version=__version__,
        mode=settings.mode,
        mode_meaning=MODE_MEANING[settings.mode],
        context=None,
        cluster_source=settings.cluster_description,
        cluster_version=None,
        cluster_error=None,
        namespaces_allowed=list(settings.namespaces),
        store=store_of(settings),
        acting_as=None,
        permissions_namespace=None,
        permissions=[],
        rules=[],
        rules_incomplete=False,
        caller=caller.describe(),
        caller_toolsets=None if caller.grants is None else list(caller.grants),
    )
    try:
        kube = deps.kube
        info.context = kube.context
        version = kube.version()
        info.cluster_version = str(version.get("gitVersion") or "") or None
        info.acting_as = kube.whoami()
        info.permissions_namespace = target_namespace
        info.permissions = [
            Permission(
                mitigation=mitigation,
                allowed=kube.access_review(
                    verb, resource, group, None if cluster_scoped else target_namespace, subresource
                ),
                needs=f"{verb} {resource}{'/' + subresource if subresource else ''}{'.' + group if group else ''}",
            )
            for mitigation, (verb, resource, group, subresource, cluster_scoped) in MITIGATION_NEEDS.items()
        ]
        status = kube.rules_review(target_namespace)
        rules = [rule_text(rule) for rule in status.get("resourceRules") or []]
        info.rules = rules[:MAX_RULES]
        info.rules_incomplete = bool(status.get("incomplete")) or len(rules) > MAX_RULES
    except errors.IncidentError as e:
        # server_info must answer even without a cluster: it is how the model learns what is wrong.
        info.cluster_error = str(e)
    info.summary = summarize(info)
    return info


def rule_text(rule: dict[str, object]) -> str:
    def joined(key: str) -> str:
        value = rule.get(key)
        return ",".join(str(v) for v in value) if isinstance(value, list) else ""

    groups = joined("apiGroups")
    resources = joined("resources") or "*"
    return f"{joined('verbs') or '*'} {resources}{' (' + groups + ')' if groups else ''}"


def you(info: ServerInfo) -> str:
    """What the caller may do, in team mode: a plan is confirmed only by its planner, so without `confirm` plans are
    advice (a human runs the shown command)."""
    if info.caller_toolsets is None:
        return ""
    granted = ", ".join(info.caller_toolsets) or "no toolset"
    text = f"; you ({info.caller}) may use: {granted}"
    if "plan" in info.caller_toolsets and "confirm" not in info.caller_toolsets:
        text += " (not confirm: your plans are advice; a human runs their kubectl command)"
    return text


def summarize(info: ServerInfo) -> str:
    allowed = ", ".join(info.namespaces_allowed) or "all namespaces"
    head = f"mode {info.mode} ({info.mode_meaning}); namespaces: {allowed}{you(info)}"
    if info.cluster_error:
        return f"{head}; cluster: {info.cluster_error}"
    may = [p.mitigation for p in info.permissions if p.allowed]
    may_not = [p.mitigation for p in info.permissions if p.allowed is False]
    who = info.acting_as or "unknown identity"
    text = f"{head}; cluster {info.cluster_version} via context {info.context or '(in-cluster)'} as {who}"
    if may_not:
        text += f"; may NOT: {', '.join(may_not)}"
    elif may:
        text += "; may perform every mitigation"
    return text
