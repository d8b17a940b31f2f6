"""restore_measure's look at the cluster before planning a restore: is what the measure answered gone?

Reads what each kind of measure needs (the HPA's load, the deployment's memory use, the pods an isolation cut off,
the old backend's pods, the node's conditions) and hands it to playbook.restore_checks.

Layer: tools.mitigate.
"""

from __future__ import annotations

from typing import Any

from incident_response.tools.core import errors
from incident_response.tools.engine.plan import PendingCommand, resolve
from incident_response.tools.k8s import backends, labels
from incident_response.tools.k8s.hpa_load import hpa_load
from incident_response.tools.k8s.quantity import parse_quantity
from incident_response.tools.k8s.usage import pod_resources
from incident_response.tools.k8s.views import meta
from incident_response.tools.k8s.workloads import REVISION, deployment_selector
from incident_response.tools.kube.client import Kube
from incident_response.tools.mitigate import memory, pause
from incident_response.tools.playbook.restore_checks import (
    Findings,
    PodState,
    backend_restore,
    hpa_restore,
    leak_restore,
    memory_restore,
    node_restore,
    scale_restore,
    still_running,
)

METRICS = "pods.metrics.k8s.io"


def _expect(plan: PendingCommand, index: int = 0) -> dict[str, Any]:
    return plan.preconditions[index].expect if len(plan.preconditions) > index else {}


def pod_states(kube: Kube, namespace: str, selector: str) -> list[PodState]:
    return [
        PodState(
            name=backends.name_of(pod),
            uid=str(meta(pod).uid),
            ready=backends.ready(pod),
            running=not backends.terminating(pod) and (pod.get("status") or {}).get("phase") in ("Running", "Pending"),
        )
        for pod in kube.list("pods", namespace, label_selector=selector).items
    ]


def container_memory(kube: Kube, namespace: str, selector: str | None, container: str) -> dict[str, float] | None:
    """Memory bytes `container` uses in each pod the selector matches; None when the metrics API cannot be read."""
    try:
        items = kube.list(METRICS, namespace, label_selector=selector).items
    except (errors.NotFound, errors.ServerError, errors.Forbidden):
        return None
    usage = {}
    for item in items:
        for c in item.get("containers") or []:
            used = parse_quantity((c.get("usage") or {}).get("memory"))
            if c.get("name") == container and used is not None:
                usage[str(meta(item).name)] = used
    return usage


def cpu_in_use(kube: Kube, namespace: str, selector: str | None, pods: set[str]) -> float | None:
    """Cores the named pods (those staying: not terminating) use in all; None when the metrics API cannot be read."""
    try:
        items = kube.list(METRICS, namespace, label_selector=selector).items
    except (errors.NotFound, errors.ServerError, errors.Forbidden):
        return None
    used = [
        parse_quantity((c.get("usage") or {}).get("cpu"))
        for item in items
        if meta(item).name in pods
        for c in item.get("containers") or []
    ]
    return sum(u for u in used if u is not None)


def _selector_text(selector: dict[str, Any]) -> str:
    return labels.text(labels.from_map({str(k): str(v) for k, v in selector.items()}))


def findings(kube: Kube, plan: PendingCommand) -> Findings:
    """What the cluster shows now about the condition `plan` (a confirmed temporary measure) answered."""
    namespace = plan.target.namespace or ""
    name = plan.target.name
    if plan.tool == "pause_rollout":
        return rollout_restore(kube, namespace, name)
    if plan.tool == "override_hpa":
        old_max = int(str(_expect(plan).get("/spec/maxReplicas") or 1))
        return hpa_restore(hpa_load(kube.get("horizontalpodautoscalers", name, namespace)), old_max)
    if plan.tool == "scale_deployment":
        old_count = _expect(plan).get("/spec/replicas")
        deploy = kube.get("deployments", name, namespace)
        selector = deployment_selector(deploy)
        limit = pod_resources({"spec": ((deploy.get("spec") or {}).get("template") or {}).get("spec")})["cpu_limits"]
        pods = pod_states(kube, namespace, selector or "")
        staying = {p.name for p in pods if p.running}
        count = int(old_count) if isinstance(old_count, int) else 0
        return scale_restore(name, count, pods, cpu_in_use(kube, namespace, selector, staying), limit)
    if plan.tool == "set_memory_limit" and memory.rollback_undo(plan.undo_command) is not None:
        return Findings()  # its restore is the rollback to the revision that served, at its own limit (F27)
    if plan.tool == "set_memory_limit":
        expect = _expect(plan)
        container = next((str(v) for k, v in expect.items() if k.endswith("/name")), "")
        old = next((v for k, v in expect.items() if k.endswith("/memory")), None)
        resource = {"StatefulSet": "statefulsets", "DaemonSet": "daemonsets"}.get(plan.target.kind, "deployments")
        deploy = kube.get(resource, name, namespace)
        usage = container_memory(kube, namespace, deployment_selector(deploy), container)
        found = memory_restore(container, parse_quantity(old) if old is not None else None, usage)
        revision = next((v for k, v in expect.items() if k.endswith("~1revision")), None)
        return leak_restore(found, plan.summary, revision, meta(deploy).annotations.get(REVISION))
    if plan.tool == "isolate_network":
        policy = kube.get("networkpolicies", name, namespace)
        selector = labels.text(labels.from_spec((policy.get("spec") or {}).get("podSelector")))
        cut = {str(u) for u in _expect(plan, 1).get("/metadata/uid") or []}
        return still_running(
            f"NetworkPolicy {name} still selects pods", pod_states(kube, namespace, selector), cut, "deleting it"
        )
    if plan.tool == "remove_pods_from_service" and len(plan.preconditions) > 1 and plan.steps:
        # The pods no longer match the plan's selector (it named the label removed): find them by the rest of it.
        action = plan.steps[0].action
        removed = set(((getattr(action, "body", None) or {}).get("metadata") or {}).get("labels") or {})
        cut_off = plan.preconditions[1]
        rest = tuple(r for r in labels.parse(cut_off.label_selector or "") if r.key not in removed)
        cut = {str(u) for u in cut_off.expect.get("/metadata/uid") or []}
        pods = [p for p in pod_states(kube, namespace, labels.text(rest)) if p.uid in cut]
        return still_running(f"pods taken out of Service {name}", pods, cut, "putting the label back")
    if plan.tool == "patch_service_selector":
        old = dict(_expect(plan).get("/spec/selector") or {})
        if not old:
            return Findings()
        before = pod_states(kube, namespace, _selector_text(old))
        current = (kube.get("services", name, namespace).get("spec") or {}).get("selector") or {}
        kept = {p.uid for p in pod_states(kube, namespace, _selector_text(current))} if current else set()
        away = [p for p in before if p.uid not in kept]  # the pods the patch routed the traffic away from
        found = backend_restore(f"the old selector {_selector_text(old)} of Service {name}", before)
        return found.merge(still_running(f"Service {name}'s old selector", away, {p.uid for p in away}, "restoring it"))
    if plan.tool == "switch_ingress_backend":
        return ingress_restore(kube, namespace, name, plan)
    if plan.tool in ("cordon_node", "drain_node"):
        return node_restore(kube.get("nodes", name))
    return Findings()


def service_pods(kube: Kube, namespace: str, service: str) -> list[PodState] | None:
    """The pods a Service selects now; None when it no longer exists."""
    try:
        chosen = (kube.get("services", service, namespace).get("spec") or {}).get("selector") or {}
    except errors.NotFound:
        return None
    return pod_states(kube, namespace, _selector_text(chosen)) if chosen else []


def ingress_restore(kube: Kube, namespace: str, ingress: str, plan: PendingCommand) -> Findings:
    """The old backend must have Ready pods, and the pods the switch routed away from (the old backend's, not the
    current one's) must be gone."""
    path, backend = next(((k, v) for k, v in _expect(plan).items() if k.endswith("/backend/service")), ("", None))
    old = str((backend or {}).get("name") or "")
    if not old:
        return Findings()
    before = service_pods(kube, namespace, old)
    if before is None:
        return Findings(holds=[f"the old backend Service {old} no longer exists: restoring routes to nothing"])
    found = backend_restore(f"the old backend Service {old}", before)
    current = kube.get("ingresses", ingress, namespace)
    now = resolve(current, path)
    kept = service_pods(kube, namespace, str(now.get("name"))) if isinstance(now, dict) and now.get("name") else None
    away = [p for p in before if p.uid not in {k.uid for k in kept or []}]
    return found.merge(still_running(f"the old backend Service {old}", away, {p.uid for p in away}, "switching back"))


def rollout_restore(kube: Kube, namespace: str, name: str) -> Findings:
    """A paused rollout's resume: the bad rollout the pause held is still there while it has not finished and an
    earlier revision's pods serve (resuming lets it replace them). To roll back instead, the human resumes anyway and
    the rollback follows (kubectl refuses to roll back a paused deployment)."""
    found = Findings()
    deployment = kube.get("deployments", name, namespace)
    if (change := pause.held_change(kube, namespace, deployment)) is not None:
        found.hold(
            f"deployment {name}'s template changed while its rollout was paused ({change}): resuming rolls that "
            "out over the serving pods; restore with restore_despite_condition=true once the human has checked it",
            f"resuming rolls out {change}",
        )
        return found
    rollout = pause.under_way(kube, namespace, deployment)
    if rollout is not None:
        found.hold(
            f"deployment {name}'s rollout is still under way ({pause.stands(rollout)}): resuming lets revision "
            f"{rollout.revision} replace the serving pods; to roll back instead, restore with "
            "restore_despite_condition=true and plan rollback_deployment right after",
            f"revision {rollout.revision} would replace the serving pods",
        )
    return found
