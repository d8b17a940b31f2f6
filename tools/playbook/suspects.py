"""Causes outside the code: a node that stopped running its pods, and a canary failing beside a healthy stable.

Pure functions on shaped facts (no I/O): tools/assess/observation.py gathers the facts, tools/playbook/rules.py
turns what is found here into a decision. The canary pairing mirrors rollback_canary's own
(tools/mitigate/canary.py `find_pair`), so a pair found here is one that tool accepts.

Layer: tools.playbook.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from incident_response.tools.k8s import labels, nginx_canary
from incident_response.tools.k8s.backends import name_of, service_selector
from incident_response.tools.k8s.nginx_canary import Split
from incident_response.tools.k8s.views import meta
from incident_response.tools.playbook import canary_shape

# Taints the node lifecycle controller puts on a node whose kubelet stopped reporting (or reports NotReady).
NODE_DOWN_TAINTS = ("node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable")
# kubectl's STATUS of a pod whose node is lost (the pod's reason NodeLost; Unknown once it is being deleted).
LOST_STATUSES = ("Unknown", "NodeLost")
DELETING = ("Terminating", "Unknown")  # kubectl's STATUS of a pod being deleted
MAX_LISTED = 5
MAX_PAIRS = 20


@dataclass(frozen=True)
class Placement:
    """One pod of the namespace and where it runs."""

    pod: str
    component: str
    node: str | None  # None: not scheduled
    status: str  # kubectl's STATUS
    failing: bool
    ready: str = ""  # READY as kubectl prints it (1/2)
    restarts: int = 0  # container restarts: a crashed instance left a previous log to read
    init_container: str = ""  # the init container it is stuck on (its log says why, not the app container's)

    def text(self) -> str:
        return f"{self.pod} {self.status}" + (f" {self.ready} ready" if self.ready else "")


@dataclass
class NodeState:
    """A node hosting failing pods, as read (or not)."""

    problems: list[str] = field(default_factory=list)  # why it cannot run pods; empty: looks fine, or not read
    cordoned: bool = False
    read: bool = True  # False: these credentials could not read it (or the read cap left it out)


@dataclass
class NodeFailure:
    node: str
    problems: list[str]
    cordoned: bool
    failing_pods: list[str]  # "pod STATUS" of the namespace's failing pods there
    components: list[str]  # apps of those pods
    fine_elsewhere: dict[str, list[str]]  # app -> other nodes where its pods are fine
    other_nodes: list[str]  # other suspect nodes with failing pods ("node-5 (2 failing pods)")


@dataclass
class CanaryPair:
    app: str  # what rollback_canary(app=...) takes
    canary: str
    stable: str
    services: list[str]  # Services whose selector picks the pods of both
    stable_ready: int
    stable_replicas: int
    canary_replicas: int
    # The nginx canary Ingress (and its Service) splitting a host between them when no Service selects both
    split: tuple[Split, str] | None = None


def node_problems(node: dict[str, Any]) -> list[str]:
    """Why a node cannot run its pods: its Ready condition is not True, or it carries a not-ready/unreachable taint."""
    problems = []
    conditions = (node.get("status") or {}).get("conditions") or []
    ready = next((c for c in conditions if c.get("type") == "Ready"), None)
    if ready is not None and ready.get("status") != "True":
        why = ": ".join(str(ready[k]) for k in ("reason", "message") if ready.get(k))
        problems.append(f"Ready={ready.get('status')}" + (f", {why[:160]}" if why else ""))
    taints = sorted(
        {str(t.get("key")) for t in (node.get("spec") or {}).get("taints") or [] if t.get("key") in NODE_DOWN_TAINTS}
    )
    if taints:
        problems.append(f"tainted {', '.join(taints)}")
    return problems


def suspect_nodes(placements: list[Placement], nodes: dict[str, NodeState]) -> dict[str, list[str]]:
    """Nodes with signs of failure: what was read of them, plus their pods showing the node lost (Unknown, NodeLost),
    which is seen even when the node itself cannot be read."""
    signs = {name: list(state.problems) for name, state in nodes.items() if state.problems}
    for place in placements:
        if place.node and place.status in LOST_STATUSES:
            found = signs.setdefault(place.node, [])
            note = "its pods show the node lost (STATUS Unknown/NodeLost)"
            if note not in found:
                found.append(note)
    return signs


def find_node_failure(placements: list[Placement], nodes: dict[str, NodeState]) -> NodeFailure | None:
    """The suspect node the namespace's failures are concentrated on, or None.

    A node is blamed only with contrast: apps whose pods fail there run fine on other nodes and fail on no other
    node, and such failures are at least half of all failing pods (otherwise the node is a side story and the
    other rules look at the rest). A node whose own status says it is down is its own contrast."""
    suspects = suspect_nodes(placements, nodes)
    failing = [p for p in placements if p.failing]
    if not suspects or not failing:
        return None
    fail_on_good = {p.component for p in failing if p.node and p.node not in suspects}
    fine_elsewhere: dict[str, list[str]] = {}
    for place in placements:
        if not place.failing and place.node and place.node not in suspects:
            where = fine_elsewhere.setdefault(place.component, [])
            if place.node not in where:
                where.append(place.node)
    # On a node cordoned already, pods being deleted are what a drain leaves behind: nothing left to do there.
    explained = [
        p
        for p in failing
        if p.node in suspects
        and p.component not in fail_on_good
        and not (p.status in DELETING and nodes.get(p.node, NodeState()).cordoned)
    ]
    # A node that says itself it is down (its Ready condition, the lifecycle controller's taints) needs no contrast:
    # an app whose only pod is there (a single-replica database) has nothing fine elsewhere to compare with, and its
    # outage is the node's (review-assist7 H6). Inferred suspects (pods showing the node lost) still need one.
    down = {name for name, state in nodes.items() if state.problems}
    contrast = any(p.component in fine_elsewhere or p.node in down for p in explained)
    if not contrast or 2 * len(explained) < len(failing):
        return None
    by_node: dict[str, list[Placement]] = {}
    for place in explained:
        by_node.setdefault(str(place.node), []).append(place)
    node, here = max(sorted(by_node.items()), key=lambda item: len(item[1]))
    components = sorted({p.component for p in here})
    state = nodes.get(node, NodeState(read=False))
    return NodeFailure(
        node=node,
        problems=suspects[node],
        cordoned=state.cordoned,
        failing_pods=[p.text() for p in sorted(here, key=lambda p: p.pod)],
        components=components,
        fine_elsewhere={c: sorted(fine_elsewhere[c]) for c in components if c in fine_elsewhere},
        other_nodes=[f"{name} ({len(pods)} failing pods)" for name, pods in sorted(by_node.items()) if name != node],
    )


def template_labels(deployment: dict[str, Any]) -> dict[str, str]:
    template = (deployment.get("spec") or {}).get("template") or {}
    return dict(meta(template).labels)


def pick(deployments: list[dict[str, Any]], app: str, role: str) -> dict[str, Any] | None:
    """rollback_canary's choice of the `role` (canary/stable) deployment of `app`: named <app>-<role>, else the one
    whose pod template says app=<app>, version=<role>; none when it is ambiguous."""
    by_name = [d for d in deployments if name_of(d) == f"{app}-{role}"]
    by_label = [
        d for d in deployments if template_labels(d).get("app") == app and template_labels(d).get("version") == role
    ]
    found = by_name or by_label
    return found[0] if len(found) == 1 else None


def canary_pairs(
    deployments: list[dict[str, Any]],
    services: list[dict[str, Any]],
    replicasets: list[dict[str, Any]] | None = None,
    now: datetime | None = None,
) -> list[CanaryPair]:
    """Canary/stable pairs as rollback_canary finds them (at most MAX_PAIRS), with the Services fronting both: by
    the shipped convention, then by shape (two Deployments behind one Service, canary_shape)."""
    pairs = conventional_pairs(deployments, services)
    paired = {name for p in pairs for name in (p.canary, p.stable)}
    for app, canary, stable, fronting in canary_shape.service_pairs(
        deployments, services, replicasets or [], now or datetime.now(UTC)
    ):
        if name_of(canary) in paired or name_of(stable) in paired:
            continue
        paired |= {name_of(canary), name_of(stable)}
        pairs.append(pair_of(app, canary, stable, fronting))
    return pairs[:MAX_PAIRS]


def pair_of(app: str, canary: dict[str, Any], stable: dict[str, Any], fronting: list[str]) -> CanaryPair:
    status = stable.get("status") or {}
    return CanaryPair(
        app=app,
        canary=name_of(canary),
        stable=name_of(stable),
        services=fronting,
        stable_ready=int(status.get("readyReplicas") or 0),
        stable_replicas=int((stable.get("spec") or {}).get("replicas") or 0),
        canary_replicas=int((canary.get("spec") or {}).get("replicas") or 0),
    )


def conventional_pairs(deployments: list[dict[str, Any]], services: list[dict[str, Any]]) -> list[CanaryPair]:
    """<app>-canary/<app>-stable or version=canary/stable pairs."""
    apps = set()
    for deploy in deployments:
        name, tags = name_of(deploy), template_labels(deploy)
        if name.endswith("-canary"):
            apps.add(name.removesuffix("-canary"))
        if tags.get("version") == "canary" and tags.get("app"):
            apps.add(tags["app"])
    pairs = []
    for app in sorted(apps):
        canary, stable = pick(deployments, app, "canary"), pick(deployments, app, "stable")
        if canary is None or stable is None or name_of(canary) == name_of(stable):
            continue
        both = (template_labels(canary), template_labels(stable))
        fronting = sorted(
            name_of(s)
            for s in services
            if (selector := service_selector(s)) and all(labels.matches(selector, tags) for tags in both)
        )
        pairs.append(pair_of(app, canary, stable, fronting))
    return pairs


def find_failing_canary(
    pairs: list[CanaryPair], failing: dict[str, list[str]], unavailable: dict[str, int]
) -> CanaryPair | None:
    """A pair whose canary fails while its stable half is healthy and serving, behind a Service shared by both."""
    for pair in pairs:
        canary_bad = pair.canary in failing or pair.canary in unavailable
        stable_ok = pair.stable not in failing and pair.stable not in unavailable and pair.stable_ready > 0
        if canary_bad and stable_ok and (pair.services or pair.split):
            return pair
    return None


def with_splits(
    pairs: list[CanaryPair],
    deployments: list[dict[str, Any]],
    ingresses: list[dict[str, Any]],
    services: list[dict[str, Any]],
) -> list[CanaryPair]:
    """The pairs, each no Service fronts given the nginx canary Ingress splitting a host between them (if any)."""
    by_name = {name_of(d): d for d in deployments}
    for pair in pairs:
        if not pair.services and ingresses and pair.canary in by_name and pair.stable in by_name:
            tags = (template_labels(by_name[pair.canary]), template_labels(by_name[pair.stable]))
            pair.split = nginx_canary.pair_split(ingresses, services, *tags)
    # Pairs only the Ingress split says (web and web-v2, a Service each): rollback_canary's find_pair finds them too.
    paired = {name for p in pairs for name in (p.canary, p.stable)}
    labelled = {name: template_labels(d) for name, d in by_name.items()}
    for app, canary, stable, split, service in nginx_canary.ingress_pairs(ingresses, services, labelled):
        if canary in paired or stable in paired or len(pairs) >= MAX_PAIRS:
            continue
        paired |= {canary, stable}
        pair = pair_of(app, by_name[canary], by_name[stable], [])
        pair.split = (split, service)
        pairs.append(pair)
    return pairs
