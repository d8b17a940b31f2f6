"""Which side of a helm drift is healthy: the live workload (changed outside helm) or the deployed revision.

A workload changed outside helm is either the bad change (a hot-fix that crash-loops: re-applying the deployed
revision is the rollback) or the fix (the deployed release was bad and someone set a working image by hand:
re-applying the release undoes the fix). The evidence: the live pods on the changed image (failing, all Ready, or
not settled yet), and the deployed revision's pods before the change (their Warning events, while events last).
rollback_helm_release re-applies by default only when the live change fails and nothing shows the release failed;
otherwise it says what it found and asks for an explicit revision.

Layer: tools.mitigate.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from incident_response.tools.core import errors
from incident_response.tools.engine.event_reads import read_warnings
from incident_response.tools.k8s.backends import broken, ready, terminating
from incident_response.tools.k8s.podstatus import last_termination, restart_count
from incident_response.tools.k8s.quantity import parse_time
from incident_response.tools.k8s.views import meta
from incident_response.tools.k8s.workloads import owned_by, selector_string
from incident_response.tools.kube.client import Kube
from incident_response.tools.mitigate.helm_drift import Drifted, live_images, same_image

State = Literal["failing", "healthy", "unsettled"]
# Warning reasons that say a pod failed (crash-loop back-off, image or config errors, OOM), not a slow start's probe.
FAILURES = ("BackOff", "Failed", "OOMKilling")
RECENT_CRASH_SECONDS = 600


@dataclass(frozen=True)
class Health:
    state: State
    live: str  # what the live pods on the changed image show
    before: str = ""  # the deployed revision's pods failed before the change: how we know ("" when nothing shows it)


def _owners(kube: Kube, namespace: str, kind: str, workload: dict[str, Any]) -> list[dict[str, Any]]:
    """The objects that own the workload's pods: its ReplicaSets for a Deployment, else the workload itself."""
    if kind != "deployment":
        return [workload]
    selector = selector_string((workload.get("spec") or {}).get("selector"))
    return [rs for rs in kube.list("replicasets", namespace, label_selector=selector).items if owned_by(rs, workload)]


def _pods(kube: Kube, namespace: str, owners: list[dict[str, Any]], workload: dict[str, Any]) -> list[dict[str, Any]]:
    selector = selector_string((workload.get("spec") or {}).get("selector"))
    if not selector:
        return []
    pods = kube.list("pods", namespace, label_selector=selector).items
    return [p for p in pods if not terminating(p) and any(owned_by(p, o) for o in owners)]


def _desired(kind: str, workload: dict[str, Any]) -> int:
    if kind == "daemonset":
        return int((workload.get("status") or {}).get("desiredNumberScheduled") or 0)
    return int((workload.get("spec") or {}).get("replicas", 1))


def pod_images(pod: dict[str, Any]) -> dict[str, str]:
    spec = pod.get("spec") or {}
    containers = [*(spec.get("initContainers") or []), *(spec.get("containers") or [])]
    return {str(c.get("name")): str(c.get("image")) for c in containers if isinstance(c, dict)}


def crashed(pod: dict[str, Any], now: datetime) -> str | None:
    """A pod on the changed image that exited with an error and is not Ready, or did so in the last 10 minutes
    (between two crash-loop restarts its status reads Running; back-off waits 5 minutes at most). One crash at
    start long ago, Ready since, is no failure: a healthy fix is not undone for it."""
    last = last_termination(pod)
    if not restart_count(pod) or last is None or not last.exit_code:
        return None
    finished = parse_time(last.finished_at)
    if ready(pod) and (finished is None or (now - finished).total_seconds() > RECENT_CRASH_SECONDS):
        return None
    return f"restarted {restart_count(pod)} times, last exit {last.reason or last.exit_code}"


def live_health(
    pods: list[dict[str, Any]], kind: str, workload: dict[str, Any], changed: list[Drifted]
) -> tuple[State, str]:
    """How the workload's pods on its changed images do: failing, healthy (every pod on them and Ready), or not
    settled yet (a rollout under way, pods not Ready yet)."""
    name = f"{kind} {changed[0].name}"
    images = ", ".join(sorted({d.live for d in changed}))
    on_live = [p for p in pods if all(same_image(pod_images(p).get(d.container, ""), d.live) for d in changed)]
    now = datetime.now(UTC)
    failing = [(p, why) for p in on_live if (why := broken(p) or crashed(p, now))]
    if failing:
        pod, why = failing[0]
        more = f" and {len(failing) - 1} more" if len(failing) > 1 else ""
        return (
            "failing",
            f"{name}'s pods on {'them' if len(changed) > 1 else 'it'} fail ({meta(pod).name}: {why}{more})",
        )
    settled = [p for p in on_live if ready(p)]
    desired = _desired(kind, workload)
    if on_live and len(settled) == len(pods) >= desired:
        return "healthy", f"{name}'s {len(settled)} pods on {images} are all Ready, none failing"
    return "unsettled", f"{name} has {len(settled)} of {desired} pods Ready on {images} so far, none failing yet"


def failed_before(
    owners: list[dict[str, Any]], kind: str, changed: list[Drifted], warnings: list[dict[str, Any]]
) -> str:
    """The Warning events on the pods of the Deployment's ReplicaSets that ran the released images: "" when none
    (or not a Deployment: its pods' names do not say their revision)."""
    if kind != "deployment":
        return ""
    released = [
        str(meta(rs).name)
        for rs in owners
        if all(same_image(live_images(rs).get(d.container, ""), d.released) for d in changed)
    ]
    hits = [
        e
        for e in warnings
        if e.get("reason") in FAILURES
        and (e.get("involvedObject") or {}).get("kind") == "Pod"
        and any(str((e.get("involvedObject") or {}).get("name", "")).startswith(f"{rs}-") for rs in released)
    ]
    if not hits:
        return ""
    reasons = Counter[str]()
    for event in hits:
        reasons[str(event.get("reason") or "")] += int(event.get("count") or 1)
    said = ", ".join(f"{reason} x{n}" for reason, n in reasons.most_common(3))
    pod = str((hits[0].get("involvedObject") or {}).get("name"))
    return f"its pods on the release's {changed[0].released} failed before the change ({said}; e.g. pod {pod})"


def drift_health(
    kube: Kube, namespace: str, workloads: dict[tuple[str, str], dict[str, Any]], found: list[Drifted]
) -> Health:
    """The live side's state over every drifted workload (failing if any fails, healthy if all are), and whether the
    deployed revision's pods failed before. Unreadable pods or events leave the state unsettled / the history
    unsaid."""
    by_workload: dict[tuple[str, str], list[Drifted]] = {}
    for d in found:
        by_workload.setdefault((d.kind, d.name), []).append(d)
    states: list[tuple[State, str]] = []
    befores: list[str] = []
    try:
        warnings = read_warnings(kube, namespace).items
    except errors.Forbidden:
        warnings = []
    for key, changed in by_workload.items():
        workload = workloads.get(key)
        if workload is None:
            continue
        try:
            owners = _owners(kube, namespace, key[0], workload)
            states.append(live_health(_pods(kube, namespace, owners, workload), key[0], workload, changed))
            if said := failed_before(owners, key[0], changed, warnings):
                befores.append(f"{key[0]} {key[1]}: {said}")
        except errors.Forbidden:
            states.append(("unsettled", f"{key[0]} {key[1]}'s pods could not be read"))
    pick = next((s for s in states if s[0] == "failing"), None) or next(
        (s for s in states if s[0] == "unsettled"), None
    )
    state, live = pick or (states[0] if states else ("unsettled", "no drifted workload could be read"))
    return Health(state, live, "; ".join(befores))


def choose_first(release: str, health: Health, found: list[Drifted], deployed: int, earlier: str) -> str:
    """The refusal of the default re-apply when the live change is not known to be the failing one: what was found
    and the explicit choices. `earlier`: "revision=2 (chart ..., app ...)" or ""."""
    change = found[0].text() + (f" (and {len(found) - 1} more)" if len(found) > 1 else "")
    if health.state == "healthy" and health.before:
        why = (
            f"{health.live}: the change made outside helm looks like the fix, and re-applying revision {deployed} "
            "would undo it"
        )
    elif health.state == "healthy":
        # Running Ready is not being a fix: nothing shows the release failed, so it may be a change nobody reviewed.
        why = (
            f"{health.live}, and nothing shows the release failed before it: a fix or a change nobody reviewed "
            f"(ask who made it), and re-applying revision {deployed} would undo it"
        )
    elif health.state == "unsettled":
        why = f"{health.live}: which side is healthy is not known yet (check rollout_status, then plan again)"
    else:
        why = f"{health.live}, but revision {deployed} failed too, so neither is known good"
    before = f"; {health.before}" if health.before else ""
    options = f"revision={deployed} re-applies the release (undoing that change)"
    options += f", {earlier} goes back further" if earlier else ""
    return (
        f"will not pick a revision of helm release {release} by default: {change}. {why}{before}. Decide with the "
        f"human and pass the revision: {options}; to keep the change, record it in helm (a helm upgrade with it in "
        "the values; no tool does that)"
    )


def undoes_healthy(health: Health) -> str:
    """The warning of an explicit revision that undoes a healthy change made outside helm ("" otherwise); the plan's
    diff and undo name the images."""
    if health.state != "healthy":
        return ""
    before = "; the release's pods failed before it" if health.before else ""
    return (
        f"This undoes a change made outside helm whose pods all run Ready{before}: approve only if the human chose "
        "to undo it"
    )
