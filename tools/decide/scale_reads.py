"""The facts the SCALE tree walks for a Deployment: its load and OOM kills, its HPA, the demand and the node room
a count fits in, and a ResourceQuota that would refuse more pods.

Layer: tools.decide.
"""

from __future__ import annotations

from typing import Any

from incident_response.tools.assess.demand import NodeRoom, demand_for
from incident_response.tools.assess.hpas import hpa_row, hpa_wanted
from incident_response.tools.assess.observation import Observation
from incident_response.tools.core import errors
from incident_response.tools.decide.rollback_reads import (
    keeps_earlier_revision,
    minutes_since_rollout,
    stalled_evidence,
)
from incident_response.tools.engine import sizing_reads
from incident_response.tools.engine.claim_modes import one_node_claims
from incident_response.tools.k8s import backends, capacity
from incident_response.tools.k8s.memory_climb import Sample, sample
from incident_response.tools.k8s.oom_runs import OomRun, last_oom, memory_use
from incident_response.tools.k8s.podstatus import oom_container
from incident_response.tools.k8s.quantity import memory_text, parse_quantity
from incident_response.tools.k8s.usage import NEAR_LIMIT_PERCENT
from incident_response.tools.k8s.workloads import (
    current_replicas,
    hpa_bounds,
    managing_hpa,
    template_claims,
    template_spec,
)
from incident_response.tools.kube.client import Kube
from incident_response.tools.mitigate.scaling import quota_warning
from incident_response.tools.playbook.investigate import investigation
from incident_response.tools.playbook.load_decisions import changed_elsewhere
from incident_response.tools.playbook.trees import (
    RECENT_MINUTES,
)
from incident_response.tools.playbook.trees_scale import Hpa, ScaleFacts
from incident_response.tools.playbook.upstream_blame import fresh_elsewhere, scale_candidate

MAX_LISTED = 5


def oom_runs_of(seen: Observation, pods: list[dict[str, Any]]) -> list[OomRun]:
    """The last killed run of each OOMKilled pod, with its memory now."""
    use = {u.name: memory_use(u) for u in seen.usage}
    return sorted(
        (run for p in pods if (run := last_oom(p, seen.now, use.get(backends.name_of(p), "")))), key=lambda r: r.pod
    )


def samples_of(seen: Observation, pods: list[dict[str, Any]]) -> list[Sample]:
    """Each running pod's memory now against its uptime (memory_climb), where the metrics API answered."""
    usage = {u.name: u for u in seen.usage}
    return [s for p in pods if (s := sample(p, usage.get(backends.name_of(p)), seen.now)) is not None]


def scale_facts(kube: Kube, seen: Observation, name: str, room: NodeRoom | None = None) -> ScaleFacts:
    deploy = seen.deployment(name)
    assert deploy is not None
    pods = [p for p in seen.pods_of(name) if not backends.terminating(p)]
    names = {backends.name_of(p) for p in pods}
    hpa = managing_hpa(seen.hpas, name)
    spec = template_spec(deploy)
    containers = spec.get("containers") or [{}]
    killed = oom_container(pods)
    container = next((c for c in containers if c.get("name") == killed), containers[0])
    limit = ((container.get("resources") or {}).get("limits") or {}).get("memory")
    minutes, _ = minutes_since_rollout(seen, deploy)
    facts = ScaleFacts(
        deployment=name,
        replicas=current_replicas(deploy),
        metrics_available=seen.metrics_available,
        load_evidence=[
            f"{u.name} uses cpu {u.cpu} of limit {u.cpu_limit}, memory {u.memory} of limit {u.memory_limit}"
            for u in seen.usage
            if u.name in names
            and max(u.cpu_percent_of_limit or 0, u.memory_percent_of_limit or 0) >= NEAR_LIMIT_PERCENT
        ][:MAX_LISTED],
        oom_pods=sorted(backends.name_of(p) for p in pods if backends.oom_killed(p))[:MAX_LISTED],
        oom_runs=oom_runs_of(seen, pods),
        memory_samples=samples_of(seen, pods),
        broken_pods=sorted(f"{backends.name_of(p)} ({why})" for p in pods if (why := backends.broken(p)))[:MAX_LISTED],
        container=str(container.get("name")) if container.get("name") else None,
        memory_limit=str(limit) if limit else None,
        suggested_memory_limit=memory_text(2 * (parse_quantity(limit) or 0)) if limit else None,
        # Somewhere for the ROLLBACK tree to go: an earlier revision, or (a canary) pulling it.
        unfinished=(stalled := stalled_evidence(seen, deploy)),
        recently_rolled_out=(minutes is not None and minutes <= RECENT_MINUTES or bool(stalled))
        and (keeps_earlier_revision(seen, deploy) or any(p.canary == name for p in seen.facts.canaries))
        and f"deployment/{name}" not in seen.facts.ruled_out,
        claims=one_node_claims(kube, seen.namespace, template_claims(deploy)),
        saturated_stores=sorted(c for c in seen.facts.near_limit if c != name and c in seen.facts.shared_claims),
        changed_elsewhere=changed_elsewhere(seen.facts, name),
        upstream_blamed=next(
            (
                (r.deployment, line)
                for r in fresh_elsewhere(seen.facts, name)
                # read from the log of the deployment rule 5 would scale: only its own callers' errors count
                if scale_candidate(seen.facts) == name and (line := seen.facts.upstream_errors.get(r.deployment))
            ),
            None,
        ),
    )
    if hpa is not None:
        row = hpa_row(hpa)
        low, high = hpa_bounds(hpa)
        facts.hpa = Hpa(
            backends.name_of(hpa),
            low,
            high,
            row.saturated,
            f"{row.current_replicas}/{row.max_replicas} replicas, {'; '.join(row.targets)}",
        )
        facts.wanted = hpa_wanted(hpa)
    tool, arguments, _ = investigation(seen.namespace, seen.facts.placements, name)
    facts.read = (tool, arguments)
    nodes = room or NodeRoom(kube)
    facts.demand = demand_for(seen, name, nodes)
    facts.fits, facts.per_pod = facts.demand.fits if facts.demand else None, capacity.spec_requests(spec).text()
    if facts.fits is not None and facts.fits <= facts.replicas:
        facts.cordoned = capacity.cordoned_room(nodes.get(), spec)
    facts.quota_full = quota_full(kube, deploy, pods, max(1, (facts.wanted or 0) - len(pods)))
    return facts


def quota_full(kube: Kube, deploy: dict[str, Any], pods: list[dict[str, Any]], more: int) -> str | None:
    """Why the namespace's quota refuses even one more pod of the deployment (the words scale_deployment's refusal
    uses, the raise it prints sized for `more`: what the HPA's formula asks for), or None."""
    try:
        quota_warning(kube, deploy, more, refuse=True, pods=pods)
    except errors.InvalidArgument as refusal:
        return str(refusal)
    return None


def room(
    kube: Kube, pod_spec: dict[str, Any], placed: int, *, leaving: frozenset[str] = frozenset()
) -> tuple[int | None, str]:
    """How many replicas fit (the `placed` ones plus what node allocatable minus requests holds), once the pods
    named in `leaving` (namespace/name) are gone."""
    want = capacity.spec_requests(pod_spec)
    read = sizing_reads.node_room(kube)
    if read is None:
        return None, want.text()
    nodes, everywhere = read
    free = capacity.rooms(nodes, everywhere, pod_spec, leaving=leaving)
    return placed + sum(capacity.slots(r, want) for r in free), want.text()
