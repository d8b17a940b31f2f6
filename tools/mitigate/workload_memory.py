"""set_memory_limit: a Deployment's plan is in memory.py; a StatefulSet's or DaemonSet's is here.

The change is the playbook's patch of one container, dry-run on the API server and written as a JSON patch led by
`test` ops, as for a Deployment. What follows the write differs by kind: an OrderedReady StatefulSet replaces pods
one at a time from the highest ordinal and waits on any pod that is not Ready, so OOMKilled pods stuck in a crash loop
are deleted by the plan's further steps (the controller recreates them, lowest missing ordinal first, with the new
limit); a DaemonSet replaces its pods node by node; OnDelete replaces none until deleted. The old limit is recorded as
a temporary measure (restore_measure puts it back the same way).

Layer: tools.mitigate.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from incident_response.tools.core import commands
from incident_response.tools.core.plan_warnings import warning
from incident_response.tools.engine.deps import Deps, check_name
from incident_response.tools.engine.pending import Proposal
from incident_response.tools.engine.plan import (
    KubeWrite,
    PlanDraft,
    Precondition,
    Step,
    Target,
    diff_values,
    patch_step,
    pointer,
    precondition,
)
from incident_response.tools.k8s import backends
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
    pod_usage,
)
from incident_response.tools.mitigate.scaling import TEMPLATE, patch_command


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


def how(kind: cr.WorkloadKind, workload: dict[str, Any], deletes: list[str]) -> str:
    """What the controller does after the write, and what the plan does about it."""
    name = meta(workload).name
    strategy = ((workload.get("spec") or {}).get("updateStrategy") or {}).get("type", "RollingUpdate")
    if strategy == "OnDelete":
        return (
            f"{kind} {name} uses updateStrategy OnDelete: only the pods this plan deletes get the new limit; delete "
            "the others one at a time (delete_pod) when they should"
        )
    partition = ((workload.get("spec") or {}).get("updateStrategy") or {}).get("rollingUpdate") or {}
    if kind == "statefulset" and int(partition.get("partition") or 0) > 0:
        return (
            f"statefulset {name} has partition {partition['partition']}: pods below that ordinal keep the old limit "
            "until the partition is lowered or they are deleted"
            + (f"; the plan deletes {', '.join(deletes)}, which never got Ready" if deletes else "")
        )
    if kind == "statefulset":
        if deletes:
            return (
                f"{', '.join(deletes)} never got Ready: an OrderedReady StatefulSet waits on such a pod forever, so "
                "the plan deletes them after the patch; the controller recreates them with the new limit, lowest "
                "missing ordinal first, each Ready before the next (their claims stay)"
            )
        return f"statefulset {name} then replaces its pods one at a time from the highest ordinal"
    rolling = ((workload.get("spec") or {}).get("updateStrategy") or {}).get("rollingUpdate") or {}
    return f"daemonset {name} then replaces its pods node by node (maxUnavailable {rolling.get('maxUnavailable', 1)})"


def plan_workload_memory_limit(
    kube: Kube,
    namespace: str,
    kind: cr.WorkloadKind,
    name: str,
    container: str,
    limit: str | None,
    *,
    restores: str | None = None,
) -> PlanDraft:
    """The patch, dry-run on the API server, then for an OrderedReady StatefulSet the deletion of the pods it would
    wait on; `limit` None (a restore only) removes the limit the measure added."""
    resource = cr.RESOURCE[kind]
    workload = kube.get(resource, name, namespace)
    if limit is not None:
        index, found = check_limit(workload, container, limit, kind=kind)
        if restores is None:
            check_node_room(kube, template_spec(workload), index, found, limit)
    else:
        containers = template_spec(workload).get("containers") or []
        index = next((i for i, c in enumerate(containers) if c.get("name") == container), 0)
        found = dict(containers[index]) if containers else {}
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
    path = pointer("spec", "template", "spec", "containers", index)
    paths = [pointer("metadata", "uid"), TEMPLATE, pointer("metadata", "generation"), path + "/name"]
    paths.append(path + "/resources/limits/memory")
    preconditions: list[Precondition] = [
        precondition(resource, workload, paths, namespace=namespace, name=name, digests=[TEMPLATE])
    ]
    listed = kube.list("pods", namespace, label_selector=cr.workload_selector(workload)).items
    mine = [p for p in listed if owned_by(p, workload)]
    waiting = stuck(workload, mine) if kind == "statefulset" else []
    for pod in waiting:
        pod_name = str(meta(pod).name)
        steps.append(
            Step(
                description=f"delete pod {pod_name}, which the StatefulSet would otherwise wait on, so it is recreated "
                "with the new limit",
                command=commands.kubectl(["delete", "pod", pod_name], namespace=namespace, context=context),
                action=KubeWrite(
                    verb="delete", resource="pods", namespace=namespace, name=pod_name, body={"uid": meta(pod).uid}
                ),
            )
        )
        preconditions.append(
            precondition("pods", pod, [pointer("metadata", "uid")], namespace=namespace, name=pod_name)
        )
    deletes = [str(meta(p).name) for p in waiting]
    summary = f"Set the memory limit of container {container} in {kind} {name} ({namespace}): {current} -> {limit}"
    summary += f", deleting stuck pod(s) {', '.join(deletes)}." if deletes else "."
    killed = restores is None and any(backends.oom_killed(p) for p in mine)
    usage = pod_usage(kube, namespace, cr.workload_selector(workload), mine) if killed else []
    if restores is None and (evidence := oom_evidence(mine, usage)):
        summary += " " + evidence

    def limits(obj: dict[str, Any]) -> dict[str, Any]:
        return {
            str(c.get("name")): (c.get("resources") or {}).get("limits")
            for c in template_spec(obj).get("containers") or []
        }

    return PlanDraft(
        tool="restore_measure" if restores else "set_memory_limit",
        summary=summary,
        target=Target(kind=cr.KIND[kind], namespace=namespace, name=name, uid=meta(workload).uid),
        steps=steps,
        undo_command=steps[0].undo_command,
        diff=diff_values({"containers": limits(workload)}, {"containers": limits(dry)}),
        preconditions=preconditions,
        warnings=[
            warning(
                "restart",
                f"Changing the pod template rolls every pod of {kind} {name}: {how(kind, workload, deletes)}.",
            )
        ],
        temporary=restores is None,
        restores=restores,
    )


def set_memory_limit(
    deps: Deps,
    namespace: Annotated[str, Field(description="Namespace of the deployment.")],
    deployment: Annotated[str, Field(description="Deployment name (or the StatefulSet's or DaemonSet's, with kind).")],
    container: Annotated[str, Field(description="Container name in the pod template.")],
    limit: Annotated[MemoryQuantity, Field(description="New memory limit, a quantity such as 768Mi or 1Gi.")],
    kind: Annotated[
        Literal["deployment", "statefulset", "daemonset"],
        Field(description="The workload's kind (a StatefulSet's plan also deletes the pods it would wait on)."),
    ] = "deployment",
) -> Proposal:
    """Plan raising (or setting) a container's memory limit (kubectl patch), the fix for OOMKilled pods, for a
    deployment, StatefulSet or DaemonSet. It triggers a rolling restart; an ordered StatefulSet's not-Ready pods are
    deleted too so it can proceed. Shows the OOMKill evidence; the old limit is recorded as a temporary measure.
    Nothing changes until the token is confirmed with confirm_command."""
    container = check_name(container, "container")
    if kind != "deployment":
        return deps.propose(plan_workload_memory_limit(deps.kube, namespace, kind, deployment, container, limit))
    return deps.propose(plan_memory_limit(deps.kube, namespace, deployment, container, limit))
