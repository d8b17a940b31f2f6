"""delete_pod: the safety table's "force restart", a DELETE with the pod's uid as precondition; with force, the
grace-period-0 delete that removes a pod its unreachable node's kubelet will never confirm deleting.

Layer: tools.mitigate.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from incident_response.tools.core import commands, errors
from incident_response.tools.core.plan_warnings import PlanWarning, warning
from incident_response.tools.engine.deps import Deps, check_name
from incident_response.tools.engine.pending import Proposal
from incident_response.tools.engine.plan import Change, KubeWrite, PlanDraft, Step, Target, pointer, precondition
from incident_response.tools.k8s import backends
from incident_response.tools.kube.client import Kube
from incident_response.tools.mitigate import pod_disruption, unreachable

RECREATING = {"ReplicaSet", "StatefulSet", "DaemonSet", "Job", "ReplicationController"}
FORCE_FLAGS = ["--grace-period=0", "--force"]


# These credentials may not read nodes: a force delete is then the human's word that the node is down.
UNREADABLE = "its state could not be read with these credentials: check it is not ready by hand"


def node_state(kube: Kube, node: str | None) -> str | None:
    """Why the pod's node cannot confirm a deletion: not ready, or gone; None while its kubelet answers."""
    if not node:
        return None
    try:
        found = kube.get("nodes", node)
    except errors.NotFound:
        return "its Node object is gone"
    except errors.Forbidden:
        return UNREADABLE
    return unreachable.not_ready(found)


def force_checks(name: str, node: str | None, down: str | None) -> list[PlanWarning]:
    """Refuse a force delete a normal one does better; else the warnings the human must read."""
    if not node:
        raise errors.InvalidArgument(
            f"pod {name} is not bound to a node: a normal delete removes it at once; plan delete_pod without force"
        )
    if down is None:
        raise errors.InvalidArgument(
            f"node {node} of pod {name} is Ready: its kubelet stops the pod and confirms a normal delete, so force "
            "would only skip the graceful shutdown. Plan delete_pod without force; force is for a pod whose node is "
            "not ready and will not confirm"
        )
    state = f"Node {node}: {down}." if down == UNREADABLE else f"Node {node} is not ready ({down})."
    return [warning("node", state), unreachable.fenced_first(node)]


def plan_delete_pod(kube: Kube, namespace: str, name: str, *, force: bool = False) -> PlanDraft:
    pod = kube.get("pods", name, namespace)
    node = (pod.get("spec") or {}).get("nodeName")
    down = node_state(kube, node)
    if backends.terminating(pod) and not force:
        state = f"node {node} ({down})" if down == UNREADABLE else f"node {node} is not ready ({down})"
        stuck = (
            f": {state}; if its kubelet will not confirm, once the node is confirmed down (fenced or powered off), "
            "plan delete_pod with force=true"
            if down
            else ""
        )
        raise errors.InvalidArgument(f"pod {name} is already terminating; deleting it again changes nothing{stuck}")
    uid = pod["metadata"].get("uid")
    flags: list[str] = []
    ref = backends.controller_of(pod)
    if ref is not None and ref.get("kind") in RECREATING:
        fate = f"{ref.get('kind')} {ref.get('name')} will create a replacement pod"
        warnings = [
            warning(
                "same_template", "The replacement starts from the same template: a fault in the template comes back."
            )
        ]
    else:
        fate = "no controller owns it, so it will NOT come back"
        warnings = []  # the summary says it
    body: dict[str, Any] = {"uid": uid}
    if down and down != UNREADABLE and not force:
        # kubectl delete waits until the pod is gone, which it never is while its node is down.
        flags = ["--wait=false"]
        after = (
            f"StatefulSet {ref.get('name')} does not recreate it until it is gone: once the node is fenced, plan "
            "delete_pod with force=true"
            if ref is not None and ref.get("kind") == "StatefulSet"
            else f"{ref.get('kind')} {ref.get('name')} replaces it at once (a Terminating pod does not count)"
            if ref is not None and ref.get("kind") in RECREATING
            else "nothing replaces it"
        )
        warnings.append(
            warning("node", f"Node {node} is not ready ({down}): the pod stays Terminating after this delete; {after}.")
        )
    warnings += pod_disruption.disruption_notes(kube, [pod])
    if force:
        warnings = force_checks(name, node, down) + warnings
        body["gracePeriodSeconds"] = 0
        flags = FORCE_FLAGS
    kube.delete("pods", name, namespace, dry_run=True, uid=uid, grace_period_seconds=0 if force else None)
    command = str(commands.kubectl(["delete", "pod", name], namespace=namespace, context=kube.context, flags=flags))
    how = "Force-delete (grace period 0, no kubelet confirmation)" if force else "Delete"
    return PlanDraft(
        tool="delete_pod",
        summary=f"{how} pod {name} in {namespace} (on node {node}); {fate}.",
        target=Target(kind="Pod", namespace=namespace, name=name, uid=uid),
        risk="destructive",
        steps=[
            Step(
                description=f"{'force-' if force else ''}delete pod {name}",
                command=command,
                action=KubeWrite(verb="delete", resource="pods", namespace=namespace, name=name, body=body),
            )
        ],
        diff=[
            Change(path=f"pod/{name}", before="terminating" if backends.terminating(pod) else "exists", after="deleted")
        ],
        preconditions=[precondition("pods", pod, [pointer("metadata", "uid")], namespace=namespace, name=name)],
        warnings=warnings,
    )


def delete_pod(
    deps: Deps,
    namespace: Annotated[str, Field(description="Namespace of the pod.")],
    pod: Annotated[str, Field(description="Pod name.")],
    force: Annotated[
        bool,
        Field(
            description="Grace period 0 (kubectl delete --grace-period=0 --force): only for a pod whose node is "
            "not ready and stays Terminating; fence the node first."
        ),
    ] = False,
) -> Proposal:
    """Plan deleting one pod (kubectl delete pod), the force-restart of a stuck pod. Destructive; says whether a
    controller will recreate it. force=true removes a pod its not-ready node cannot confirm deleting (a StatefulSet
    member stuck Terminating). Nothing changes until the token is confirmed with confirm_command."""
    return deps.propose(plan_delete_pod(deps.kube, namespace, check_name(pod, "pod"), force=force))
