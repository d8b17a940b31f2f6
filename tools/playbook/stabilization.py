"""What an incident's mitigations acted on, what verify_recovery found after each, and when it counts as stabilized.

A mitigation that succeeded at the API has not necessarily fixed anything: verify_recovery records each verdict on
the incident's timeline (event "verified"), and a mitigation's effect is the verdict recorded after it, before the
next one. The incident is stabilized when verify_recovery says RECOVERED for every deployment the mitigations acted
on (after an isolation or a node measure, which name no deployment: for the one verified, the service protected).
Pure: rows and events in, decisions out.

Layer: tools.playbook.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from incident_response.tools.engine.journal import CommandRow, Event

MitigationKind = Literal["rollback", "scale", "isolate", "restart", "pause"]
KIND_OF: dict[str, MitigationKind] = {
    "rollback_deployment": "rollback",
    "rollback_workload": "rollback",
    "rollback_helm_release": "rollback",
    "rollback_canary": "rollback",
    "scale_deployment": "scale",
    "override_hpa": "scale",
    "set_memory_limit": "scale",
    "remove_pods_from_service": "isolate",
    "isolate_network": "isolate",
    "cordon_node": "isolate",
    "drain_node": "isolate",
    "patch_service_selector": "isolate",
    "switch_ingress_backend": "isolate",
    "shift_traffic": "isolate",
    "delete_pod": "restart",
    "pause_rollout": "pause",  # holds a bad rollout where it stands (after a denied rollback): it changed the cluster
}
CHANGED = ("succeeded", "partial")  # a partial drain left its cordon: it changed the cluster too
Effect = Literal["fixed", "recovering", "not_fixed", "not_verified"]
VERIFIED = "verified"  # the journal event verify_recovery records


def changed_cluster(row: CommandRow, namespace: str) -> bool:
    """A mitigation (not a restore) that changed something for `namespace`: its target there, or a node."""
    target = row.plan.get("target") or {}
    here = target.get("namespace") == namespace or target.get("kind") == "Node"
    return row.tool in KIND_OF and row.state in CHANGED and row.restores is None and here


def applied(rows: Sequence[CommandRow], namespace: str) -> list[CommandRow]:
    """The incident's mitigations that changed the cluster for `namespace`, in the order they finished."""
    done = [row for row in rows if changed_cluster(row, namespace)]
    return sorted(done, key=lambda row: row.finished_at or row.created_at)


def acted_on(rows: Sequence[CommandRow], namespace: str, scale_target: Callable[[str], str | None]) -> list[str]:
    """Workloads in `namespace` the commands targeted or wrote (Deployments, StatefulSets, DaemonSets); an HPA's
    through `scale_target(hpa name)`."""
    names: list[str] = []
    for row in rows:
        target = row.plan.get("target") or {}
        if target.get("namespace") != namespace:
            continue
        if target.get("kind") in ("Deployment", "StatefulSet", "DaemonSet"):
            names.append(str(target.get("name")))
        elif target.get("kind") == "HorizontalPodAutoscaler":
            followed = scale_target(str(target.get("name")))
            names += [followed] if followed else []
        names += written_deployments(row.plan, namespace)
    return list(dict.fromkeys(names))


def written_deployments(plan: dict[str, Any], namespace: str) -> list[str]:
    """Deployments in `namespace` that a plan's steps write besides its target (a canary rollback's stable one)."""
    actions = [step.get("action") or {} for step in plan.get("steps") or [] if isinstance(step, dict)]
    return [
        str(action.get("name"))
        for action in actions
        if action.get("resource") == "deployments" and action.get("namespace") == namespace and action.get("name")
    ]


@dataclass(frozen=True)
class Verification:
    """One verify_recovery verdict as the journal kept it."""

    namespace: str
    deployment: str
    verdict: str
    at: datetime
    failing: tuple[str, ...]
    summary: str

    @classmethod
    def of(cls, event: Event) -> Verification | None:
        detail = event.detail or {}
        if event.kind != VERIFIED or not detail.get("deployment") or not detail.get("verdict"):
            return None
        return cls(
            namespace=str(detail.get("namespace")),
            deployment=str(detail["deployment"]),
            verdict=str(detail["verdict"]),
            at=datetime.fromtimestamp(event.at, UTC),
            failing=tuple(str(f) for f in detail.get("failing") or []),
            summary=str(detail.get("summary") or ""),
        )


def verifications(events: Sequence[Event], namespace: str) -> list[Verification]:
    found = [v for v in map(Verification.of, events) if v is not None and v.namespace == namespace]
    return sorted(found, key=lambda v: v.at)


def finished(row: CommandRow) -> datetime:
    return datetime.fromtimestamp(row.finished_at or row.created_at, UTC)


def stabilizes(done: Sequence[CommandRow], seen: Sequence[Verification], targets: Sequence[str]) -> bool:
    """Whether the verdicts since the last mitigation say RECOVERED for every target (the latest verdict of each)."""
    if not done or not targets:
        return False
    since = max(finished(row) for row in done)
    for name in targets:
        latest = [v for v in seen if v.deployment == name and v.at >= since]
        if not latest or latest[-1].verdict != "RECOVERED":
            return False
    return True


def clock(when: datetime) -> str:
    return when.strftime("%H:%M UTC")


@dataclass(frozen=True)
class MitigationEffect:
    effect: Effect
    detail: str
    verified_at: datetime | None


def effect_of(targets: Sequence[str], after: Sequence[Verification], *, last: bool) -> MitigationEffect:
    """What the verdicts recorded after a mitigation (and before the next) say it did. `targets`: the deployments it
    acted on (empty: any verified after it counts, as after an isolation); `last`: no mitigation came after it."""
    relevant = [v for v in after if not targets or v.deployment in targets] or list(after)
    latest: dict[str, Verification] = {}
    for verification in relevant:
        latest[verification.deployment] = verification
    if not latest:
        detail = "not verified afterwards" if last else "not verified before the next action"
        return MitigationEffect("not_verified", detail, None)
    at = max(v.at for v in latest.values())
    degraded = [v for v in latest.values() if v.verdict == "DEGRADED"]
    if degraded:
        named = "; ".join(
            f"{v.deployment} still DEGRADED at {clock(v.at)}"
            + (f" (failing: {', '.join(v.failing)})" if v.failing else "")
            for v in degraded
        )
        return MitigationEffect("not_fixed", f"did not fix the service: verify_recovery found {named}", at)
    names = ", ".join(sorted(latest))
    if all(v.verdict == "RECOVERED" for v in latest.values()):
        return MitigationEffect("fixed", f"fixed it: verify_recovery said RECOVERED for {names} at {clock(at)}", at)
    isolated = sorted(v.deployment for v in latest.values() if v.verdict == "ISOLATED")
    if isolated:
        return MitigationEffect(
            "recovering",
            f"contained, not fixed: verify_recovery said ISOLATED for {', '.join(isolated)} at {clock(at)} (cut off "
            "from traffic by a temporary measure)",
            at,
        )
    return MitigationEffect(
        "recovering",
        f"not proven yet: verify_recovery said RECOVERING for {names} at {clock(at)} (nothing failing, the stability "
        "window had not passed)",
        at,
    )
