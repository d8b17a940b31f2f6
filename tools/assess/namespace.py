"""assess_namespace: the playbook's rapid state assessment in one call, and the ONE primary action it points to.

Layer: tools.assess.
"""

from __future__ import annotations

import logging
import sqlite3
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, Field, PrivateAttr

from incident_response.tools.assess.changes import changes_read, recent_changes
from incident_response.tools.assess.demand import NodeRoom, demand_for
from incident_response.tools.assess.drained import drained_components
from incident_response.tools.assess.hpas import HpaRow, hpa_row, hpa_wanted
from incident_response.tools.assess.metrics import read_metrics
from incident_response.tools.assess.own_rollouts import own_templates, without_own_rollouts
from incident_response.tools.assess.page_work import PageWork
from incident_response.tools.assess.pods import FetchedPods, fetch_pods
from incident_response.tools.assess.poison_reads import crashes_on_its_own, event_messages, sample_logs, suspects
from incident_response.tools.assess.refusals import refusals
from incident_response.tools.assess.ruled_out import with_rulings
from incident_response.tools.assess.workload_minimum import KINDS, availabilities, counts
from incident_response.tools.assess.workload_rollouts import read_workloads, recent_workload_rollouts, workload_kinds
from incident_response.tools.core import errors
from incident_response.tools.core.collection import collection_held
from incident_response.tools.core.concurrency import submit
from incident_response.tools.core.masking import mask_text
from incident_response.tools.core.models import ToolResult
from incident_response.tools.engine.claim_modes import one_node_claims
from incident_response.tools.engine.deps import Deps
from incident_response.tools.engine.event_reads import read_warnings
from incident_response.tools.engine.rollback_answers import rulings
from incident_response.tools.k8s.backends import name_of, service_selector
from incident_response.tools.k8s.backends import ready as pod_ready
from incident_response.tools.k8s.budgets import refused_evictions
from incident_response.tools.k8s.changes import Change
from incident_response.tools.k8s.events import EventGroup, group_events
from incident_response.tools.k8s.failure_age import failing_for_minutes
from incident_response.tools.k8s.label_index import LabelIndex
from incident_response.tools.k8s.labels import matches as label_matches
from incident_response.tools.k8s.mounts import mount_failures
from incident_response.tools.k8s.oom_runs import last_oom, memory_use
from incident_response.tools.k8s.podstatus import PodRow, failing_init_container, oom_container
from incident_response.tools.k8s.quantity import memory_text, parse_quantity, parse_time
from incident_response.tools.k8s.unfinished import only_new_fail, unfinished_rollout
from incident_response.tools.k8s.usage import NEAR_LIMIT_PERCENT, PodUsage, usage_by_pod
from incident_response.tools.k8s.views import meta
from incident_response.tools.k8s.workloads import (
    RECENT_ROLLOUT_SECONDS,
    hpa_bounds,
    images_of,
    revision_of,
    rolling_back,
    rollout_time,
    template_claims,
    template_differences,
    template_spec,
)
from incident_response.tools.kube.client import Kube
from incident_response.tools.kube.paging import list_all
from incident_response.tools.playbook.cutover import Cutover, cutovers
from incident_response.tools.playbook.dark_services import DarkService, dark_services
from incident_response.tools.playbook.decision import Action, Decision, Facts, RecentRollout, group_by
from incident_response.tools.playbook.known_good import known_good_targets
from incident_response.tools.playbook.node_pressure import (
    PressureProblem,
    pressed_nodes,
    pressure_problem,
    pressures,
)
from incident_response.tools.playbook.poisoning import Peers, find_poisonings
from incident_response.tools.playbook.quota_blocks import quota_blocks
from incident_response.tools.playbook.ranking import ComponentImpact, Problem, rank_problems, scaled
from incident_response.tools.playbook.rules import decide
from incident_response.tools.playbook.shared_config import shared_config_failures, shared_workload_failures
from incident_response.tools.playbook.suspects import NodeState, Placement, canary_pairs, node_problems
from incident_response.tools.playbook.trees_scale import Hpa, ScaleFacts, hpa_ceiling, sizing_of

logger = logging.getLogger(__name__)
T = TypeVar("T")

MAX_PROBLEM_PODS = 20
MAX_RECORDED_EVIDENCE = 5
MAX_TOP = 5
MAX_LISTED_ROLLOUTS = 10
MAX_LISTED_CHANGES = 8
MAX_LISTED_HPAS = 10
MAX_WARNING_REASONS = 10
WARNING_WINDOW = timedelta(minutes=60)
MAX_LISTED_PROBLEMS = 10
CONCURRENT_READS = 6  # the kinds read beside the pods
MAX_NODES_READ = 5  # nodes hosting failing pods read per assessment, those with the most failing pods first


class WarningReason(BaseModel):
    reason: str
    count: int
    objects: list[str] = Field(description="Up to five objects the warnings are about.")
    latest_message: str


class Assessment(ToolResult):
    namespace: str
    primary_action: Action
    decision: Decision = Field(description="The framework's decision for problems[0], the worst for users.")
    problems: list[Problem] = Field(
        default_factory=list,
        description=f"Every problem found, worst for users first (at most {MAX_LISTED_PROBLEMS}; problems_total "
        "counts them all), each with the action the framework picks for it.",
    )
    problems_total: int = 0
    pods_total: int
    status_counts: dict[str, int]
    problem_pods: list[PodRow] = Field(description="Pods not Running and ready, worst first (capped).")
    recent_rollouts: list[RecentRollout] = Field(
        description=f"Deployments rolled out in the last 2 hours (or unfinished), failing ones then newest first "
        f"(at most {MAX_LISTED_ROLLOUTS})."
    )
    recent_rollouts_total: int = Field(description="How many deployments rolled out in the last 2 hours in all.")
    recent_changes: list[str] = Field(
        default_factory=list, description="Other changes of the last 2 hours, newest first: what, when, who."
    )
    metrics_available: bool
    top_cpu: list[PodUsage]
    top_memory: list[PodUsage]
    hpas_at_max: list[HpaRow] = Field(description=f"HPAs at their maximum replicas (at most {MAX_LISTED_HPAS}).")
    hpas_at_max_total: int
    warnings: list[WarningReason] = Field(description="Warning events of the last hour grouped by reason.")
    not_readable: list[str] = Field(
        default_factory=list,
        description="What these credentials may not read (forbidden): blind spots of the assessment.",
    )
    # The changes with their times, for incident_handoff's timeline (not part of the result).
    _changes: list[Change] = PrivateAttr(default_factory=list)


def recent_rollouts(
    deployments: list[dict[str, Any]],
    replicasets: list[dict[str, Any]],
    failing: dict[str, list[str]],
    now: datetime,
    changed: dict[str, list[str]] | None = None,
) -> list[RecentRollout]:
    """The deployments rolled out in the last 2 hours; `changed` gets what each rollout changed in the pod template
    (the evidence names it: a checksum/config bump changes no image)."""
    found = []
    by_owner: dict[str, list[dict[str, Any]]] = {}  # one pass over the ReplicaSets, not one per deployment
    for rs in replicasets:
        for ref in meta(rs).owner_references:
            if ref.get("controller") and ref.get("uid"):
                by_owner.setdefault(str(ref["uid"]), []).append(rs)
    for deploy in deployments:
        revision = revision_of(deploy)
        owned = by_owner.get(str(meta(deploy).uid), [])
        when = rollout_time(deploy, owned)
        if revision is None or when is None:
            continue  # a new deployment (revision 1) counts: it is a deploy, though with nothing to roll back to
        seconds = (now - when).total_seconds()
        name = str(meta(deploy).name)
        # An unfinished rollout whose new pods alone fail is the current change whatever its age (F27).
        unfinished = unfinished_rollout(deploy, owned)
        stalled = unfinished is not None and only_new_fail(unfinished, failing.get(name, []))
        if seconds > RECENT_ROLLOUT_SECONDS and not stalled:
            continue
        earlier = [rs for rs in owned if (revision_of(rs) or 0) < revision]
        previous = sorted(earlier, key=lambda rs: revision_of(rs) or 0)
        if changed is not None and previous:
            changed[name] = template_differences(
                (previous[-1].get("spec") or {}).get("template") or {}, (deploy.get("spec") or {}).get("template") or {}
            )
        found.append(
            RecentRollout(
                deployment=name,
                revision=revision,
                minutes_ago=max(0, int(seconds // 60)),
                images=images_of((deploy.get("spec") or {}).get("template") or {}),
                previous_images=images_of((previous[-1].get("spec") or {}).get("template") or {}) if previous else [],
                failing_pods=len(failing.get(name, [])),
                unavailable_replicas=int((deploy.get("status") or {}).get("unavailableReplicas") or 0),
                rolling_back=rolling_back(deploy, owned, failing.get(name, [])),
                unfinished=stalled and seconds > RECENT_ROLLOUT_SECONDS,
            )
        )
    return found


def warning_reasons(groups: list[EventGroup]) -> list[WarningReason]:
    by_reason: dict[str, WarningReason] = {}
    for group in groups:
        if group.type != "Warning":
            continue
        entry = by_reason.setdefault(
            group.reason, WarningReason(reason=group.reason, count=0, objects=[], latest_message=group.message)
        )
        entry.count += group.count
        if group.object not in entry.objects and len(entry.objects) < 5:
            entry.objects.append(group.object)
    return sorted(by_reason.values(), key=lambda w: -w.count)[:MAX_WARNING_REASONS]


@dataclass
class Observation:
    """One read of a namespace, shaped: what assess_namespace reports and evaluate_decision walks its trees on."""

    namespace: str
    now: datetime
    fetched: FetchedPods
    pods: list[dict[str, Any]]
    rows: list[PodRow]
    components: dict[str, str]  # pod name -> component (owning deployment, else app label)
    deployments: list[dict[str, Any]]
    replicasets: list[dict[str, Any]]
    services: list[dict[str, Any]]
    hpas: list[dict[str, Any]]
    metrics_available: bool
    usage: list[PodUsage]
    groups: list[EventGroup]
    facts: Facts
    unreadable: list[str]  # what these credentials may not read: the assessment is blind there
    # (kind, name) -> the workload's pod template now: Deployments, StatefulSets, DaemonSets
    templates: dict[tuple[str, str], Any] = field(default_factory=dict)
    # Services with no endpoint made by a change (scaled to zero, a selector matching no pod): outages of their own
    dark: list[DarkService] = field(default_factory=list)
    # Nodes under memory/disk/PID pressure running the namespace's pods: at risk of evictions
    pressed: list[PressureProblem] = field(default_factory=list)
    # Ingresses cut over in the window to a Service with no Ready pod: outages of their own (blue/green rollback)
    cutovers: list[Cutover] = field(default_factory=list)
    # StatefulSets, DaemonSets, their ControllerRevisions and the PodDisruptionBudgets, by resource
    workloads: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def pods_of(self, component: str) -> list[dict[str, Any]]:
        return [pod for pod, row in zip(self.pods, self.rows, strict=True) if self.components[row.name] == component]

    def deployment(self, name: str) -> dict[str, Any] | None:
        return next((d for d in self.deployments if meta(d).name == name), None)


def read_usage(kube: Kube, namespace: str) -> dict[str, tuple[float, float]] | None:
    """Each pod's (cpu, memory) usage from metrics.k8s.io, None without the metrics API; the metrics items are not
    kept (at 10,000 pods they would double the read's memory)."""
    metrics = read_metrics(kube, "pods.metrics.k8s.io", namespace, None)
    return None if metrics is None else usage_by_pod(metrics)


def read_nodes(
    kube: Kube,
    placements: list[Placement],
    pods: list[dict[str, Any]],
    groups: list[EventGroup],
    now: datetime,
    blind: list[str],
) -> dict[str, NodeState]:
    """The nodes hosting failing pods: conditions, taints, cordon. A node not read (forbidden, gone, or past the cap)
    is judged by its pods instead: deletions overdue there, NodeNotReady events about them."""
    failing = Counter(p.node for p in placements if p.failing and p.node)
    overdue = {
        str(meta(pod).name)
        for pod in pods
        if (gone := parse_time(meta(pod).deletion_timestamp)) is not None and gone < now
    }
    reported = {g.object.removeprefix("pod/") for g in groups if g.reason == "NodeNotReady"}
    states: dict[str, NodeState] = {}
    for index, (node, _) in enumerate(sorted(failing.items(), key=lambda item: (-item[1], item[0]))):
        if index < MAX_NODES_READ and "nodes" not in blind:
            try:
                found = kube.get("nodes", node)
                unschedulable = bool((found.get("spec") or {}).get("unschedulable"))
                states[node] = NodeState(node_problems(found), cordoned=unschedulable)
                continue
            except errors.Forbidden:
                blind.append("nodes")
            except errors.NotFound:
                pass
        here = {p.pod for p in placements if p.node == node and p.failing}
        signs = []
        if here & overdue:
            signs.append("pods there are past their deletion time (its kubelet does not answer)")
        if here & reported:
            signs.append("NodeNotReady events about its pods")
        states[node] = NodeState(signs, read=False)
    return states


def pressured_nodes(kube: Kube) -> list[dict[str, Any]] | None:
    """The nodes reporting memory, disk or PID pressure (the list read page by page, only those kept); None when
    these credentials may not list nodes."""
    try:
        return list_all(kube, "nodes", keep=lambda n: n if pressures(n) else None).items
    except errors.Forbidden:
        return None


def read_pressure(
    namespace: str,
    nodes: list[dict[str, Any]] | None,
    pods: list[dict[str, Any]],
    components: dict[str, str],
    blind: list[str],
) -> list[PressureProblem]:
    """The pressured nodes running the namespace's pods, each a problem at risk."""
    if nodes is None:
        if "nodes" not in blind:
            blind.append("nodes")
        return []
    return [pressure_problem(namespace, p) for p in pressed_nodes(nodes, pods, components)]


def replaced(row: PodRow) -> bool:
    """A Deployment's pod being deleted is no failure of it: its ReplicaSet no longer counts it and has replaced it
    (a replacement that fails is the problem). On a node whose kubelet is down it stays Terminating for good."""
    return row.status in ("Terminating", "Unknown") and (row.owner or "").startswith(("deployment/", "replicaset/"))


CONFIG_ERRORS = ("CreateContainerConfigError", "CreateContainerError")


def config_errors(pods: list[dict[str, Any]], components: dict[str, str]) -> dict[str, str]:
    """Per component, one pod whose container the kubelet cannot create, with the kubelet's message ("couldn't find
    key PAYMENTS_URL in ConfigMap shop/checkout-config")."""
    found: dict[str, str] = {}
    for pod in pods:
        status = pod.get("status") or {}
        for c in [*(status.get("initContainerStatuses") or []), *(status.get("containerStatuses") or [])]:
            waiting = (c.get("state") or {}).get("waiting") or {}
            if waiting.get("reason") in CONFIG_ERRORS and waiting.get("message"):
                name = str(meta(pod).name)
                found.setdefault(components[name], f"{name}: {waiting['message']} ({waiting['reason']})")
    return found


def evicted_pods(pods: list[dict[str, Any]], components: dict[str, str]) -> dict[str, tuple[int, str]]:
    """Per component, how many of its pods the kubelet evicted (phase Failed, reason Evicted) and one's message."""
    found: dict[str, tuple[int, str]] = {}
    for pod in pods:
        status = pod.get("status") or {}
        if status.get("phase") == "Failed" and status.get("reason") == "Evicted":
            component = components[str(meta(pod).name)]
            count, sample = found.get(component, (0, f"{meta(pod).name}: {status.get('message') or 'Evicted'}"))
            found[component] = (count + 1, sample)
    return found


def unschedulable_pods(pods: list[dict[str, Any]], components: dict[str, str]) -> dict[str, list[str]]:
    """Per component, its Pending pods the scheduler found no node for (PodScheduled False, Unschedulable)."""
    found: dict[str, list[str]] = {}
    for pod in pods:
        status = pod.get("status") or {}
        if status.get("phase") != "Pending":
            continue
        if any(
            c.get("type") == "PodScheduled" and c.get("status") == "False" and c.get("reason") == "Unschedulable"
            for c in status.get("conditions") or []
        ):
            name = str(meta(pod).name)
            found.setdefault(components[name], []).append(name)
    return found


def observe_namespace(kube: Kube, namespace: str) -> Observation:
    """Read the namespace once (pods, deployments, ReplicaSets, Services, HPAs, metrics, Warning events, and the
    nodes its failing pods run on) and shape the facts the playbook's decisions are made on."""
    now = datetime.now(UTC)
    blind: list[str] = []
    workload_blind: list[str] = []
    blind_changes: list[str] = []
    # The other kinds are read while the pods are paged through: a large namespace costs its pod pages, not more.
    # No cyclic garbage collection while the reads build tens of thousands of acyclic objects (tools.core.collection).
    with collection_held(), ThreadPoolExecutor(max_workers=CONCURRENT_READS, thread_name_prefix="assess-read") as pool:
        deployments_read = submit(pool, list_all, kube, "deployments", namespace)
        replicasets_read = submit(pool, list_all, kube, "replicasets", namespace)
        services_read = submit(pool, list_all, kube, "services", namespace)
        workloads_read = submit(pool, read_workloads, kube, namespace, optional, workload_blind)
        metrics_read = submit(pool, read_usage, kube, namespace)
        hpas_read = submit(pool, list_all, kube, "horizontalpodautoscalers", namespace)
        events_read = submit(pool, lambda: read_warnings(kube, namespace).items)
        changes_reads = submit(pool, changes_read(kube, namespace, blind_changes))
        pressure_read = submit(pool, pressured_nodes, kube)
        work = PageWork(metrics_read)  # components and usage made page by page, beside the reads
        fetched = fetch_pods(kube, namespace, now=now, on_page=work.page)
        deployments = deployments_read.result().items
        replicasets = replicasets_read.result().items
        # In the order the reads were made before they ran together, so `not_readable` reads the same.
        services = optional(lambda: services_read.result().items, "services", blind) or []
        workloads = workloads_read.result()
        blind.extend(workload_blind)
        metrics = optional(metrics_read.result, "pod metrics", blind)
        hpas = optional(lambda: hpas_read.result().items, "HPAs", blind) or []
        events = optional(events_read.result, "events", blind) or []
        changed = changes_reads.result()
        blind.extend(blind_changes)
    pods = [pod for pod, _ in fetched.pods]
    rows = fetched.rows
    components = work.components
    problems = [row for row in rows if row.problem and not replaced(row)]
    failing = group_by(
        [
            (components[row.name], f"{row.name} {row.status} ({row.ready} ready, {row.restarts} restarts)")
            for row in problems
        ]
    )

    if not pods and not deployments:
        require_namespace(kube, namespace)
    rollout_changes: dict[str, list[str]] = {}
    rollouts = recent_rollouts(deployments, replicasets, failing, now, rollout_changes)
    rollouts += recent_workload_rollouts(workloads, failing, now)
    templates = {
        (kind, str(meta(w).name)): (w.get("spec") or {}).get("template")
        for kind, objects in (
            ("deployment", deployments),
            ("statefulset", workloads.get("statefulsets", [])),
            ("daemonset", workloads.get("daemonsets", [])),
        )
        for w in objects
    }
    changes = recent_changes(
        kube,
        namespace,
        now,
        changed,
        budgets=workloads.get("poddisruptionbudgets", []),
        services=services,
        deployments=deployments,
        replicasets=replicasets,
        pods=pods,
        components=components,
        failing_templates={name: t for (_, name), t in templates.items() if name in failing and t},
        rolled_out={r.deployment for r in rollouts},
        autoscaled=frozenset(scaled(hpa_row(h).target) for h in hpas),
    )

    usage = work.finish(metrics or {})
    # Pods at their CPU limit are a load problem only for a workload that serves: a Job's (or a bare) pod running
    # flat out is batch work doing its job, and nothing here could scale it.
    serving = {str(meta(d).name) for d in deployments} | set(workload_kinds(workloads))
    near_limit = group_by(
        [
            (
                components.get(u.name, u.name),
                f"{u.name} cpu {u.cpu} is {u.cpu_percent_of_limit}% of its limit {u.cpu_limit}",
            )
            for u in usage
            if (u.cpu_percent_of_limit or 0) >= NEAR_LIMIT_PERCENT and components.get(u.name, u.name) in serving
        ]
    )
    saturated = [
        (h.name, h.target, f"{h.current_replicas}/{h.max_replicas} replicas, {'; '.join(h.targets)}")
        for h in map(hpa_row, hpas)
        if h.saturated
    ]
    oom = group_by(
        [
            (components[row.name], row.name)
            for row in rows
            # A replaced pod's old kill is no kill of what runs (a raise's rollout deletes the killed pods)
            if row.last_termination and row.last_termination.reason == "OOMKilled" and not replaced(row)
        ]
    )
    memory_now = {u.name: memory_use(u) for u in usage}
    killed = {name for names in oom.values() for name in names}
    oom_runs = {
        run.pod: run
        for pod in pods
        if name_of(pod) in killed and (run := last_oom(pod, now, memory_now.get(name_of(pod), "")))
    }

    groups = group_events(events, now, WARNING_WINDOW)
    for group in groups:  # event messages are quoted as evidence: mask credentials as logs are
        group.message = mask_text(group.message)
    peers = Peers(
        component_of_pod=components,
        component_of_ip=work.component_of_ip,
        pod_of_ip=work.pod_of_ip,
        labels_of_pod=work.labels_of_pod,
    )
    crashing = {row.name for row in problems if crashes_on_its_own(row, now)}
    blamable = suspects(rollouts, failing)
    poisonings = find_poisonings(event_messages(groups), peers, set(failing), crashing=crashing, suspects=blamable)
    crash_lines: dict[str, str] = {}
    if not poisonings and failing and not rollouts:
        sample = sample_logs(kube, namespace, problems, components, now)
        crash_lines = sample.crash_lines
        poisonings = find_poisonings(sample.messages, peers, set(failing), crashing=crashing, suspects=blamable)
    for poisoning in poisonings:
        poisoning.services = fronting(services, [peers.labels_of_pod.get(p, {}) for p in poisoning.culprit_pods])
    placements = [
        Placement(r.name, components[r.name], r.node, r.status, r.problem, r.ready, r.restarts, init or "")
        for pod, r in zip(pods, rows, strict=True)
        for init in [failing_init_container(pod) if r.problem else None]
    ]
    nodes = read_nodes(kube, placements, pods, groups, now, blind)

    rollback_targets = known_good_targets(
        deployments, replicasets, workloads, pods, {(r.kind, r.deployment) for r in rollouts}, now
    )
    facts = Facts(
        namespace=namespace,
        failing=failing,
        recent_rollouts=rollouts,
        near_limit=near_limit,
        saturated_hpas=saturated,
        oom_killed=oom,
        oom_runs=oom_runs,
        poisonings=poisonings,
        unread=unread_text(fetched),
        unavailable=unavailable_without_failing_pods(deployments, set(failing)),
        placements=placements,
        nodes=nodes,
        canaries=canary_pairs(deployments, services, replicasets, now),
        workloads=workload_kinds(workloads),
        failing_for=failing_for_minutes(events, components, set(failing), now),
        crash_lines=crash_lines,
        rollback_targets=rollback_targets,
        # which of its pods a drain could not evict now (a failed node's own unready pods can hold a budget down)
        evictions_refused=refused_evictions(pods, workloads.get("poddisruptionbudgets", [])) if nodes else {},
        paused={str(meta(d).name) for d in deployments if (d.get("spec") or {}).get("paused")},
        # read only for a deployment at its CPU limit: the one rule that asks
        shared_claims={
            name: claims
            for d in deployments
            if (name := str(meta(d).name)) in near_limit
            and (claims := one_node_claims(kube, namespace, template_claims(d)))
        },
        config_errors=config_errors(pods, components),
        shared_config=shared_config_failures(
            deployments,
            replicasets,
            pods,
            components,
            {r.deployment for r in rollouts if r.kind == "deployment"},
            rollback_targets,
            mount_failures(events, pods),
        )
        | shared_workload_failures(
            workloads,
            pods,
            components,
            {(r.kind, r.deployment) for r in rollouts if r.kind != "deployment"},
            rollback_targets,
            mount_failures(events, pods),
        ),
        evicted=evicted_pods(pods, components),
        deployments={str(meta(d).name) for d in deployments},
        changes=changes,
        rollout_changes=rollout_changes,
        now=now,
        unschedulable=unschedulable_pods(pods, components),
        refusals=refusals(kube, pods, components),
        quota_blocked=quota_blocks(deployments),
    )
    return Observation(
        namespace=namespace,
        now=now,
        fetched=fetched,
        pods=pods,
        rows=rows,
        components=components,
        deployments=deployments,
        replicasets=replicasets,
        services=services,
        hpas=hpas,
        metrics_available=metrics is not None,
        usage=usage,
        groups=groups,
        facts=facts,
        unreadable=blind,
        workloads=workloads,
        templates=templates,
        dark=dark_services(
            namespace,
            services,
            deployments,
            pods,
            changes,
            now,
            warned={
                g.object.removeprefix("pod/") for g in groups if g.type == "Warning" and g.object.startswith("pod/")
            },
            replicasets=replicasets,
        ),
        pressed=read_pressure(namespace, pressure_read.result(), pods, components, blind),
        cutovers=cutovers(namespace, changed[2], services, pods, components, changes, now),
    )


def impacts_of(seen: Observation) -> dict[str, ComponentImpact]:
    """How each component's users are hurt: behind a Service with no ready endpoint (outage), a deployment below
    (or StatefulSet, DaemonSet) below the available minimum its rolling update or disruption budget promises, or
    degraded (some pods failing, the minimum holds)."""
    found: dict[str, ComponentImpact] = {}
    # Every kind read the same way (tools/assess/workload_minimum.py): a DaemonSet with none of its pods available
    # is below its minimum as a deployment would be, not "degraded".
    for seen_as in availabilities({**seen.workloads, "deployments": seen.deployments}):
        name, kind, unit = seen_as.name, seen_as.kind, seen_as.unit()
        counted = f"{seen_as.available} of {seen_as.wanted} {unit} available"
        if seen_as.short():
            found[name] = ComponentImpact(
                "below_minimum", f"{kind} {name} has {counted}, below its minimum of {seen_as.minimum} ({seen_as.why})"
            )
        elif name in seen.facts.failing or name in seen.facts.unavailable:
            failing = len(seen.facts.failing.get(name, []))
            evicted = seen.facts.evicted.get(name, (0, ""))[0]
            if evicted >= failing and seen_as.available >= seen_as.wanted and name not in seen.facts.unavailable:
                # Only an eviction's leftovers fail, already replaced: nothing serves less, the cause may recur.
                found[name] = ComponentImpact("at_risk", f"{kind} {name}: {evicted} evicted pods left, {counted}")
                continue
            found[name] = ComponentImpact(
                "degraded", f"{kind} {name}: {failing} pods failing, {counted} (its minimum is {seen_as.minimum})"
            )
    index = LabelIndex(seen.pods)
    for service in seen.services:
        selector = service_selector(service)
        if not selector:
            continue
        behind = index.matching(selector)
        served = {seen.components[str(meta(pod).name)] for pod in behind}
        for kind, workload in workload_objects(seen):  # one with no pod at all serves nothing, too
            labels = ((((workload.get("spec") or {}).get("template") or {}).get("metadata") or {}).get("labels")) or {}
            if counts(kind, workload)[0] and label_matches(selector, labels):
                served.add(str(meta(workload).name))
        if not served or any(pod_ready(pod) for pod in behind):
            continue
        text = f"service {name_of(service)} has no ready endpoint ({len(behind)} pods behind it, none ready)"
        for component in served:
            found[component] = ComponentImpact("outage", text)
    return found


def workload_objects(seen: Observation) -> list[tuple[str, dict[str, Any]]]:
    """(kind, object) of every Deployment, StatefulSet and DaemonSet read."""
    read = {**seen.workloads, "deployments": seen.deployments}
    return [(kind, workload) for kind, resource in KINDS.items() for workload in read.get(resource, [])]


def mitigated_components(deps: Deps, seen: Observation) -> frozenset[str]:
    """Components a succeeded command of the current incident acted on in this namespace: a Deployment (StatefulSet,
    DaemonSet), the deployment an HPA scales, the components behind a Service, those whose pods a drain evicted."""
    try:
        rows = deps.scope().commands(
            deps.journal.commands(states=["succeeded"], incident=deps.journal.current_incident(seen.namespace))
        )
    except (OSError, sqlite3.Error) as e:
        logger.warning("could not read the journal's mitigations: %s", e)
        return frozenset()
    found: set[str] = set()
    for row in rows:
        target = row.plan.get("target") or {}
        if target.get("kind") == "Node":  # a drain moved pods of the namespace: their replacements are verified
            found |= drained_components(
                row.plan, seen.namespace, seen.components, seen.replicasets, seen.facts.workloads
            )
            continue
        if target.get("namespace") != seen.namespace:
            continue
        kind, name = str(target.get("kind") or ""), str(target.get("name") or "")
        if kind in ("Deployment", "StatefulSet", "DaemonSet"):
            found.add(name)
        elif kind == "HorizontalPodAutoscaler":
            found.update(scaled(hpa_row(h).target) for h in seen.hpas if meta(h).name == name)
        elif kind == "Service":
            service = next((s for s in seen.services if meta(s).name == name), None)
            if service is not None and (selector := service_selector(service)):
                found.update(
                    seen.components[str(meta(p).name)]
                    for p in seen.pods
                    if label_matches(selector, dict(meta(p).labels))
                )
    return frozenset(found)


def completed(seen: Observation, decision: Decision, room: NodeRoom | None = None) -> Decision:
    """The decision with every argument its next tool requires, so it can be planned without another hop:
    set_memory_limit's container (the one OOMKilled) and limit (double its current one), override_hpa's bounds and
    scale_deployment's replicas when the rule named none (sized as the SCALE tree sizes them, within node room when
    `room` is given; the evidence says where the count came from)."""
    arguments = dict(decision.next_arguments)
    evidence = list(decision.evidence)  # a scale's count says where it came from (tools/playbook/sizing.py)
    name = arguments.get("deployment")
    deploy = seen.deployment(str(name)) if name else None
    if decision.next_tool == "set_memory_limit" and deploy is None and arguments.get("kind") and name:
        # A StatefulSet's or DaemonSet's template is its pods' (one read of the namespace has them).
        pods = seen.pods_of(str(name))
        deploy = {"spec": {"template": {"spec": pods[0].get("spec") or {}}}} if pods else None
    if decision.next_tool == "set_memory_limit" and deploy is not None:
        containers = template_spec(deploy).get("containers") or [{}]
        killed = oom_container(seen.pods_of(str(name)))
        container = next((c for c in containers if c.get("name") == killed), containers[0])
        limit = ((container.get("resources") or {}).get("limits") or {}).get("memory")
        if container.get("name"):
            arguments["container"] = str(container["name"])
        if limit and (current := parse_quantity(limit)):
            arguments["limit"] = memory_text(2 * current)
    elif decision.next_tool == "override_hpa":
        hpa = next((h for h in seen.hpas if meta(h).name == arguments.get("hpa")), None)
        target = scaled(hpa_row(hpa).target) if hpa is not None else ""
        if hpa is not None and (demand := demand_for(seen, target, room)) is not None:
            low, high = hpa_bounds(hpa)
            wanted = hpa_wanted(hpa)
            facts = ScaleFacts(target, demand.replicas, True, wanted=wanted, fits=demand.fits, demand=demand)
            facts.hpa = Hpa(str(meta(hpa).name), low, high, True, "")
            sizing = sizing_of(facts)
            replicas = sizing.replicas
            evidence.append(f"Sized from what is known: {sizing.text()}")
            arguments["min_replicas"] = max(low, replicas)
            arguments["max_replicas"] = hpa_ceiling(facts, replicas)
    elif decision.next_tool == "scale_deployment" and deploy is not None and "replicas" not in arguments:
        # A rule that names its count (a scale back to what a hand scale took away) says why in its reason; sizing
        # it again here would plan another count than the reason states.
        demand = demand_for(seen, str(name), room)
        assert demand is not None
        facts = ScaleFacts(str(name), demand.replicas, seen.metrics_available, fits=demand.fits, demand=demand)
        sizing = sizing_of(facts)
        arguments["replicas"] = sizing.replicas
        evidence.append(f"Sized from what is known: {sizing.text()}")
    return decision.model_copy(update={"next_arguments": arguments, "evidence": evidence})


def ranked(
    seen: Observation, mitigated: frozenset[str] = frozenset(), room: NodeRoom | None = None
) -> tuple[Decision, list[tuple[Problem, Decision]]]:
    """The primary decision (for the worst problem) and every problem, worst first. With `room` (node room, read
    on first use), a scale is sized within what fits, as evaluate_decision sizes it."""
    problems = [
        (p, completed(seen, d, room))
        for p, d in rank_problems(seen.facts, impacts_of(seen), mitigated, seen.dark, seen.pressed, seen.cutovers)
    ]
    for problem, decision in problems:
        problem.next_arguments = dict(decision.next_arguments)
    return (problems[0][1] if problems else decide(seen.facts)), problems


def optional(read: Callable[[], T | None], what: str, blind: list[str]) -> T | None:
    """A read the assessment can do without: forbidden for these credentials, it is noted in `blind` and skipped,
    so one missing RBAC rule does not cost the whole assessment."""
    try:
        return read()
    except errors.Forbidden:
        blind.append(what)
        return None


def unavailable_without_failing_pods(deployments: list[dict[str, Any]], failing: set[str]) -> dict[str, int]:
    """Deployments short of available replicas with no failing pod to show for it (pods never created)."""
    found = {}
    for deploy in deployments:
        name = str(meta(deploy).name)
        missing = int((deploy.get("status") or {}).get("unavailableReplicas") or 0)
        if missing and name not in failing:
            found[name] = missing
    return found


def unread_text(fetched: FetchedPods) -> str | None:
    if not fetched.truncated:
        return None
    if fetched.remaining is not None:
        return f"{fetched.remaining} more pods"
    return "more pods (the API did not say how many)"


def require_namespace(kube: Kube, namespace: str) -> None:
    """A namespace that does not exist lists nothing, which would read as healthy: say it is not there instead."""
    try:
        kube.get("namespaces", namespace)
    except errors.NotFound:
        raise errors.NotFound(
            f"namespace {namespace!r} does not exist in this cluster, so there is nothing to assess: check the name "
            "(kubectl get namespaces lists them) and call again",
            code=404,
            reason="NotFound",
            verb="get",
            resource="namespaces",
            name=namespace,
        ) from None
    except errors.Forbidden:
        pass  # may not read namespaces: an empty namespace is then taken as it is


def fronting(services: list[dict[str, Any]], pod_labels: list[dict[str, str]]) -> list[str]:
    """Names of the Services whose selector picks any of these pods (where taking them out of traffic happens)."""
    found = []
    for service in services:
        selector = service_selector(service)
        if selector and any(label_matches(selector, pl) for pl in pod_labels):
            found.append(name_of(service))
    return sorted(found)


def assess_namespace(
    deps: Deps,
    namespace: Annotated[str, Field(description="Namespace of the incident.")],
) -> Assessment:
    """Rapid state assessment in one call: failing pods with kubectl's STATUS, deployments rolled out in the last 2
    hours, top CPU/memory against limits, HPAs at max, recent Warning events; then ONE primary action (ROLLBACK,
    SCALE, ISOLATE, INVESTIGATE or NONE) by the playbook's decision framework, with its evidence and the next tool to
    call.
    Call this first. It changes nothing in the cluster; its decision is noted on the incident's timeline."""
    assessment = build_assessment(deps.kube, namespace, deps)
    record_decision(deps, namespace, assessment.decision)
    return assessment


def record_decision(deps: Deps, namespace: str, decision: Decision) -> None:
    """Put the decision on the incident's timeline when it differs from the last one recorded for this namespace:
    once the mitigation works, a fresh assessment says NONE, and the handoff must still say what the response was
    based on. Bookkeeping like the server's tool-call log: a journal that cannot be written does not fail the call."""
    detail: dict[str, Any] = {
        "namespace": namespace,
        "primary_action": decision.primary_action,
        "rule": decision.rule,
        "target": decision.target,
        "next_tool": decision.next_tool,
        "reason": decision.reason,
        "evidence": decision.evidence[:MAX_RECORDED_EVIDENCE],
        "cluster": deps.cluster_record(),
    }
    key = ("primary_action", "rule", "target")
    try:
        journal = deps.journal
        incident = journal.current_incident(namespace)
        previous = [e.detail or {} for e in journal.events(incident=incident) if e.kind == "assessed"]
        last = next(
            (d for d in reversed(previous) if (d.get("namespace"), d.get("cluster")) == (namespace, detail["cluster"])),
            None,
        )
        if last is None or [last.get(k) for k in key] != [detail[k] for k in key]:
            journal.record_event("assessed", incident=incident, detail=detail)
    except (OSError, sqlite3.Error) as e:
        logger.warning("could not record the assessment of %s: %s", namespace, e)


def build_assessment(kube: Kube, namespace: str, deps: Deps | None = None) -> Assessment:
    """The assessment itself: reads only, records nothing (incident_handoff uses it as it stands now). With `deps`,
    problems a mitigation of the current incident acted on rank after the others."""
    # The collector is held until the read's objects are freed with the call: held for the read alone, the first
    # collections after it examine every pod still kept (tools.core.collection).
    with collection_held():
        return assessment_of(kube, namespace, deps)


def assessment_of(kube: Kube, namespace: str, deps: Deps | None) -> Assessment:
    seen = observe_namespace(kube, namespace)
    mitigated = mitigated_components(deps, seen) if deps is not None else frozenset()
    judged = without_own_rollouts(seen, own_templates(deps, namespace)) if deps is not None else seen
    judged = with_rulings(judged, rulings(deps, namespace)) if deps is not None else judged
    decision, ranking = ranked(judged, mitigated, NodeRoom(kube))
    rows = seen.rows
    problems = [row for row in rows if row.problem]
    counts = Counter(row.status for row in rows)
    summary = f"{decision.primary_action}: {decision.reason}"
    if decision.next_tool:
        summary += f". Next: {decision.next_tool}({', '.join(f'{k}={v}' for k, v in decision.next_arguments.items())})"
    if ranking:
        summary += f". {problems_text([p for p, _ in ranking])}"
    summary += f". {len(problems)}/{len(rows)} pods with problems"
    if len(problems) > MAX_PROBLEM_PODS:
        summary += (
            f" (the {MAX_PROBLEM_PODS} worst in problem_pods, {len(problems) - MAX_PROBLEM_PODS} more counted only)"
        )
    if seen.fetched.truncated:
        summary += " (pod list truncated)"
    rollouts = sorted(
        seen.facts.recent_rollouts, key=lambda r: (not (r.failing_pods or r.unavailable_replicas), r.minutes_ago)
    )
    if len(rollouts) > MAX_LISTED_ROLLOUTS:
        summary += f". {len(rollouts)} deployments rolled out in the last 2 hours ({MAX_LISTED_ROLLOUTS} listed)"
    if seen.facts.changes:
        shown = [c.text(seen.now) for c in seen.facts.changes[:3]]
        more = len(seen.facts.changes) - len(shown)
        summary += f". Changed in the last 2 hours (not rollouts): {'; '.join(shown)}" + (
            f"; {more} more" if more else ""
        )
    at_max = [h for h in map(hpa_row, seen.hpas) if h.at_max]
    if len(at_max) > MAX_LISTED_HPAS:
        summary += f". {len(at_max)} HPAs at their maximum ({MAX_LISTED_HPAS} listed)"
    if seen.unreadable:
        summary += f". Not readable with these credentials: {', '.join(seen.unreadable)} (decided without them)"
    usage = seen.usage if seen.metrics_available else []
    result = Assessment(
        summary=summary,
        namespace=namespace,
        primary_action=decision.primary_action,
        decision=decision,
        problems=[p for p, _ in ranking][:MAX_LISTED_PROBLEMS],
        problems_total=len(ranking),
        pods_total=len(rows),
        status_counts=dict(counts),
        problem_pods=sorted(problems, key=lambda r: (-r.restarts, r.name))[:MAX_PROBLEM_PODS],
        recent_rollouts=rollouts[:MAX_LISTED_ROLLOUTS],
        recent_rollouts_total=len(rollouts),
        recent_changes=[c.text(seen.now) for c in seen.facts.changes[:MAX_LISTED_CHANGES]],
        metrics_available=seen.metrics_available,
        top_cpu=sorted(usage, key=lambda u: -(u.cpu_cores or 0))[:MAX_TOP],
        top_memory=sorted(usage, key=lambda u: -(u.memory_bytes or 0))[:MAX_TOP],
        hpas_at_max=at_max[:MAX_LISTED_HPAS],
        hpas_at_max_total=len(at_max),
        warnings=warning_reasons(seen.groups),
        not_readable=seen.unreadable,
    )
    result._changes = list(seen.facts.changes)
    return result


def problems_text(problems: list[Problem]) -> str:
    """Every problem in rank order, one clause each (the first MAX_LISTED_PROBLEMS, then how many more)."""
    shown = [
        f"{p.rank}) {p.impact.upper().replace('_', ' ')}: {p.detail} -> {p.action}"
        + (f" with {p.next_tool}" if p.next_tool else " (no tool plans it: its reason says what a human runs)")
        + (" (mitigated already: verify_recovery follows it)" if p.mitigated else "")
        for p in problems[:MAX_LISTED_PROBLEMS]
    ]
    more = f"; and {len(problems) - MAX_LISTED_PROBLEMS} more" if len(problems) > MAX_LISTED_PROBLEMS else ""
    head = "1 problem" if len(problems) == 1 else f"{len(problems)} problems, worst for users first"
    return f"{head}: {'; '.join(shown)}{more}"
