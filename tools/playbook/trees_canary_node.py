"""Two more of the playbook's moves as decision trees, pure like tools/playbook/trees.py: pull a failing canary
(ROLLBACK of a canary: rollback_canary) and take a failing node out of scheduling (ISOLATE of a node: cordon_node,
then drain_node).
The facts come from tools/decide/canary_node_reads.py.

Layer: tools.playbook.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from incident_response.tools.k8s.nginx_canary import Split, split_text
from incident_response.tools.playbook.trees import Conclusion, Elsewhere, Walk, try_instead
from incident_response.tools.playbook.trees_scale import Hpa

MAX_NAMED = 5


@dataclass
class CanaryFacts:
    app: str  # what rollback_canary(app=...) takes
    canary: str
    stable: str
    services: list[str]  # Services selecting the pods of both
    canary_failing: list[str]  # "pod STATUS", or why the canary is short of replicas
    canary_replicas: int
    stable_replicas: int
    stable_ready: int
    stable_failing: list[str] = field(default_factory=list)
    fits: int | None = None  # stable replicas that fit once the canary's pods are gone; None: unknown
    per_pod: str = ""  # what one stable pod requests
    hpa: Hpa | None = None  # the HPA managing the stable deployment
    split: tuple[Split, str] | None = None  # the nginx canary Ingress (and its Service) splitting a host between them


def canary_tree(facts: CanaryFacts, where: Elsewhere) -> Walk:
    walk = Walk()
    canary, stable, ns = facts.canary, facts.stable, where.namespace
    # Alternatives must not point back at this canary: that walk would come back here.
    away = replace(where, recent_rollout=None) if where.recent_rollout == canary else where
    q = f"Is the canary {canary} the part that fails?"
    if not facts.canary_failing:
        why = f"no pod of the canary {canary} is failing: pulling it would not help"
        return walk.stop(
            q,
            "no",
            "cluster",
            [f"{canary}: {facts.canary_replicas} replicas, none failing"],
            try_instead(away, ("ROLLBACK", "ISOLATE"), None, why),
        )
    walk.go(q, "yes", "cluster", facts.canary_failing)

    q = f"Is the stable half {stable} healthy enough to take the canary's traffic?"
    state = f"{stable}: {facts.stable_ready}/{facts.stable_replicas} replicas ready"
    if facts.stable_failing or facts.stable_ready == 0:
        why = (
            f"the stable half {stable} fails too ({', '.join(facts.stable_failing[:3])})"
            if facts.stable_failing
            else f"no replica of the stable half {stable} is ready"
        )
        why += ": moving the canary's traffic there does not help, and the canary is not the whole story"
        return walk.stop(
            q,
            "no",
            "cluster",
            [state, *facts.stable_failing],
            try_instead(away, ("ROLLBACK", "ISOLATE", "SCALE"), stable, why),
        )
    walk.go(q, "yes", "cluster", [f"{state}, none failing"])

    q = f"Do {canary} and {stable} sit behind the same Service?"
    weight = ""
    if facts.services:
        walk.go(q, "yes", "cluster", [f"service {s} selects the pods of both" for s in facts.services])
    elif facts.split is not None:
        split, service = facts.split
        q = f"Does an nginx canary Ingress split a host between {canary} and {stable}?"
        walk.go(q, "yes", "cluster", [split_text(split, service)])
        if split.weight > 0:  # rollback_canary's plan sets it first (the weight, not only the replicas, moves traffic)
            weight = f"set Ingress {split.ingress}'s canary weight {split.raw} -> 0, "
    else:
        walk.go(q, "unknown", "cluster", ["no Service in the namespace selects the pods of both"])
        walk.cautions.append(
            f"No Service selects both {canary} and {stable}: the traffic split may live in an ingress or a mesh. After "
            f"the rollback, check that the traffic reaches {stable}."
        )

    full = facts.stable_replicas + facts.canary_replicas
    replicas = full
    q = (
        f"Do the nodes have room for {stable} at full capacity ({facts.stable_replicas} + {facts.canary_replicas} = "
        f"{full} replicas)?"
    )
    hpa = facts.hpa
    if hpa is not None and hpa.max_replicas < full:
        replicas = max(facts.stable_replicas, hpa.max_replicas)
        walk.cautions.append(
            f"HPA {hpa.name} caps {stable} at {hpa.max_replicas} replicas: it gets {replicas}, not {full}. Raise the "
            "cap with override_hpa if its load needs more."
        )
    elif hpa is not None:
        walk.cautions.append(
            f"HPA {hpa.name} manages {stable} ({hpa.min_replicas}..{hpa.max_replicas}); it may resize "
            "it as the load moves over."
        )
    if facts.fits is None:
        walk.go(q, "unknown", "cluster", ["node allocations could not be read (nodes, pods cluster-wide)"])
        walk.cautions.append("Node room is unknown: the plan's own capacity check says if new pods stay Pending.")
    elif facts.fits >= replicas:
        walk.go(
            q,
            "yes",
            "cluster",
            [
                f"about {facts.fits} replicas of {stable} fit once the canary's pods are gone "
                f"(each requests {facts.per_pod})"
            ],
        )
    else:
        # The canary serves nothing useful while it fails: pulling it costs no capacity even if stable cannot grow.
        replicas = max(facts.stable_replicas, facts.fits)
        walk.go(
            q,
            "no",
            "cluster",
            [f"only {facts.fits} replicas of {stable} fit (each requests {facts.per_pod})"],
            then="pull the canary all the same; stable grows only as far as it fits",
        )
        walk.cautions.append(
            f"Only {facts.fits} replicas of {stable} fit on the nodes, not {full}: it keeps serving with {replicas}. "
            "Free capacity or add nodes if its load needs more (top_pods)."
        )

    arguments: dict[str, Any] = {"namespace": ns, "app": facts.app}
    if replicas != full:
        arguments["stable_replicas"] = replicas
    grow = (
        f"then {stable} from {facts.stable_replicas} to {replicas} replicas"
        if replicas > facts.stable_replicas
        else f"{stable} keeps its {facts.stable_replicas} replicas"
    )
    check = f"get_endpoints({facts.services[0]})" if facts.services else "get_endpoints"
    walk.cautions.append(f"Afterwards check that only {stable} pods serve: {check}, then verify_recovery.")
    return walk.end(
        Conclusion(
            verdict="PROCEED",
            reason=f"the canary {canary} fails and {stable} is healthy: {weight}scale the canary to zero, {grow}",
            next_tool="rollback_canary",
            next_arguments=arguments,
        )
    )


@dataclass
class NodeFacts:
    node: str
    problems: list[str]  # why it cannot run pods; empty: it looks fine
    cordoned: bool
    failing_here: list[str]  # "pod STATUS": the namespace's failing pods on it
    fine_elsewhere: list[str]  # "app on node-1, node-3": the same apps' pods running fine on other nodes
    failing_elsewhere: list[str] = field(default_factory=list)  # the same apps' pods failing on healthy nodes
    movers: int | None = None  # pods a drain would evict (every namespace); None: not readable
    no_room: list[str] = field(default_factory=list)  # of those, the ones whose replacement would stay Pending
    unmanaged: list[str] = field(default_factory=list)  # pods no controller recreates: kubectl drain refuses them
    # the namespace's failing pods there whose eviction a PodDisruptionBudget refuses now -> that budget's name
    stuck: dict[str, str] = field(default_factory=dict)
    alone: bool = False  # some app failing here fails on no healthy node: the node explains that much
    # StatefulSet pods stuck Terminating here (the node cannot confirm): recreated only once force-deleted
    stuck_members: list[str] = field(default_factory=list)


def node_tree(facts: NodeFacts, where: Elsewhere) -> Walk:
    walk = Walk()
    node = facts.node
    away = replace(where, failing_node=None)  # the alternatives are other actions, not this node again
    q = f"Is node {node} NotReady or failing?"
    if not facts.problems:
        why = f"node {node} reports Ready and carries no not-ready/unreachable taint"
        return walk.stop(q, "no", "cluster", [why], try_instead(away, ("ROLLBACK", "SCALE"), None, why))
    walk.go(q, "yes", "cluster", facts.problems)

    if facts.stuck_members:
        members = ", ".join(facts.stuck_members[:MAX_NAMED])
        walk.go(f"Are StatefulSet pods stuck Terminating on {node}?", "yes", "cluster", facts.stuck_members)
        walk.cautions.append(
            f"Force-delete only once the human confirms node {node} is fenced or powered off: if it is only cut off, "
            "the old pod keeps running beside its replacement (two copies of one identity)."
        )
        return walk.end(
            Conclusion(
                verdict="PROCEED",
                reason=f"{members} stay Terminating on node {node} (its kubelet cannot confirm their deletion), so "
                "their StatefulSet does not recreate them elsewhere: force-delete each (delete_pod force=true)",
                next_tool="delete_pod",
                next_arguments={"namespace": where.namespace, "pod": facts.stuck_members[0], "force": True},
            )
        )

    q = f"Are the failing pods the ones on {node}?"
    if not facts.failing_here:
        why = f"none of the namespace's failing pods runs on node {node}"
        walk.cautions.append(f"Node {node} is failing all the same: cordon it once this namespace's cause is handled.")
        return walk.stop(q, "no", "cluster", [why], try_instead(away, ("ROLLBACK", "SCALE"), None, why))
    if facts.failing_elsewhere and not facts.alone:
        elsewhere = ", ".join(facts.failing_elsewhere[:3])
        why = f"the same apps also fail on healthy nodes ({elsewhere}): node {node} is not the whole story"
        walk.cautions.append(f"Node {node} is failing all the same: cordon it (cordon_node) once the rest is handled.")
        return walk.stop(
            q, "no", "cluster", facts.failing_elsewhere, try_instead(away, ("ROLLBACK", "SCALE"), None, why)
        )
    if facts.failing_elsewhere:  # as the assessment's node rule: the apps failing only here are the node's
        walk.cautions.append(
            f"Some of these apps also fail on healthy nodes ({', '.join(facts.failing_elsewhere[:3])}): node {node} "
            "is not their whole story; assess again once it is handled."
        )
    fine = "; ".join(facts.fine_elsewhere[:MAX_NAMED]) or "none"
    walk.go(
        q,
        "yes",
        "cluster",
        [f"failing on {node}: {', '.join(facts.failing_here[:MAX_NAMED])}", f"fine on other nodes: {fine}"],
    )

    q = f"Can the pods on {node} run on other nodes once it is drained?"
    drain = f"drain_node(node={node})"
    if facts.movers is None:
        walk.go(q, "unknown", "cluster", ["the pods on the node or the other nodes' room could not be read"])
        walk.cautions.append(f"Node room is unknown: {drain}'s plan says for each pod whether it fits elsewhere.")
    elif facts.unmanaged or facts.no_room:
        evidence = [f"{p}: no room on another node" for p in facts.no_room]
        evidence += [f"{p}: no controller would recreate it" for p in facts.unmanaged]
        walk.go(q, "no", "cluster", evidence, then="the cordon is safe on its own; the drain waits")
        if facts.no_room:
            walk.cautions.append(
                f"Draining {node} would leave {len(facts.no_room)} replacement pods Pending: free "
                f"capacity or add nodes before {drain}."
            )
        if facts.unmanaged:
            walk.cautions.append(
                f"{node} runs pods no controller recreates ({', '.join(facts.unmanaged[:3])}): "
                f"{drain} refuses until they are moved or deleted deliberately."
            )
    else:
        walk.go(q, "yes", "cluster", [f"the {facts.movers} pods a drain would evict fit on other nodes"])

    arguments = {"node": node}
    if facts.cordoned and facts.movers == 0 and not facts.unmanaged:
        return walk.end(
            Conclusion(
                verdict="NOTHING_TO_DO",
                reason=f"node {node} is cordoned and holds no pod left to evict: the pods still shown there are being "
                "deleted, and go once the node answers again or is removed",
            )
        )
    if facts.cordoned and facts.stuck:
        # A drain stops at them (429) and their replacements come only once they are gone: delete them first.
        stuck = sorted(facts.stuck)
        budgets = ", ".join(sorted(set(facts.stuck.values())))
        return walk.end(
            Conclusion(
                verdict="PROCEED",
                reason=f"node {node} is cordoned, and a drain cannot evict {', '.join(stuck[:MAX_NAMED])} "
                f"(PodDisruptionBudget {budgets} allows no disruption while they are not Ready): delete_pod each of "
                f"them (budgets do not limit deletion; their controller recreates them elsewhere), then {drain}",
                next_tool="delete_pod",
                next_arguments={"namespace": where.namespace, "pod": stuck[0]},
            )
        )
    if facts.cordoned:
        if facts.unmanaged:
            return walk.end(
                Conclusion(
                    verdict="FIX_FIRST",
                    reason=f"node {node} is cordoned already, and draining it is refused while it runs pods no "
                    f"controller recreates ({', '.join(facts.unmanaged[:3])}): move or delete them deliberately, then "
                    f"{drain}",
                )
            )
        return walk.end(
            Conclusion(
                verdict="PROCEED",
                reason=f"node {node} is cordoned already: drain it to move its pods to healthy nodes (their "
                "controllers recreate them there)",
                next_tool="drain_node",
                next_arguments=arguments,
            )
        )
    walk.cautions.insert(0, f"Follow-up: the cordon leaves the pods on {node} where they are; {drain} moves them.")
    then = f"then {drain} to move its pods" + (
        " once the cautions' blockers are cleared" if facts.no_room or facts.unmanaged else ""
    )
    return walk.end(
        Conclusion(
            verdict="PROCEED",
            reason=f"cordon node {node} so no new pod is scheduled there; {then}",
            next_tool="cordon_node",
            next_arguments=arguments,
        )
    )
