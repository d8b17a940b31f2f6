"""The playbook's "should I scale?" tree (its walk: tools/playbook/trees.py): replicas for load, memory for OOM
kills, and the HPA's ceiling and sizing that assess_namespace states too.

Layer: tools.playbook.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from incident_response.tools.k8s.capacity import cordoned_text
from incident_response.tools.k8s.memory_climb import Sample
from incident_response.tools.k8s.oom_runs import EITHER, PEAK, OomRun, long_runs, reading, shape
from incident_response.tools.playbook.sizing import Demand, HpaCount, Sizing, size
from incident_response.tools.playbook.trees import (
    Answers,
    Conclusion,
    Elsewhere,
    Walk,
    needs,
    try_instead,
)

# What more replicas do about OOM kills: nothing for a leak or a burst; a peak's memory may follow the requests each
# pod serves, so spreading them may help (tools/k8s/oom_runs.py).
REPLICAS = {
    PEAK: "more replicas help only if its memory follows the requests each pod serves",
    EITHER: "more replicas help only if it is a peak and its memory follows the requests each pod serves",
}


@dataclass
class Hpa:
    name: str
    min_replicas: int
    max_replicas: int
    saturated: bool
    detail: str


@dataclass
class ScaleFacts:
    deployment: str
    replicas: int
    metrics_available: bool
    hpa: Hpa | None = None
    load_evidence: list[str] = field(default_factory=list)  # pods at or near a CPU or memory limit
    oom_pods: list[str] = field(default_factory=list)
    oom_runs: list[OomRun] = field(default_factory=list)  # the OOMKilled pods' last killed runs (tools/k8s/oom_runs)
    memory_samples: list[Sample] = field(default_factory=list)  # its pods' memory now against uptime (memory_climb)
    broken_pods: list[str] = field(default_factory=list)  # "pod (why)": failing on their own, not from load
    wanted: int | None = None  # replicas the HPA's formula calls for, when known
    fits: int | None = None  # replicas that fit on the nodes (bound now + what allocatable holds), None: unknown
    per_pod: str = ""  # what one more replica requests
    container: str | None = None
    memory_limit: str | None = None
    suggested_memory_limit: str | None = None
    recently_rolled_out: bool = False
    # its rollout has not finished and only its new pods fail (evidence; tools/k8s/unfinished.py), else empty
    unfinished: list[str] = field(default_factory=list)
    demand: Demand | None = None  # what the cluster shows about the load (tools/playbook/sizing.py)
    read: tuple[str, dict[str, Any]] | None = None  # the call that reads why its pods fail (playbook/investigate.py)
    claims: list[str] = field(default_factory=list)  # PVCs its pod template mounts: one volume every replica shares
    # other deployments of the namespace that mount a claim (a database, a queue) and run at their CPU limit
    saturated_stores: list[str] = field(default_factory=list)
    # other deployments rolled out in the last 2 hours while this one was not (load_decisions.changed_elsewhere)
    changed_elsewhere: list[str] = field(default_factory=list)
    # (deployment, "POD: LINE"): one of those whose Service this one's log names as the upstream of its errors
    upstream_blamed: tuple[str, str] | None = None
    # Ready nodes only a cordon keeps its pods off, with the replicas that would fit on each (when none fit now)
    cordoned: list[tuple[str, int, str]] = field(default_factory=list)
    # why the namespace's ResourceQuota admits no more of its pods (tools/mitigate/scaling.quota_warning), else None
    quota_full: str | None = None


def sizing_of(facts: ScaleFacts) -> Sizing:
    """The sizing every caller shares (tools/playbook/sizing.py), within the node room this walk saw."""
    demand = facts.demand
    if demand is None:
        hpa = facts.hpa
        counted = HpaCount(hpa.name, hpa.max_replicas, formula=facts.wanted) if hpa is not None else None
        demand = Demand(facts.deployment, facts.replicas, hpa=counted)
    return size(replace(demand, fits=facts.fits))


def hpa_ceiling(facts: ScaleFacts, replicas: int) -> int:
    """An overridden HPA's new max: room for it to follow the load further (its formula), as far as it fits now."""
    goal = max(facts.wanted or 0, replicas)
    high = facts.hpa.max_replicas if facts.hpa is not None else 0
    return max(high, replicas, min(facts.fits, goal) if facts.fits is not None else goal)


def proposed_replicas(facts: ScaleFacts) -> int:
    """The replicas to ask for: what is known of the demand, within what fits (see sizing_of)."""
    return sizing_of(facts).replicas


def vertical(facts: ScaleFacts, ns: str) -> tuple[str | None, dict[str, Any]]:
    if facts.container and facts.suggested_memory_limit:
        return "set_memory_limit", {
            "namespace": ns,
            "deployment": facts.deployment,
            "container": facts.container,
            "limit": facts.suggested_memory_limit,
        }
    return None, {}


def scale_tree(facts: ScaleFacts, answers: Answers, where: Elsewhere) -> Walk:
    walk = Walk()
    name, ns = facts.deployment, where.namespace
    q = f"Is deployment {name} short of capacity for its load?"
    evidence = (
        ([f"hpa {facts.hpa.name}: {facts.hpa.detail}"] if facts.hpa else [])
        + facts.load_evidence
        + [f"{p} was OOMKilled" for p in facts.oom_pods]
    )
    shows_load = bool(facts.load_evidence or facts.oom_pods or (facts.hpa and facts.hpa.saturated))
    if shows_load:
        walk.go(q, "yes", "cluster", evidence)
    elif facts.metrics_available or facts.hpa is not None:
        why = f"deployment {name} shows no load pressure (no pod near its limits, no HPA at max)"
        return walk.stop(
            q,
            "no",
            "cluster",
            evidence or ["every pod below 90% of its limits"],
            try_instead(where, ("ROLLBACK", "ISOLATE"), name, why),
        )
    elif answers.load_related is None:
        return walk.stop(
            q,
            "unknown",
            "unanswered",
            ["the metrics API is not available and no HPA watches it"],
            needs(
                f"Is {name} slow or failing because of traffic (request rate, latency dashboards)?",
                "load_related",
                "the cluster cannot show load without the metrics API",
            ),
        )
    elif answers.load_related:
        walk.go(q, "yes", "caller", [])
    else:
        why = f"the human says deployment {name} is not overloaded"
        return walk.stop(q, "no", "caller", [], try_instead(where, ("ROLLBACK", "ISOLATE"), name, why))

    if facts.upstream_blamed is not None:
        dep, line = facts.upstream_blamed
        extra = sizing_of(facts).replicas - facts.replicas  # what the scale-up would add: that many more callers
        return walk.stop(
            f"Do {name}'s logs name a deployment that rolled out since as the upstream of their errors?",
            "yes",
            "cluster",
            [line, *facts.changed_elsewhere[:1]],
            Conclusion(
                verdict="TRY_INSTEAD",
                alternative="ROLLBACK",
                reason=f"{name}'s log names {dep}'s Service as the upstream of its errors, and {dep} rolled out while "
                f"{name} did not: {name} waits on a slower {dep}. Scaling {name} up is the wrong move: "
                f"{f'{extra} ' if extra > 0 else ''}more {name} pods would hit a slow {dep} harder. Roll {dep} back "
                "first",
                next_tool="evaluate_decision",
                next_arguments={"namespace": ns, "action": "ROLLBACK", "deployment": dep},
            ),
        )
    q = f"Are the current pods of {name} healthy (none failing on their own)?"
    if facts.oom_pods and facts.unfinished:
        # A raised limit goes into the new revision's template: it would complete the unproven rollout (F27).
        return walk.stop(
            q,
            "no",
            "cluster",
            [*facts.unfinished, *(f"{p} was OOMKilled" for p in facts.oom_pods[:3])],
            Conclusion(
                verdict="TRY_INSTEAD",
                alternative="ROLLBACK",
                reason=f"only the new revision's pods of {name} are OOMKilled while the earlier revision's serve: "
                "raising the limit would complete the unproven rollout over the serving pods; roll back to the "
                "serving revision",
                next_tool="evaluate_decision",
                next_arguments={"namespace": ns, "action": "ROLLBACK", "deployment": name},
            ),
        )
    if facts.oom_pods:
        tool, arguments = vertical(facts, ns)
        limit = f" (limit {facts.memory_limit})" if facts.memory_limit else ""
        runs = {r.pod: r for r in facts.oom_runs}
        # Ready pods killed after hours of running are healthy now (a leak or a peak), due to be killed again.
        serving = long_runs(facts.oom_runs) and not facts.broken_pods
        return walk.stop(
            q,
            "yes" if serving else "no",
            "cluster",
            ([f"the {len(facts.oom_pods)} OOMKilled pods are Ready now"] if serving else [])
            + [
                runs[p].text() + ("" if runs[p].use else limit) if p in runs else f"{p} was OOMKilled{limit}"
                for p in facts.oom_pods
            ],
            Conclusion(
                # Raising the limit is the action itself, not a blocker before it: PROCEED when a tool can plan it.
                verdict="PROCEED" if tool else "FIX_FIRST",
                alternative="VERTICAL_SCALING",
                reason=f"pods of {name} were OOMKilled{shape(name, facts.oom_runs, facts.memory_samples)}; "
                + REPLICAS.get(
                    reading(facts.oom_runs, facts.memory_samples) or "", "more replicas would be killed the same way"
                )
                + (
                    f" (suggested: {facts.suggested_memory_limit}, double the current one; the human decides)"
                    if facts.suggested_memory_limit
                    else ""
                ),
                next_tool=tool,
                next_arguments=arguments,
            ),
        )
    if facts.broken_pods:
        reason = (
            f"{len(facts.broken_pods)} pods of {name} fail on their own: more replicas of a failing pod add no capacity"
        )
        if facts.recently_rolled_out:
            outcome = Conclusion(
                verdict="FIX_FIRST",
                alternative="ROLLBACK",
                reason=reason + f"; {name} was rolled out in the last 2 hours: walk the ROLLBACK tree",
                next_tool="evaluate_decision",
                next_arguments={"namespace": ns, "action": "ROLLBACK", "deployment": name},
            )
        else:
            tool, logs = facts.read or ("get_logs", {"namespace": ns, "pod_or_deployment": f"deployment/{name}"})
            outcome = Conclusion(
                verdict="FIX_FIRST",
                reason=f"{reason}: find out why first ({tool})",
                next_tool=tool,
                next_arguments=dict(logs),
            )
        return walk.stop(q, "no", "cluster", facts.broken_pods, outcome)
    walk.go(
        q, "yes", "cluster", [f"none of the {facts.replicas} replicas is crash-looping, OOMKilled or failing to start"]
    )

    if facts.claims and not facts.oom_pods:
        claims = ", ".join(facts.claims)
        return walk.stop(
            f"Can more replicas of {name} run without sharing one volume?",
            "no",
            "cluster",
            [f"every pod of deployment {name} mounts PVC {claims}"],
            Conclusion(
                verdict="DO_NOT",
                reason=f"more replicas of {name} would all mount PVC {claims} (a ReadWriteOnce claim attaches to one "
                "node; a second copy of a database on one data directory is refused or corrupts it): raise its CPU "
                f"limit (kubectl set resources deployment/{name} --limits=cpu=...) or lower the load on it; no tool "
                "here plans either",
                next_tool=None,
                next_arguments={},
            ),
        )

    q = f"Do the nodes have room for more replicas of {name}?"
    if facts.fits is None:
        walk.go(q, "unknown", "cluster", ["node allocations could not be read (pods cluster-wide)"])
        walk.cautions.append("Node room is unknown: the plan's own capacity check will say if new pods stay Pending.")
    elif facts.fits <= facts.replicas and facts.cordoned:
        # Room a cordon alone withholds (a maintenance left behind): freeing it comes before resizing anything.
        held = cordoned_text(facts.cordoned)
        return walk.stop(
            q,
            "no",
            "cluster",
            [f"no schedulable node has room for another pod requesting {facts.per_pod}", f"cordoned but Ready: {held}"],
            Conclusion(
                verdict="FIX_FIRST",
                reason=f"no schedulable node has room for another replica of {name}, but cordoned Ready nodes would "
                f"hold more: {held}. Ask the human whether their maintenance is over; if so uncordon them "
                "(uncordon_node), then scale",
                next_tool="uncordon_node",
                next_arguments={"node": facts.cordoned[0][0]},
            ),
        )
    elif facts.fits <= facts.replicas:
        # Larger limits help only what the pods run short of: memory for OOM kills, CPU (no tool plans it) else.
        tool, arguments = vertical(facts, ns) if facts.oom_pods else (None, {})
        return walk.stop(
            q,
            "no",
            "cluster",
            [f"no schedulable node has room for another pod requesting {facts.per_pod}"],
            Conclusion(
                verdict="TRY_INSTEAD",
                alternative="VERTICAL_SCALING",
                reason=f"no node has room for another replica of {name}: consider vertical scaling (larger limits on "
                "the pods that run"
                + ("" if tool else f": kubectl set resources deployment/{name} --limits=cpu=...; no tool here plans it")
                + "), or free capacity (add nodes)",
                next_tool=tool,
                next_arguments=arguments,
            ),
        )
    else:
        walk.go(q, "yes", "cluster", [f"about {facts.fits} replicas fit now (each requests {facts.per_pod})"])
    if facts.quota_full and not facts.oom_pods:
        # Nodes with room do not help when the namespace's quota refuses the pods (review-assist7 H12).
        return walk.stop(
            f"Does the namespace's ResourceQuota admit another replica of {name}?",
            "no",
            "cluster",
            [facts.quota_full],
            Conclusion(verdict="FIX_FIRST", reason=facts.quota_full, next_tool=None, next_arguments={}),
        )

    if facts.saturated_stores:
        stores = ", ".join(facts.saturated_stores)
        walk.cautions.append(
            f"{stores} (its pods mount a volume: a database or queue) runs at its CPU limit: if {name} calls it, more "
            f"{name} replicas add load to it and can make the outage worse; check that first (get_logs of {name} for "
            "timeouts to it)"
        )
    if facts.changed_elsewhere:
        walk.cautions.append(
            f"{' and '.join(facts.changed_elsewhere)} rolled out while {name} did not: if {name} calls it, a slower "
            f"dependency looks like load on {name}; read {name}'s logs (get_logs) for timeouts or errors from it "
            "before scaling, and roll it back if they name it"
        )
    sizing = sizing_of(facts)
    replicas = sizing.replicas
    if sizing.hidden:
        walk.cautions.append(sizing.hidden + ".")
    why = f": {sizing.text()}"
    if facts.hpa is not None:
        hpa = facts.hpa
        # Room for the HPA to follow the load further, as far as it fits now.
        ceiling = hpa_ceiling(facts, replicas)
        return walk.end(
            Conclusion(
                verdict="PROCEED",
                reason=f"HPA {hpa.name} manages {name}: raise its bounds to {replicas}..{ceiling} (from "
                f"{hpa.min_replicas}..{hpa.max_replicas}) so it adds replicas now{why}",
                next_tool="override_hpa",
                next_arguments={"namespace": ns, "hpa": hpa.name, "min_replicas": replicas, "max_replicas": ceiling},
            )
        )
    return walk.end(
        Conclusion(
            verdict="PROCEED",
            reason=f"scale deployment {name} from {facts.replicas} to {replicas} replicas{why}",
            next_tool="scale_deployment",
            next_arguments={"namespace": ns, "deployment": name, "replicas": replicas},
        )
    )
