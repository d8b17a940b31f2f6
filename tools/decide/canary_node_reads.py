"""The facts the canary and node trees walk: a canary/stable pair's health behind their Service, and a node's
conditions, the pods a drain would move and whether the other nodes have room for them.

Layer: tools.decide.
"""

from __future__ import annotations

import json

from incident_response.tools.assess.demand import NodeRoom
from incident_response.tools.assess.hpas import hpa_row
from incident_response.tools.assess.observation import Observation
from incident_response.tools.core import errors
from incident_response.tools.decide.scale_reads import room
from incident_response.tools.engine import sizing_reads
from incident_response.tools.k8s import backends, capacity
from incident_response.tools.k8s.workloads import (
    hpa_bounds,
    managing_hpa,
    template_spec,
)
from incident_response.tools.kube.client import Kube
from incident_response.tools.kube.paging import list_all
from incident_response.tools.mitigate.nodes import drain_kind, outside, pod_key
from incident_response.tools.playbook.suspects import (
    DELETING,
    CanaryPair,
    NodeState,
    node_problems,
    suspect_nodes,
)
from incident_response.tools.playbook.trees_canary_node import CanaryFacts, NodeFacts
from incident_response.tools.playbook.trees_scale import Hpa

MAX_LISTED = 5


def canary_facts(kube: Kube, seen: Observation, pair: CanaryPair) -> CanaryFacts:
    stable = seen.deployment(pair.stable)
    assert stable is not None
    facts = seen.facts
    unavailable = facts.unavailable.get(pair.canary)
    failing = facts.failing.get(pair.canary) or ([f"{unavailable} replicas unavailable"] if unavailable else [])
    found = CanaryFacts(
        app=pair.app,
        canary=pair.canary,
        stable=pair.stable,
        services=pair.services,
        canary_failing=failing[:MAX_LISTED],
        canary_replicas=pair.canary_replicas,
        stable_replicas=pair.stable_replicas,
        stable_ready=pair.stable_ready,
        stable_failing=facts.failing.get(pair.stable, [])[:MAX_LISTED],
        split=pair.split,
    )
    hpa = managing_hpa(seen.hpas, pair.stable)
    if hpa is not None:
        row = hpa_row(hpa)
        low, high = hpa_bounds(hpa)
        found.hpa = Hpa(backends.name_of(hpa), low, high, row.saturated, f"{row.current_replicas}/{high} replicas")
    # rollback_canary scales the canary to zero first: its pods' room is free by the time stable grows.
    leaving = frozenset(f"{seen.namespace}/{backends.name_of(p)}" for p in seen.pods_of(pair.canary))
    found.fits, found.per_pod = room(kube, template_spec(stable), pair.stable_replicas, leaving=leaving)
    return found


def node_facts(
    kube: Kube, seen: Observation, node: str, *, allowed: tuple[str, ...] = (), room: NodeRoom | None = None
) -> NodeFacts:
    facts = seen.facts
    state = facts.nodes.get(node)
    if state is None or not state.read:  # a node the caller names, or one the assessment did not read
        try:
            read = kube.get("nodes", node)
            state = NodeState(node_problems(read), cordoned=bool((read.get("spec") or {}).get("unschedulable")))
        except errors.Forbidden:
            state = state or NodeState(read=False)
        except errors.NotFound:
            raise errors.NotFound(
                f"node {node!r} was not found in this cluster; list_pods shows the node each pod runs on, top_nodes "
                "lists the nodes",
                code=404,
                reason="NotFound",
                verb="get",
                resource="nodes",
                name=node,
            ) from None
    nodes = facts.nodes | {node: state}
    suspects = suspect_nodes(facts.placements, nodes)
    # As the assessment's node rule reads it: pods being deleted on a cordoned node are what a drain left behind.
    here = [
        p for p in facts.placements if p.node == node and p.failing and not (state.cordoned and p.status in DELETING)
    ]
    apps = {p.component for p in here}
    healthy: dict[str, set[str]] = {}
    for place in facts.placements:
        if place.component in apps and place.node and place.node not in suspects and not place.failing:
            healthy.setdefault(place.component, set()).add(place.node)
    found = NodeFacts(
        node=node,
        problems=suspects.get(node, []),
        cordoned=state.cordoned,
        failing_here=[p.text() for p in here],
        fine_elsewhere=[f"{app} on {', '.join(sorted(where)[:3])}" for app, where in sorted(healthy.items())],
        failing_elsewhere=[
            f"{p.text()} on {p.node}"
            for p in facts.placements
            if p.failing and p.node and p.node not in suspects and p.component in apps
        ][:MAX_LISTED],
    )
    found.stuck = {p.pod: facts.evictions_refused[p.pod] for p in here if p.pod in facts.evictions_refused}
    if state.problems:
        found.stuck_members = sorted(
            p.pod
            for p in facts.placements
            if p.node == node and p.status in DELETING and facts.workloads.get(p.component) == "statefulset"
        )
    # The node rule blames the node for the apps that fail nowhere else: one of them is enough to go on with it.
    elsewhere = {p.component for p in facts.placements if p.failing and p.node and p.node not in suspects}
    found.alone = any(app not in elsewhere for app in apps)
    drain_room(kube, found, allowed, room)
    return found


def drain_room(kube: Kube, facts: NodeFacts, allowed: tuple[str, ...] = (), room: NodeRoom | None = None) -> None:
    """What a drain of the node would meet, as plan_drain judges it: pods no controller recreates, and pods whose
    replacement finds no room on another node. Left unknown when these credentials cannot read it. Pods outside
    the allow-list `allowed` are counted, not named."""
    node = facts.node
    try:
        # Every pod on the node (however many it holds), read in pages.
        on_node = list_all(kube, "pods", field_selector=f"spec.nodeName={node}").items
    except errors.Forbidden:
        return
    named = {f"{(p.get('metadata') or {}).get('namespace')}/{backends.name_of(p)}": p for p in on_node}
    kinds = {key: drain_kind(p) for key, p in named.items()}
    movers = {key: p for key, p in named.items() if kinds[key] == "evict" and not backends.terminating(p)}
    try:
        # The sizing's read of every pod when it was made; else the room of the nodes the movers may go to.
        specs = [p.get("spec") or {} for p in movers.values()]
        read = (
            room.get() if room is not None and room.made() else sizing_reads.read_room_for(kube, specs, away_from=node)
        )
    except errors.Forbidden:
        return
    if read is None:
        return
    others = [n for n in read[0] if backends.name_of(n) != node]
    everywhere = read[1]
    hidden = {pod_key(p) for p in outside(on_node, allowed)}

    def shown(keys: list[str]) -> list[str]:
        count = sum(key in hidden for key in keys)
        return [k for k in keys if k not in hidden] + (
            [f"{count} pod(s) outside this server's allow-list"] if count else []
        )

    facts.unmanaged = shown(sorted(key for key, kind in kinds.items() if kind == "unmanaged"))[:MAX_LISTED]
    free: dict[str, list[capacity.Room]] = {}
    no_room = []
    for key, pod in sorted(movers.items()):
        spec = pod.get("spec") or {}
        # Pods alike in where they may go share the free room they consume, as the scheduler would place them.
        shape = json.dumps({k: spec.get(k) for k in ("tolerations", "nodeSelector")}, sort_keys=True)
        rooms = free.setdefault(shape, capacity.rooms(others, everywhere, spec, leaving=frozenset(named)))
        if capacity.place(rooms, capacity.spec_requests(spec), 1) < 1:
            no_room.append(key)
    facts.movers, facts.no_room = len(movers), shown(no_room)[:MAX_LISTED]
