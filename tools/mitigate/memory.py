"""set_memory_limit: the playbook's vertical scaling for OOMKilled pods.

The command shown is the playbook's strategic merge patch of one container; the write is the same change as a JSON
patch led by `test` ops (uid, generation, the container's name), so a rollout between the confirm-time check and
the write makes the API refuse it. The tool itself (and its StatefulSet/DaemonSet advice) is in workload_memory.

Layer: tools.mitigate.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from incident_response.tools.core import commands, errors
from incident_response.tools.core.plan_warnings import PlanWarning, warning
from incident_response.tools.engine import sizing_reads
from incident_response.tools.engine.plan import PlanDraft, Target, diff_values, patch_step, pointer
from incident_response.tools.k8s import backends, capacity
from incident_response.tools.k8s.memory_climb import sample
from incident_response.tools.k8s.oom_runs import last_oom, plan_note
from incident_response.tools.k8s.qos import qos_class
from incident_response.tools.k8s.quantity import memory_text, parse_quantity
from incident_response.tools.k8s.unfinished import Unfinished, unfinished_rollout
from incident_response.tools.k8s.usage import PodUsage, usage_by_pod, usage_rows
from incident_response.tools.k8s.views import meta
from incident_response.tools.k8s.workloads import current_replicas, deployment_selector, owned_by, template_spec
from incident_response.tools.kube.client import Kube
from incident_response.tools.mitigate.scaling import (
    TEMPLATE_PATHS,
    deployment_precondition,
    guard_ops,
    patch_command,
)

QUANTITY = re.compile(r"^[0-9]+(\.[0-9]+)?(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$")


def memory_patch(container: str, limit: str | None) -> dict[str, Any]:
    """The playbook's patch body; `None` removes the limit (a strategic-merge null)."""
    resources = {"limits": {"memory": limit}}
    return {"spec": {"template": {"spec": {"containers": [{"name": container, "resources": resources}]}}}}


def memory_ops(deployment: dict[str, Any], index: int, container: dict[str, Any], limit: str | None) -> list[Any]:
    """The write: the playbook's change as a JSON patch led by `test` ops on the deployment's uid and generation and
    on the container's name, so a rollout (or any spec change) after the confirm-time check makes it fail."""
    where = str(pointer("spec", "template", "spec", "containers", index))
    ops: list[Any] = [*guard_ops(deployment), {"op": "test", "path": where + "/name", "value": container.get("name")}]
    resources = container.get("resources")
    limits = (resources or {}).get("limits")
    if limit is None:
        if (limits or {}).get("memory") is not None:
            ops.append({"op": "remove", "path": where + "/resources/limits/memory"})
    elif resources is None:
        ops.append({"op": "add", "path": where + "/resources", "value": {"limits": {"memory": limit}}})
    elif limits is None:
        ops.append({"op": "add", "path": where + "/resources/limits", "value": {"memory": limit}})
    else:
        ops.append({"op": "add", "path": where + "/resources/limits/memory", "value": limit})
    return ops


def check_limit(
    deployment: dict[str, Any], container: str, limit: str, kind: str = "deployment"
) -> tuple[int, dict[str, Any]]:
    """Validate the new limit against the container of a `kind` (a deployment's, or a StatefulSet's or DaemonSet's);
    returns (container index, container)."""
    name = backends.name_of(deployment)
    if not QUANTITY.fullmatch(limit) or not parse_quantity(limit):
        raise errors.InvalidArgument(
            f"memory limit {limit!r} is not a valid memory quantity; use a form like 512Mi, 1Gi or 1073741824"
        )
    containers = template_spec(deployment).get("containers") or []
    index = next((i for i, c in enumerate(containers) if c.get("name") == container), None)
    if index is None:
        names = ", ".join(str(c.get("name")) for c in containers)
        raise errors.InvalidArgument(f"{kind} {name} has no container {container!r} (containers: {names})")
    found = dict(containers[index])
    resources = found.get("resources") or {}
    current = (resources.get("limits") or {}).get("memory")
    if current is not None and parse_quantity(current) == parse_quantity(limit):
        raise errors.InvalidArgument(f"container {container} of {kind} {name} already has memory limit {current}")
    request = (resources.get("requests") or {}).get("memory")
    if request is not None and (parse_quantity(request) or 0) > (parse_quantity(limit) or 0):
        raise errors.InvalidArgument(
            f"memory limit {limit} is below the container's memory request {request}; the API server rejects a "
            "limit below the request. Choose a limit of at least the request"
        )
    return index, found


def check_node_room(kube: Kube, spec: dict[str, Any], index: int, found: dict[str, Any], limit: str) -> dict[str, Any]:
    """The pod spec with the new limit, refused when no schedulable node could hold it."""
    resources = found.get("resources") or {}
    new_spec = {**spec, "containers": [*(spec.get("containers") or [])]}
    new_resources = {**resources, "limits": {**(resources.get("limits") or {}), "memory": limit}}
    new_spec["containers"][index] = {**found, "resources": new_resources}
    want = capacity.spec_requests(new_spec)
    biggest = capacity.largest_node(kube.list("nodes").items, new_spec)
    new_limit = parse_quantity(limit) or 0.0
    if want.memory > biggest.memory or new_limit > biggest.memory:
        defaulted = (resources.get("requests") or {}).get("memory") is None
        raise errors.InvalidArgument(
            f"memory limit {limit} is more than any schedulable node has ({memory_text(biggest.memory)})"
            + (
                " and, with no memory request, the API server defaults the request to it: the new pods would "
                "stay Pending"
                if defaulted
                else "; the container could never use it. Check the unit"
            )
        )
    return new_spec


def oom_evidence(pods: list[dict[str, Any]], usage: list[PodUsage] | None = None) -> str | None:
    """How many pods were OOMKilled last, when and after how long (a leak or a load peak, or a limit below what it
    needs); `usage` (the metrics API's, if read) says whether memory now climbs with uptime (memory_climb)."""
    now = datetime.now(UTC)
    killed = [run for p in pods if backends.oom_killed(p) and (run := last_oom(p, now)) is not None]
    if not killed:
        return None
    by_name = {u.name: u for u in usage or []}
    samples = [s for p in pods if (s := sample(p, by_name.get(backends.name_of(p)), now)) is not None]
    return f"OOMKilled last: {len(killed)} of {len(pods)} pods" + plan_note(killed, samples)


def pod_usage(kube: Kube, namespace: str, selector: str | None, pods: list[dict[str, Any]]) -> list[PodUsage]:
    """The pods' usage from the metrics API ([] without it, or where it may not be read)."""
    try:
        items = kube.list("pods.metrics.k8s.io", namespace, label_selector=selector).items
    except (errors.NotFound, errors.ServerError, errors.Forbidden):
        return []
    return usage_rows(pods, usage_by_pod(items))


def request_note(
    kube: Kube,
    deployment: dict[str, Any],
    container: str,
    old_spec: dict[str, Any],
    new_spec: dict[str, Any],
    index: int,
    limit: str,
    pods: list[dict[str, Any]],
) -> PlanWarning:
    """What raising only the limit does to the request, the QoS class and scheduling; and, for a request raised to
    the limit as well, how many replicas would fit (the deployment's own pods replaced, so their room counts)."""
    name = backends.name_of(deployment)
    resources = (new_spec["containers"][index].get("resources") or {}) if new_spec.get("containers") else {}
    request = (resources.get("requests") or {}).get("memory")
    old_qos, new_qos = qos_class(old_spec), qos_class(new_spec)
    qos = f"changes from {old_qos} to {new_qos}" if old_qos != new_qos else f"stays {new_qos}"
    replicas = current_replicas(deployment)
    leaving = frozenset(f"{meta(p).namespace}/{meta(p).name}" for p in pods)
    reserved = {**new_spec, "containers": [dict(c) for c in new_spec.get("containers") or []]}
    raised = dict(reserved["containers"][index])
    raised["resources"] = {**resources, "requests": {**(resources.get("requests") or {}), "memory": limit}}
    reserved["containers"][index] = raised
    room = sizing_reads.node_room(kube)
    fits = capacity.replicas_that_fit(*room, reserved, 0, leaving=leaving) if room is not None else None
    fit_text = (
        "node room could not be read"
        if fits is None
        else f"{min(fits, replicas)} of {replicas} replicas would fit"
        + (f" ({replicas - fits} would stay Pending)" if fits < replicas else "")
    )
    if request is None:
        return warning(
            "request",
            f"no memory request: each new pod requests {limit} (the default): {fit_text}; QoS {qos}",
            f"Container {container} of deployment {name} has no memory request: the API server defaults it to the "
            f"new limit {limit}, so each new pod asks the scheduler for {limit}: {fit_text}; the QoS class {qos}.",
        )
    # Why (scheduling reads requests; the kubelet evicts pods over their request first) is SKILL.md's, said once.
    return warning(
        "request",
        f"request stays {request}, QoS {qos}: over it a pod is OOM-killed or evicted first; requesting {limit} too: "
        f"{fit_text}",
        f"Only the limit is raised: the request stays {request} (scheduling unchanged), QoS class {qos}: over its "
        f"request a pod is first OOM-killed or evicted when the node runs short. Request {limit} too: "
        f"{fit_text}.",
    )


def unfinished_of(kube: Kube, deployment: dict[str, Any]) -> Unfinished | None:
    """The deployment's rollout when it has not finished while an earlier revision's pods serve."""
    namespace = str(meta(deployment).namespace)
    replicasets = kube.list("replicasets", namespace, label_selector=deployment_selector(deployment)).items
    return unfinished_rollout(deployment, [rs for rs in replicasets if owned_by(rs, deployment)])


def completes_rollout(rollout: Unfinished, namespace: str) -> PlanWarning:
    """Said first, loudly: the patch changes the template of a revision that never finished rolling out (F27)."""
    images, serving = ", ".join(rollout.images), ", ".join(rollout.serving_images)
    brief = (
        f"NOT ONLY A RESTART: also completes revision {rollout.revision}'s rollout ({rollout.ready} of "
        f"{rollout.replicas} Ready) over the {rollout.serving_ready} serving pods of revision "
        f"{rollout.serving_revision}; if only its new pods fail, rollback_deployment(to_revision="
        f"{rollout.serving_revision}) instead (the undo is that rollback)"
    )
    return warning(
        "rollout",
        brief,
        f"NOT ONLY A RESTART: this also completes the rollout of revision {rollout.revision} ({images}) over the "
        f"{rollout.serving_ready} pods of revision {rollout.serving_revision} ({serving}) that serve now: the new "
        f"limit goes into revision {rollout.revision}'s template, and only {rollout.ready} of {rollout.replicas} of "
        f"its pods are Ready. If only its new pods fail, rolling back is the way: "
        f"rollback_deployment(namespace={namespace}, deployment={rollout.deployment}, "
        f"to_revision={rollout.serving_revision}). The undo of this plan is that rollback "
        "(the limit put back would leave the new revision rolling out).",
    )


def rollback_command(name: str, revision: int, namespace: str, context: str | None) -> str:
    return str(
        commands.kubectl(
            ["rollout", "undo", f"deployment/{name}"],
            namespace=namespace,
            context=context,
            flags=[f"--to-revision={revision}"],
        )
    )


def rollback_undo(undo_command: str | None) -> int | None:
    """The revision a measure's undo rolls back to, when its undo is `kubectl rollout undo ... --to-revision=N`."""
    words = (undo_command or "").split()
    if words[1:3] != ["rollout", "undo"]:
        return None
    revision = next((w.removeprefix("--to-revision=") for w in words if w.startswith("--to-revision=")), "")
    return int(revision) if revision.isdigit() else None


def plan_memory_limit(
    kube: Kube, namespace: str, name: str, container: str, limit: str | None, *, restores: str | None = None
) -> PlanDraft:
    """Plan a new memory limit; `limit` None (restore only) removes the limit the measure added."""
    deployment = kube.get("deployments", name, namespace)
    if limit is not None:
        index, found = check_limit(deployment, container, limit)
    else:
        containers = template_spec(deployment).get("containers") or []
        index = next((i for i, c in enumerate(containers) if c.get("name") == container), 0)
        found = dict(containers[index]) if containers else {}
    resources = found.get("resources") or {}
    current = (resources.get("limits") or {}).get("memory")
    warnings = [warning("restart", "A rolling restart: every pod is replaced.")]
    summary = f"Set the memory limit of container {container} in deployment {name} ({namespace}): {current} -> {limit}."
    if limit is not None and restores is None:
        spec = template_spec(deployment)
        new_spec = check_node_room(kube, spec, index, found, limit)
        pods = kube.list("pods", namespace, label_selector=deployment_selector(deployment)).items
        warnings.append(request_note(kube, deployment, container, spec, new_spec, index, limit, pods))
        killed = any(backends.oom_killed(p) for p in pods)
        usage = pod_usage(kube, namespace, deployment_selector(deployment), pods) if killed else []
        if evidence := oom_evidence(pods, usage):
            summary += " " + evidence  # once: the summary (a workload's plan says it there too)
    context = kube.context
    undo = patch_command("deployment", name, memory_patch(container, current), namespace, context)
    if limit is not None and restores is None and (rollout := unfinished_of(kube, deployment)) is not None:
        warnings[0] = completes_rollout(rollout, namespace)
        undo = rollback_command(name, rollout.serving_revision, namespace, context)
    ops = memory_ops(deployment, index, found, limit)
    dry = kube.patch("deployments", name, ops, namespace, patch_type="json", dry_run=True)
    # The command shown is the playbook's strategic merge patch; the write is the same change, guarded.
    step = patch_step(
        f"set container {container}'s memory limit to {limit}",
        patch_command("deployment", name, memory_patch(container, limit), namespace, context),
        "deployments",
        name,
        namespace,
        ops,
        "json",
        undo_command=undo,
    )
    path = pointer("spec", "template", "spec", "containers", index)

    def limits(obj: dict[str, Any]) -> dict[str, Any]:
        spec = template_spec(obj)
        return {str(c.get("name")): (c.get("resources") or {}).get("limits") for c in spec.get("containers") or []}

    paths = [*TEMPLATE_PATHS, pointer("metadata", "generation"), path + "/name", path + "/resources/limits/memory"]
    return PlanDraft(
        tool="restore_measure" if restores else "set_memory_limit",
        summary=summary,
        target=Target(kind="Deployment", namespace=namespace, name=name, uid=deployment["metadata"].get("uid")),
        steps=[step],
        undo_command=step.undo_command,
        diff=diff_values({"containers": limits(deployment)}, {"containers": limits(dry)}),
        preconditions=[deployment_precondition(deployment, paths)],
        warnings=warnings,
        temporary=restores is None,
        restores=restores,
    )
