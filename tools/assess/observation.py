"""One read of a namespace, shaped: observe_namespace reads pods, workloads, Services, HPAs, metrics, Warning events
and the nodes its failing pods run on, and shapes the facts the playbook decides on (an Observation).

Layer: tools.assess.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from incident_response.tools.assess.changes import changes_read, recent_changes
from incident_response.tools.assess.cluster_dns import DnsOutage, dns_outage
from incident_response.tools.assess.deployment_rollouts import recent_rollouts
from incident_response.tools.assess.hpas import hpa_row
from incident_response.tools.assess.metrics import read_metrics
from incident_response.tools.assess.node_reads import pressured_nodes, read_nodes, read_pressure
from incident_response.tools.assess.page_work import PageWork
from incident_response.tools.assess.pod_signals import (
    config_errors,
    evicted_pods,
    job_failures,
    pull_errors,
    replaced,
    unavailable_without_failing_pods,
    unread_text,
    unschedulable_pods,
    waits_by_component,
)
from incident_response.tools.assess.pods import FetchedPods, fetch_pods
from incident_response.tools.assess.poison_reads import crashes_on_its_own, event_messages, sample_logs, suspects
from incident_response.tools.assess.refusals import refusals
from incident_response.tools.assess.upstream_reads import upstream_errors
from incident_response.tools.assess.workload_rollouts import read_workloads, recent_workload_rollouts, workload_kinds
from incident_response.tools.core import errors
from incident_response.tools.core.collection import collection_held
from incident_response.tools.core.concurrency import submit
from incident_response.tools.core.masking import mask_text
from incident_response.tools.engine.claim_modes import one_node_claims
from incident_response.tools.engine.event_reads import read_warnings
from incident_response.tools.k8s.backends import name_of, service_selector
from incident_response.tools.k8s.budgets import refused_evictions
from incident_response.tools.k8s.events import EventGroup, group_events
from incident_response.tools.k8s.failure_age import failing_for_minutes, failing_since
from incident_response.tools.k8s.image_digests import repushed_by_deployment
from incident_response.tools.k8s.labels import matches as label_matches
from incident_response.tools.k8s.limit_refusals import limit_refusal
from incident_response.tools.k8s.memory_climb import Sample, sample
from incident_response.tools.k8s.mounts import mount_failures
from incident_response.tools.k8s.oom_runs import last_oom, memory_use
from incident_response.tools.k8s.podstatus import PodRow, failing_init_container
from incident_response.tools.k8s.usage import NEAR_LIMIT_PERCENT, PodUsage, usage_by_pod
from incident_response.tools.k8s.views import meta
from incident_response.tools.k8s.workloads import (
    template_claims,
)
from incident_response.tools.kube.client import Kube
from incident_response.tools.kube.paging import list_all
from incident_response.tools.playbook.cutover import Cutover, cutovers
from incident_response.tools.playbook.dark_services import DarkService, dark_services
from incident_response.tools.playbook.decision import Facts, group_by
from incident_response.tools.playbook.known_good import known_good_targets
from incident_response.tools.playbook.node_pressure import (
    PressureProblem,
)
from incident_response.tools.playbook.poisoning import Peers, find_poisonings
from incident_response.tools.playbook.quota_blocks import quota_blocks
from incident_response.tools.playbook.ranking import scaled
from incident_response.tools.playbook.shared_config import shared_config_failures, shared_workload_failures
from incident_response.tools.playbook.suspects import Placement, canary_pairs, with_splits

T = TypeVar("T")

WARNING_WINDOW = timedelta(minutes=60)
CONCURRENT_READS = 6  # the kinds read beside the pods


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
    # cluster DNS has no ready endpoint (tools/assess/cluster_dns.py): what it breaks, else None
    cluster_dns: DnsOutage | None = None

    def pods_of(self, component: str) -> list[dict[str, Any]]:
        return [pod for pod, row in zip(self.pods, self.rows, strict=True) if self.components[row.name] == component]

    def deployment(self, name: str) -> dict[str, Any] | None:
        return next((d for d in self.deployments if meta(d).name == name), None)


def read_usage(kube: Kube, namespace: str) -> dict[str, tuple[float, float]] | None:
    """Each pod's (cpu, memory) usage from metrics.k8s.io, None without the metrics API; the metrics items are not
    kept (at 10,000 pods they would double the read's memory)."""
    metrics = read_metrics(kube, "pods.metrics.k8s.io", namespace, None)
    return None if metrics is None else usage_by_pod(metrics)


def observe_namespace(kube: Kube, namespace: str, allowed: tuple[str, ...] = ()) -> Observation:
    """Read the namespace once (pods, deployments, ReplicaSets, Services, HPAs, metrics, Warning events, and the
    nodes its failing pods run on) and shape the facts the playbook's decisions are made on. `allowed`: the server's
    namespace allow-list (empty: every namespace), for where a cluster-wide problem's next call may go."""
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
        dns_read = submit(pool, dns_outage, kube, namespace, allowed)
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
        templates={name: t for (_, name), t in templates.items() if t},
        rolled_out={r.deployment for r in rollouts},
        autoscaled=frozenset(scaled(hpa_row(h).target) for h in hpas),
        hpas=hpas,
        blind=blind,
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
    # computed once: both shared-config readings take them
    mounts = mount_failures(events, pods)
    rolled_deployments = {r.deployment for r in rollouts if r.kind == "deployment"}
    facts = Facts(
        namespace=namespace,
        failing=failing,
        recent_rollouts=rollouts,
        near_limit=near_limit,
        saturated_hpas=saturated,
        oom_killed=oom,
        oom_runs=oom_runs,
        memory_samples=memory_samples(pods, usage, components, set(oom), now),
        poisonings=poisonings,
        unread=unread_text(fetched),
        unavailable=unavailable_without_failing_pods(deployments, set(failing)),
        placements=placements,
        nodes=nodes,
        canaries=with_splits(canary_pairs(deployments, services, replicasets, now), deployments, changed[2], services),
        workloads=workload_kinds(workloads),
        failing_for=failing_for_minutes(events, components, set(failing), now),
        failing_since=failing_since(events, components, set(failing), now),
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
        config_errors=pull_errors(events, pods, components) | config_errors(pods, components),
        attach_waits=waits_by_component(events, pods, components),
        # one read per Job a Warning names (rare): the Job's status, not the event, says it failed
        job_failures=job_failures(events, lambda name: read_job(kube, namespace, name, blind)),
        repushed=repushed_by_deployment(deployments, replicasets, pods, rolled_deployments),
        shared_config=shared_config_failures(
            deployments,
            replicasets,
            pods,
            components,
            rolled_deployments,
            rollback_targets,
            mounts,
        )
        | shared_workload_failures(
            workloads,
            pods,
            components,
            {(r.kind, r.deployment) for r in rollouts if r.kind != "deployment"},
            rollback_targets,
            mounts,
        ),
        evicted=evicted_pods(pods, components),
        deployments={str(meta(d).name) for d in deployments},
        changes=changes,
        rollout_changes=rollout_changes,
        now=now,
        unschedulable=unschedulable_pods(pods, components),
        refusals=refusals(kube, pods, components),
        quota_blocked=quota_blocks(deployments),
        limit_refused={str(meta(d).name): why for d in deployments if (why := limit_refusal(d))},
    )
    facts.upstream_errors = upstream_errors(kube, facts, services, pods, components)
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
        cluster_dns=dns_read.result(),
    )


def optional(read: Callable[[], T | None], what: str, blind: list[str]) -> T | None:
    """A read the assessment can do without: forbidden for these credentials, it is noted in `blind` and skipped,
    so one missing RBAC rule does not cost the whole assessment."""
    try:
        return read()
    except errors.Forbidden:
        blind.append(what)
        return None


def read_job(kube: Kube, namespace: str, name: str, blind: list[str]) -> dict[str, Any] | None:
    """The Job `name` (a list by name: the read role lists jobs; the name comes from an event, so it is checked)."""
    if not re.fullmatch(r"[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?", name):  # no Job has it; a bad selector would fail
        return None
    listed = optional(lambda: kube.list("jobs", namespace, field_selector=f"metadata.name={name}"), "jobs", blind)
    return next((j for j in (listed.items if listed else []) if meta(j).name == name), None)


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


def memory_samples(
    pods: list[dict[str, Any]], usage: list[PodUsage], components: dict[str, str], killed: set[str], now: datetime
) -> dict[str, list[Sample]]:
    """Per component with OOMKilled pods, its running pods' memory now against their uptime (memory_climb)."""
    by_name = {u.name: u for u in usage}
    found: dict[str, list[Sample]] = {}
    for pod in pods:
        component = components.get(name_of(pod))
        if component in killed and (s := sample(pod, by_name.get(name_of(pod)), now)) is not None:
            found.setdefault(component, []).append(s)
    return found
