"""What a delete or eviction does to a pod on a node whose kubelet does not answer, and the force delete it needs.

A graceful delete (an eviction is one) only marks a pod Terminating; the kubelet removes it once its containers
stopped. On an unreachable node (Ready False or Unknown) that never happens: the pod stays Terminating until it is
force-deleted, its Node object is deleted, or the node is tainted node.kubernetes.io/out-of-service once shut down.
A ReplicaSet replaces a Terminating pod at once; a StatefulSet does not create a second pod with the same identity,
so its member stays missing (kubernetes.io/docs/tasks/run-application/force-delete-stateful-set-pod).

Layer: tools.mitigate.
"""

from __future__ import annotations

from typing import Any

from incident_response.tools.core.plan_warnings import PlanWarning, warning
from incident_response.tools.k8s import backends

OUT_OF_SERVICE = "node.kubernetes.io/out-of-service=nodeshutdown:NoExecute"


def not_ready(node: dict[str, Any]) -> str | None:
    """'Ready=Unknown (Kubelet stopped posting node status.)' for a node whose kubelet is not known to be up."""
    conditions = (node.get("status") or {}).get("conditions") or []
    ready = next((c for c in conditions if c.get("type") == "Ready"), None)
    if ready is None or ready.get("status") == "True":
        return None
    why = str(ready.get("message") or ready.get("reason") or "").strip()
    return f"Ready={ready.get('status')}" + (f" ({why})" if why else "")


def stateful(pod: dict[str, Any]) -> bool:
    ref = backends.controller_of(pod)
    return ref is not None and ref.get("kind") == "StatefulSet"


def fence_first(node: str) -> str:
    return (
        f"Force deletion does not wait for the kubelet: if node {node} is only cut off (network partition) and not "
        "powered off, the old container keeps running while its controller starts the pod again elsewhere, so two "
        "copies with one identity run at once (a StatefulSet member: split brain, corrupted data). Fence the node "
        "first (power it off, or cut it off the network and its volumes), then force-delete."
    )


def fenced_first(node: str) -> PlanWarning:
    """A force delete's warning (fence_first) in brief."""
    return warning(
        "fence",
        f"fence node {node} first (power off, or cut its network and volumes): if only cut off, the force delete runs "
        "two copies with one identity",
        fence_first(node),
    )


def stuck_warning(node: str, state: str, pods: list[dict[str, Any]], *, evicting: bool) -> PlanWarning:
    """stuck_members as a drain plan's warning."""
    names = ", ".join(sorted(f"{p['metadata'].get('namespace')}/{backends.name_of(p)}" for p in pods))
    return warning(
        "stuck",
        f"node {node} not ready ({state}): StatefulSet pods {names} stay Terminating, not recreated; once the node is "
        "fenced, delete_pod(force=true) each",
        stuck_members(node, state, pods, evicting=evicting),
    )


def stuck_members(node: str, state: str, pods: list[dict[str, Any]], *, evicting: bool) -> str:
    """The drain's warning for StatefulSet pods on an unreachable node."""
    names = ", ".join(sorted(f"{p['metadata'].get('namespace')}/{backends.name_of(p)}" for p in pods))
    already = "" if evicting else " already"
    return (
        f"Node {node} is not ready ({state}): its kubelet cannot confirm a deletion, so StatefulSet pods {names} "
        f"{'stay Terminating after their eviction' if evicting else 'are' + already + ' stuck Terminating'} and their "
        "StatefulSet does not recreate them elsewhere (never two pods with one identity) until each is force-deleted "
        "or the Node object is deleted. Once the node is confirmed down (fenced or powered off), plan "
        "delete_pod(namespace, pod, force=true) for each; Deployment pods need none of this (their ReplicaSet "
        "replaces a Terminating pod at once)."
    )
