"""The namespace's problems ranked, worst for users first, each decision completed with every argument its next tool
needs (a memory limit's container and value, an HPA's bounds, a scale's replicas sized as the SCALE tree sizes).

Layer: tools.assess.
"""

from __future__ import annotations

from typing import Any

from incident_response.tools.assess.cluster_dns import DNS_NAMESPACE, DNS_SERVICE, DnsOutage
from incident_response.tools.assess.demand import NodeRoom, demand_for
from incident_response.tools.assess.hpas import hpa_row, hpa_wanted
from incident_response.tools.assess.impacts import impacts_of
from incident_response.tools.assess.observation import Observation
from incident_response.tools.assess.quota_first import QuotaFirst
from incident_response.tools.k8s.capacity import cordoned_room, cordoned_text
from incident_response.tools.k8s.podstatus import oom_container
from incident_response.tools.k8s.quantity import memory_text, parse_quantity
from incident_response.tools.k8s.views import meta
from incident_response.tools.k8s.workloads import (
    hpa_bounds,
    template_spec,
)
from incident_response.tools.playbook.decision import Decision
from incident_response.tools.playbook.ranking import Problem, problem_of, rank_problems, scaled
from incident_response.tools.playbook.rules import decide
from incident_response.tools.playbook.sizing import Demand
from incident_response.tools.playbook.trees_scale import Hpa, ScaleFacts, hpa_ceiling, sizing_of


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
            owner = seen.deployment(target)
            if owner is not None and (freed := uncordon_first(decision, target, demand, owner, room)) is not None:
                return freed
    elif decision.next_tool == "scale_deployment" and deploy is not None and "replicas" not in arguments:
        # A rule that names its count (a scale back to what a hand scale took away) says why in its reason; sizing
        # it again here would plan another count than the reason states.
        demand = demand_for(seen, str(name), room)
        assert demand is not None
        facts = ScaleFacts(str(name), demand.replicas, seen.metrics_available, fits=demand.fits, demand=demand)
        sizing = sizing_of(facts)
        arguments["replicas"] = sizing.replicas
        evidence.append(f"Sized from what is known: {sizing.text()}")
        if (freed := uncordon_first(decision, str(name), demand, deploy, room)) is not None:
            return freed
    return decision.model_copy(update={"next_arguments": arguments, "evidence": evidence})


def uncordon_first(
    decision: Decision, target: str, demand: Demand, deploy: dict[str, Any], room: NodeRoom | None
) -> Decision | None:
    """When no schedulable node holds another replica, the scale-up would leave pods Pending (its planner refuses it):
    if Ready nodes only a cordon keeps closed would hold more (a maintenance left behind: review-assist8 I9),
    uncordoning comes first, once the human says their maintenance is over; else no tool is proposed."""
    if demand.fits is None or demand.fits > demand.replicas or room is None or not room.made():
        return None
    held = cordoned_room(room.get(), template_spec(deploy))
    if not held:
        # Nothing anywhere holds another replica: a scale-up's planner would refuse it, so none is proposed.
        return decision.model_copy(
            update={
                "reason": decision.reason + f"; but no schedulable node has room for another replica of {target}: "
                "more replicas would stay Pending. Add nodes, or raise its CPU limit (kubectl set resources "
                f"deployment/{target} --limits=cpu=...); no tool here plans either",
                "next_tool": None,
                "next_arguments": {},
            }
        )
    why = (
        f"; but no schedulable node has room for another replica of {target}, and cordoned Ready nodes would hold "
        f"more: {cordoned_text(held)}. Ask the human whether their maintenance is over; if so uncordon them "
        "(uncordon_node), then scale"
    )
    return decision.model_copy(
        update={
            "reason": decision.reason + why,
            "evidence": [*decision.evidence, f"cordoned but Ready: {cordoned_text(held)}"][:6],
            "next_tool": "uncordon_node",
            "next_arguments": {"node": held[0][0]},
        }
    )


def dns_problem(outage: DnsOutage) -> tuple[Problem, Decision]:
    """Cluster DNS down is every namespace's outage, first: its fix is in kube-system (review-assist8 I10); a server
    whose allow-list leaves kube-system out sends the human to the cluster's operators instead."""
    then = (
        f"assess {DNS_NAMESPACE} (coredns) first, the fix is there"
        if outage.reachable
        else f"{DNS_NAMESPACE} is outside this server's namespaces: tell the cluster's operators (coredns) now"
    )
    decision = Decision(
        primary_action="INVESTIGATE",
        rule="cluster DNS down",
        target=f"service/{DNS_SERVICE} -n {DNS_NAMESPACE}",
        reason=f"{outage.detail}, whatever this namespace's pods show: {then}",
        evidence=[outage.detail],
        next_tool="assess_namespace" if outage.reachable else None,
        next_arguments={"namespace": DNS_NAMESPACE} if outage.reachable else {},
    )
    return problem_of(decision, "outage", [DNS_SERVICE], outage.detail, False)


def ranked(
    seen: Observation,
    mitigated: frozenset[str] = frozenset(),
    room: NodeRoom | None = None,
    quota: QuotaFirst | None = None,
) -> tuple[Decision, list[tuple[Problem, Decision]]]:
    """The primary decision (for the worst problem) and every problem, worst first. With `room` (node room, read
    on first use), a scale is sized within what fits, as evaluate_decision sizes it; with `quota`, a scale-up a full
    ResourceQuota would refuse says first what holds the quota and how to free or raise it (no tool proposed)."""
    if quota is not None:
        quota.hold(seen.facts.quota_blocked)  # before the decisions are worded: the exceeded-quota rule names them
    problems = [
        (p, quota.checked(completed(seen, d, room)) if quota is not None else completed(seen, d, room))
        for p, d in rank_problems(seen.facts, impacts_of(seen), mitigated, seen.dark, seen.pressed, seen.cutovers)
    ]
    if seen.cluster_dns is not None:
        problems.insert(0, dns_problem(seen.cluster_dns))
    for rank, (problem, decision) in enumerate(problems, start=1):
        problem.rank = rank
        problem.next_arguments = dict(decision.next_arguments)
        problem.next_tool = decision.next_tool
    return (problems[0][1] if problems else decide(seen.facts)), problems
