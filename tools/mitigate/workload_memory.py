"""set_memory_limit: a Deployment's plan is in memory.py; for a StatefulSet or DaemonSet the exact commands come
back as advice for a human, never run here.

The change itself is the playbook's patch of one container, dry-run on the API server like a Deployment's. It is
returned blocked (no token) because what follows the write differs by kind and this server does not carry it out:
an OrderedReady StatefulSet replaces pods one at a time from the highest ordinal and waits on any pod that is not
Ready, so OOMKilled pods stuck in a crash loop must also be deleted, one at a time; a DaemonSet replaces its pods node
by node. Nor does it record the old limit as a temporary measure to restore: the undo command is the record.

Layer: tools.mitigate.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from incident_response.tools.core import commands
from incident_response.tools.engine.deps import Deps, check_name
from incident_response.tools.engine.pending import Proposal
from incident_response.tools.engine.plan import KubeWrite, PlanDraft, Step, Target, diff_values, patch_step
from incident_response.tools.k8s import controller_revisions as cr
from incident_response.tools.k8s.args import MemoryQuantity
from incident_response.tools.k8s.views import meta
from incident_response.tools.k8s.workloads import owned_by, template_spec
from incident_response.tools.kube.client import Kube
from incident_response.tools.mitigate.memory import (
    check_limit,
    check_node_room,
    memory_ops,
    memory_patch,
    oom_evidence,
    plan_memory_limit,
)
from incident_response.tools.mitigate.scaling import patch_command


def _ordinal(pod: dict[str, Any]) -> int:
    tail = str(meta(pod).name).rsplit("-", 1)[-1]
    return int(tail) if tail.isdigit() else -1


def stuck(statefulset: dict[str, Any], pods: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Pods an OrderedReady StatefulSet would wait on forever after the change: not Running and Ready, highest
    ordinal first (the order the controller replaces them in)."""
    if ((statefulset.get("spec") or {}).get("podManagementPolicy") or "OrderedReady") == "Parallel":
        return []
    waiting = [p for p in pods if owned_by(p, statefulset) and not meta(p).deletion_timestamp and not cr.ready(p)]
    return sorted(waiting, key=_ordinal, reverse=True)


def why(kind: cr.WorkloadKind, workload: dict[str, Any], deletes: list[str], current: Any) -> str:
    """The blocked plan's next step: who runs it, in what order, and why this server does not."""
    name = meta(workload).name
    strategy = ((workload.get("spec") or {}).get("updateStrategy") or {}).get("type", "RollingUpdate")
    if kind == "statefulset":
        after = (
            f"then delete {', '.join(deletes)} in that order (each must be Running and Ready before the next): an "
            "OrderedReady StatefulSet waits on a pod that is not Ready and never replaces it itself; their claims stay"
            if deletes
            else "the controller then replaces the pods one at a time from the highest ordinal"
        )
    else:
        rolling = ((workload.get("spec") or {}).get("updateStrategy") or {}).get("rollingUpdate") or {}
        after = f"the DaemonSet then replaces its pods node by node (maxUnavailable {rolling.get('maxUnavailable', 1)})"
    if strategy == "OnDelete":
        after = "updateStrategy is OnDelete: no pod changes until deleted; delete them one at a time after the patch"
    return (
        f"Advice, not planned: set_memory_limit runs only for Deployments. For {kind} {name}, a human runs the "
        f"command with their own credentials; {after}. The old limit ({current or 'none'}) is not recorded as a "
        "temporary measure: keep undo_command to restore it"
    )


def plan_workload_memory_limit(
    kube: Kube, namespace: str, kind: cr.WorkloadKind, name: str, container: str, limit: str
) -> tuple[PlanDraft, str]:
    """(the draft, why it is blocked): the patch dry-run on the API server, and for a StatefulSet the pods to delete."""
    resource = cr.RESOURCE[kind]
    workload = kube.get(resource, name, namespace)
    index, found = check_limit(workload, container, limit, kind=kind)
    check_node_room(kube, template_spec(workload), index, found, limit)
    current = ((found.get("resources") or {}).get("limits") or {}).get("memory")
    ops = memory_ops(workload, index, found, limit)
    dry = kube.patch(resource, name, ops, namespace, patch_type="json", dry_run=True)
    context = kube.context
    steps = [
        patch_step(
            f"set container {container}'s memory limit to {limit}",
            patch_command(kind, name, memory_patch(container, limit), namespace, context),
            resource,
            name,
            namespace,
            ops,
            "json",
            undo_command=patch_command(kind, name, memory_patch(container, current), namespace, context),
        )
    ]
    pods = kube.list("pods", namespace, label_selector=cr.workload_selector(workload)).items
    deletes = [str(meta(p).name) for p in stuck(workload, pods)] if kind == "statefulset" else []
    steps += [
        Step(
            description=f"delete pod {pod}, which the StatefulSet would otherwise wait on, so it is recreated with "
            "the new limit",
            command=commands.kubectl(["delete", "pod", pod], namespace=namespace, context=context),
            action=KubeWrite(verb="delete", resource="pods", namespace=namespace, name=pod, body={}),
        )
        for pod in deletes
    ]
    summary = f"Set the memory limit of container {container} in {kind} {name} ({namespace}): {current} -> {limit}."
    evidence = oom_evidence([p for p in pods if owned_by(p, workload)])
    if evidence:
        summary += " " + evidence

    def limits(obj: dict[str, Any]) -> dict[str, Any]:
        return {
            str(c.get("name")): (c.get("resources") or {}).get("limits")
            for c in template_spec(obj).get("containers") or []
        }

    draft = PlanDraft(
        tool="set_memory_limit",
        summary=summary,
        target=Target(kind=cr.KIND[kind], namespace=namespace, name=name, uid=meta(workload).uid),
        steps=steps,
        undo_command=steps[0].undo_command,
        diff=diff_values({"containers": limits(workload)}, {"containers": limits(dry)}),
        preconditions=[],
        warnings=[f"Changing the pod template rolls every pod of {kind} {name}."],
    )
    reason = why(kind, workload, deletes, current)
    draft.warnings.append(reason)  # safe mode's next_step replaces it: the warning keeps it in every mode
    return draft, reason


def set_memory_limit(
    deps: Deps,
    namespace: Annotated[str, Field(description="Namespace of the deployment.")],
    deployment: Annotated[str, Field(description="Deployment name (or the StatefulSet's or DaemonSet's, with kind).")],
    container: Annotated[str, Field(description="Container name in the pod template.")],
    limit: Annotated[MemoryQuantity, Field(description="New memory limit, a quantity such as 768Mi or 1Gi.")],
    kind: Annotated[
        Literal["deployment", "statefulset", "daemonset"],
        Field(description="statefulset or daemonset: the commands come back as advice for a human (status blocked)."),
    ] = "deployment",
) -> Proposal:
    """Plan raising (or setting) a container's memory limit (kubectl patch deployment), the fix for OOMKilled pods.
    It triggers a rolling restart. Shows the OOMKill evidence; the old limit is recorded as a temporary measure.
    Nothing changes until the token is confirmed with confirm_command. For a StatefulSet or DaemonSet it returns the
    exact commands (the patch, then the stuck pods to delete) as advice, status blocked, with why."""
    container = check_name(container, "container")
    if kind != "deployment":
        draft, reason = plan_workload_memory_limit(deps.kube, namespace, kind, deployment, container, limit)
        return deps.propose(draft, blocked_reason=reason)
    draft = plan_memory_limit(deps.kube, namespace, deployment, container, limit)
    return deps.propose(draft)
