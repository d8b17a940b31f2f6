"""The handoff's cluster reads: the namespace's deployments, ReplicaSets and Warning events, the nodes and HPAs the
commands acted on, and verify_recovery's checks. Read-only; a read that fails becomes a problem (an open question)
instead of failing the handoff.

Layer: tools.incident.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any, Literal

from incident_response.tools.assess import recovery
from incident_response.tools.assess.hpas import hpa_row
from incident_response.tools.assess.namespace import build_assessment
from incident_response.tools.core import errors
from incident_response.tools.engine.deps import Deps
from incident_response.tools.engine.journal import CommandRow
from incident_response.tools.k8s import controller_revisions as cr
from incident_response.tools.k8s.changes import Change
from incident_response.tools.k8s.views import meta
from incident_response.tools.k8s.workload_progress import recovery_progress
from incident_response.tools.k8s.workloads import owned_by
from incident_response.tools.kube.client import Kube, ListResult
from incident_response.tools.kube.paging import MAX_OBJECTS_READ, list_all, without_managed_fields
from incident_response.tools.playbook.decision import Decision
from incident_response.tools.playbook.handoff_facts import ClusterFacts, about, clean
from incident_response.tools.playbook.handoff_leads import node_lines
from incident_response.tools.playbook.handoff_models import DeploymentState
from incident_response.tools.playbook.maintenance_nodes import calm_since


def connected(deps: Deps, problems: list[str]) -> Kube | None:
    try:
        return deps.kube
    except errors.IncidentError as e:
        problems.append(f"No cluster connection, so this handoff comes from the journal alone: {e}")
        return None


def assessed(
    deps: Deps,
    namespace: str,
    problems: list[str],
    changes: list[Change] | None = None,
    ranked: list[str] | None = None,
) -> Decision | None:
    """The decision as assess_namespace makes it now; `changes` gets the recent non-rollout changes it read,
    `ranked` the components of its problems, worst problem first."""
    try:
        assessment = build_assessment(deps.kube, namespace, deps)
    except errors.IncidentError as e:
        problems.append(f"The namespace could not be assessed: {e}")
        return None
    if changes is not None:
        changes.extend(assessment._changes)
    if ranked is not None:
        found = (c for p in assessment.problems for c in p.components if "/" not in c)  # not service/x, node/x
        ranked.extend(dict.fromkeys(found))
    return assessment.decision


def read_warnings(kube: Kube | None, namespace: str, problems: list[str]) -> ListResult | None:
    """The namespace's Warning events, read once: the timeline's and verify_recovery's warnings check's."""
    if kube is None:
        return None
    try:
        read = recovery.read_warnings(kube, namespace)
        if read.truncated:  # only at the stop for runaway reads: what is past it is not seen
            problems.append(
                f"{namespace} holds more Warning events than one handoff reads: the first {len(read.items)} were "
                "read, so the first warning of the timeline may be among the rest (list_events narrows by object)"
            )
        return read
    except errors.IncidentError as e:
        problems.append(f"The cluster could not be read, so cluster facts are missing: {e}")
        return None


def targets(rows: list[CommandRow], kind: str) -> list[str]:
    """Names of the `kind` objects the commands targeted."""
    found = [row.plan.get("target") or {} for row in rows]
    return list(dict.fromkeys(str(t.get("name")) for t in found if t.get("kind") == kind))


def read_cluster(
    kube: Kube | None,
    namespace: str,
    names: list[str],
    warnings: list[dict[str, Any]] | None,
    rows: list[CommandRow],
    problems: list[str],
    optional: Collection[str] = (),
) -> tuple[ClusterFacts, list[dict[str, Any]], list[dict[str, Any]]]:
    """The facts about the deployments verified, the nodes and HPAs the commands targeted, plus the namespace's
    deployments and ReplicaSets as read (the rollouts of the incident window come from them). A name in `optional`
    that is no workload (an app of bare pods) is left out silently."""
    if kube is None or warnings is None:
        return ClusterFacts(error="the cluster could not be read"), [], []
    facts = ClusterFacts(warnings=[e for e in warnings if not names or any(about(e, name) for name in names)])
    try:
        listed = [
            list_all(kube, kind, namespace, keep=without_managed_fields) for kind in ("deployments", "replicasets")
        ]
        deployments, replicasets = listed[0].items, listed[1].items
        if any(result.truncated for result in listed):
            problems.append(
                f"{namespace} holds more than {MAX_OBJECTS_READ} deployments or ReplicaSets: only the first "
                f"{MAX_OBJECTS_READ} were read, so rollouts of the incident window may be missing"
            )
    except errors.IncidentError as e:
        facts.error = str(e)
        problems.append(f"The cluster could not be read, so cluster facts are missing: {e}")
        return facts, [], []
    by_name = {str(meta(d).name): d for d in deployments}
    for name, deploy in by_name.items():
        status = deploy.get("status") or {}
        facts.available[name] = f"{status.get('availableReplicas') or 0}/{(deploy.get('spec') or {}).get('replicas')}"
    read_workloads(kube, namespace, facts, problems)
    workloads = {str(meta(w).name): (kind, w) for kind, w in facts.workloads}
    for name in names:
        if name in by_name:
            facts.deployments[name] = by_name[name]
            facts.replicasets[name] = [rs for rs in replicasets if owned_by(rs, by_name[name])]
        elif name in workloads:
            kind, workload = workloads[name]
            facts.kinds[name], facts.deployments[name] = kind, workload
            facts.replicasets[name] = cr.owned_revisions(workload, facts.revisions)
        elif name not in optional:
            problems.append(f"Deployment {name} no longer exists in {namespace}")
    facts.nodes = read_nodes(kube, targets(rows, "Node"), problems, facts.calm)
    read_hpas(kube, namespace, targets(rows, "HorizontalPodAutoscaler"), facts)
    return facts, deployments, replicasets


def read_workloads(kube: Kube, namespace: str, facts: ClusterFacts, problems: list[str]) -> None:
    """The namespace's StatefulSets, DaemonSets and ControllerRevisions (their rollouts and state); what these
    credentials may not read is a problem, not a failure."""
    for kind, resource in (("statefulset", "statefulsets"), ("daemonset", "daemonsets")):
        try:
            facts.workloads += [
                (kind, w) for w in list_all(kube, resource, namespace, keep=without_managed_fields).items
            ]
        except errors.IncidentError as e:
            problems.append(f"{resource} could not be read, so their rollouts are missing: {e}")
    if not facts.workloads:
        return
    try:
        facts.revisions = list_all(kube, "controllerrevisions", namespace, keep=without_managed_fields).items
    except errors.IncidentError as e:
        problems.append(
            f"ControllerRevisions could not be read, so StatefulSet and DaemonSet rollouts are missing: {e}"
        )
    for kind, workload in facts.workloads:
        progress = recovery_progress(kind, workload, cr.owned_revisions(workload, facts.revisions))
        facts.available[str(meta(workload).name)] = f"{progress.available}/{progress.desired}"


def read_nodes(kube: Kube, nodes: list[str], problems: list[str], calm: dict[str, datetime]) -> dict[str, list[str]]:
    """Each node's lines; `calm` gets the healthy ones' calm_since."""
    found = {}
    for node in nodes:
        try:
            body = kube.get("nodes", node)
            found[node] = [clean(line) for line in node_lines(body)]
            if (since := calm_since(body)) is not None:
                calm[node] = since
        except errors.IncidentError as e:
            problems.append(f"Node {node} could not be read: {e}")
    return found


def read_hpas(kube: Kube, namespace: str, hpas: list[str], facts: ClusterFacts) -> None:
    """Each HPA a command targeted: the deployment it scales, and its figures now."""
    for name in hpas:
        try:
            hpa = kube.get("horizontalpodautoscalers", name, namespace)
        except errors.IncidentError:
            continue  # gone: nothing to follow or to report
        row = hpa_row(hpa)
        if row.target.startswith("deployment/"):
            facts.scale_targets[name] = row.target.removeprefix("deployment/")
        figures = ", ".join(row.targets) or "no metric reported"
        facts.load[name] = [
            f"HPA {name}: {row.current_replicas} replicas (desired {row.desired_replicas}, min "
            f"{row.min_replicas}, max {row.max_replicas}), {figures}"
        ]


def add_usage(facts: ClusterFacts, rows: list[CommandRow], states: list[DeploymentState]) -> None:
    """Load figures of what a scale acted on: verify_recovery's resources check of the deployment (an HPA's own)."""
    for row in rows:
        target = row.plan.get("target") or {}
        name = str(target.get("name"))
        deployment = facts.scale_targets.get(name, name) if target.get("kind") != "Deployment" else name
        for state in states:
            if state.deployment == deployment and row.tool in ("scale_deployment", "override_hpa", "set_memory_limit"):
                usage = [f"{deployment} {c.detail}" for c in state.checks if c.name == "resources" and c.passed]
                facts.load[name] = list(dict.fromkeys([*facts.load.get(name, []), *usage]))


def verified(
    deps: Deps, namespace: str, name: str, facts: ClusterFacts, warnings: ListResult | None
) -> DeploymentState:
    """verify_recovery's checks on what the handoff already read; nothing is recorded (the handoff writes nothing)."""
    deploy = facts.deployments.get(name)
    if deploy is None:
        return DeploymentState(
            deployment=name, verdict=None, summary="not verified", checks=[], error="the deployment could not be read"
        )
    kind = facts.kinds.get(name, "deployment")
    try:
        report = recovery.judge(
            deps, namespace, name, deploy, facts.replicasets[name], warnings=warnings, kind=workload_kind(kind)
        )
    except errors.IncidentError as e:
        return DeploymentState(deployment=name, verdict=None, summary="not verified", checks=[], error=clean(e))
    checks = [
        c.model_copy(update={"detail": clean(c.detail), "evidence": [clean(line) for line in c.evidence]})
        for c in report.checks
    ]
    head = f"{name}: {report.verdict} - " if kind == "deployment" else f"{kind} {name}: {report.verdict} - "
    return DeploymentState(
        deployment=name,
        kind=kind,
        verdict=report.verdict,
        checks=checks,
        summary=clean(report.summary.removeprefix(head)),
        stable_since=report.stable_since,
        services=report.services,
    )


def workload_kind(kind: str) -> Literal["deployment", "statefulset", "daemonset"]:
    return "statefulset" if kind == "statefulset" else "daemonset" if kind == "daemonset" else "deployment"


def unverified(name: str) -> DeploymentState:
    return DeploymentState(
        deployment=name, verdict=None, summary="not verified", checks=[], error="no cluster connection"
    )
