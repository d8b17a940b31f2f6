"""The pre-rollback checks that differ for a StatefulSet or a DaemonSet, as pure functions over what was read: how its
update strategy carries the rollback out (ordered from the highest ordinal, a partition, OnDelete, node by node),
and that a StatefulSet's claims keep what the newer revision wrote.

Layer: tools.playbook.
"""

from __future__ import annotations

from typing import Any

from incident_response.tools.k8s import controller_revisions as cr
from incident_response.tools.k8s.views import meta
from incident_response.tools.playbook.rollback_checks import SafetyItem, capped, stateful_item


def pods_at(kind: str, revision: dict[str, Any], pods: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The pods of `revision` (by the controller-revision-hash label the controller gives them)."""
    key = cr.pod_revision_key(kind, revision)
    return [p for p in pods if meta(p).labels.get(cr.REVISION_HASH) == key]


def _names(pods: list[dict[str, Any]]) -> list[str]:
    return sorted((str(meta(p).name) for p in pods), key=_ordinal_key)


def _ordinal_key(name: str) -> tuple[int, str]:
    tail = name.rsplit("-", 1)[-1]
    return (int(tail), name) if tail.isdigit() else (-1, name)


def _live(pods: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [p for p in pods if not meta(p).deletion_timestamp]


def not_at_target(kind: str, target: dict[str, Any], pods: list[dict[str, Any]]) -> list[dict[str, Any]]:
    key = cr.pod_revision_key(kind, target)
    return [p for p in _live(pods) if meta(p).labels.get(cr.REVISION_HASH) != key]


def update_strategy_item(
    kind: str, workload: dict[str, Any], target: dict[str, Any], pods: list[dict[str, Any]]
) -> SafetyItem:
    """How the controller carries the rollback out, and what that leaves to a human."""
    name = meta(workload).name
    strategy = (workload.get("spec") or {}).get("updateStrategy") or {}
    number = cr.number(target)
    behind = not_at_target(kind, target, pods)
    if strategy.get("type", "RollingUpdate") == "OnDelete":
        order = ", highest ordinal first" if kind == "statefulset" else ""
        names = _names(behind)
        listed = list(reversed(names)) if kind == "statefulset" else names
        return SafetyItem(
            check="update_strategy",
            status="warning",
            detail=f"{kind} {name} uses updateStrategy OnDelete: the rollback changes its template but no pod until it "
            f"is deleted. After confirming, delete the pods not at revision {number} one at a time{order} "
            "(delete_pod), checking each comes back Ready",
            evidence=capped([f"pod/{n} is not at revision {number}" for n in listed] or ["every pod is at it now"]),
            questions=[f"Who deletes {name}'s pods one by one after the rollback, and watches each come back?"],
        )
    if kind == "daemonset":
        return _daemonset_item(workload, number, behind)
    return _statefulset_item(workload, target, pods, behind)


def _statefulset_item(
    sts: dict[str, Any], target: dict[str, Any], pods: list[dict[str, Any]], behind: list[dict[str, Any]]
) -> SafetyItem:
    spec, status = sts.get("spec") or {}, sts.get("status") or {}
    name = meta(sts).name
    number = cr.number(target)
    replicas = spec.get("replicas", 1)
    partition = int(((spec.get("updateStrategy") or {}).get("rollingUpdate") or {}).get("partition") or 0)
    parallel = spec.get("podManagementPolicy") == "Parallel"
    evidence = [
        f"status: currentRevision {status.get('currentRevision')} on {status.get('currentReplicas', 0)} pods, "
        f"updateRevision {status.get('updateRevision')} on {status.get('updatedReplicas', 0)}, "
        f"{status.get('readyReplicas', 0)}/{replicas} ready"
    ]
    evidence += [f"pod/{n} is not at revision {number}" for n in reversed(_names(behind))]
    stuck = cr.stuck_pods(sts, pods, target)
    how = (
        "replaces every pod not at the target at once (podManagementPolicy Parallel)"
        if parallel
        else f"replaces one pod at a time from the highest ordinal ({name}-{replicas - 1} first), each only after the "
        f"one before is Running and Ready: allow {max(replicas - partition, 0)} pod start-ups"
    )
    detail = f"statefulset {name} {how}"
    if stuck:
        detail += (
            f"; {', '.join(stuck)} never got Ready and would hold the ordered rollback forever: rollback_workload "
            "deletes them as its second step so they are recreated at the target (their claims stay)"
        )
    below = [p for p in behind if _ordinal_key(str(meta(p).name))[0] in range(partition)]
    if partition and below:
        return SafetyItem(
            check="update_strategy",
            status="warning",
            detail=detail + f". Its partition is {partition}: pods below ordinal {partition} are not rolled back, and "
            f"{', '.join(_names(below))} run another revision than {number} now. Ask whether to lower the partition "
            "(the human edits spec.updateStrategy.rollingUpdate.partition) or delete those pods after the rollback",
            evidence=capped(evidence),
            questions=[f"Should {', '.join(_names(below))} (below the partition) be rolled back too?"],
        )
    if partition:
        detail += f"; its partition is {partition}, and every pod below it already runs revision {number}"
    return SafetyItem(check="update_strategy", status="ok", detail=detail, evidence=capped(evidence))


def _daemonset_item(ds: dict[str, Any], number: int, behind: list[dict[str, Any]]) -> SafetyItem:
    spec, status = ds.get("spec") or {}, ds.get("status") or {}
    name = meta(ds).name
    rolling = (spec.get("updateStrategy") or {}).get("rollingUpdate") or {}
    unavailable, surge = rolling.get("maxUnavailable", 1), rolling.get("maxSurge", 0)
    desired = int(status.get("desiredNumberScheduled") or 0)
    scheduled = int(status.get("currentNumberScheduled") or 0)
    misscheduled = int(status.get("numberMisscheduled") or 0)
    evidence = [
        f"status: {desired} nodes should run it, {scheduled} do, {status.get('numberReady', 0)} ready, "
        f"{status.get('updatedNumberScheduled', 0)} at the newest revision, {misscheduled} misscheduled"
    ]
    evidence += [f"pod/{meta(p).name} on node {_node(p)} is not at revision {number}" for p in behind]
    gap = (
        "each replacement starts before the old pod stops (maxSurge), so no node goes without it"
        if str(surge) not in ("0", "0%")
        else f"each node is without its {name} pod while that pod is replaced (up to {unavailable} at once): "
        "what on that node reaches it through the node loses it for a restart"
    )
    detail = (
        f"daemonset {name} rolls back node by node (maxUnavailable {unavailable}, maxSurge {surge}), cordoned "
        f"nodes included; {gap}. Failing old pods are replaced first, outside that budget"
    )
    if scheduled < desired or misscheduled:
        detail += (
            f". Node coverage is incomplete ({scheduled} of {desired} nodes run it, {misscheduled} misscheduled): "
            "a rollback does not fix scheduling (taints, node selector, resources)"
        )
    return SafetyItem(check="update_strategy", status="ok", detail=detail, evidence=capped(evidence))


def _node(pod: dict[str, Any]) -> str:
    return str((pod.get("spec") or {}).get("nodeName") or "(unscheduled)")


def host_paths(workload: dict[str, Any]) -> list[str]:
    """Writable hostPath volumes of the pod template, as `name (path)`: node-local state a rollback leaves behind."""
    spec = ((workload.get("spec") or {}).get("template") or {}).get("spec") or {}
    paths = {
        str(v.get("name")): str((v.get("hostPath") or {}).get("path"))
        for v in spec.get("volumes") or []
        if isinstance(v, dict) and v.get("hostPath")
    }
    writable = {
        str(m.get("name"))
        for c in [*(spec.get("initContainers") or []), *(spec.get("containers") or [])]
        for m in c.get("volumeMounts") or []
        if not m.get("readOnly")
    }
    return [f"{name} ({path})" for name, path in sorted(paths.items()) if name in writable]


def daemonset_state_item(
    daemonset: dict[str, Any], labelled: set[str] | None, current: int | None, target: int
) -> SafetyItem:
    """A DaemonSet's writable hostPath volumes keep on every node what the newer revision wrote; else as any
    workload (claims)."""
    found = host_paths(daemonset)
    if not found:
        return stateful_item(daemonset, labelled, current)
    name = meta(daemonset).name
    newer = f"revision {current}" if current is not None else "the current revision"
    return SafetyItem(
        check="stateful",
        status="warning",
        detail=f"daemonset {name} writes to hostPath volumes {', '.join(found)}: each node keeps what {newer} "
        f"wrote there, and revision {target}'s pods read it back. If {newer} changed that data's format (a position "
        "file, a cache, a socket's protocol), roll back only with its owners' word",
        evidence=[f"hostPath volume {v} is mounted writable" for v in found],
        questions=[f"Did {newer} of {name} write node-local data under {found[0]} that revision {target} cannot read?"],
    )


def statefulset_claims_item(
    sts: dict[str, Any], labelled: set[str] | None, current: int | None, target: int
) -> SafetyItem:
    """A StatefulSet's claims stay with its pods across a rollback: revision `target` reads what `current` wrote."""
    claims = cr.claim_names(sts)
    if not claims:
        return stateful_item(sts, labelled, current)
    name = meta(sts).name
    newer = f"revision {current}" if current is not None else "the current revision"
    evidence = [f"pvc/{c} from volumeClaimTemplates stays bound to its pod's ordinal" for c in claims]
    evidence += [f"pvc/{c} is labelled for this app" for c in sorted((labelled or set()) - set(claims))]
    return SafetyItem(
        check="stateful",
        status="warning",
        detail=f"statefulset {name}'s PersistentVolumeClaims {', '.join(claims)} are not rolled back: each pod "
        f"returns to revision {target}'s code on the data {newer} wrote. A rollback undoes no data change or schema "
        f"migration; if {newer} made one the older code cannot read, do not roll back (isolate, or restore from a "
        "backup with the owners of the data)",
        evidence=capped(evidence),
        questions=[
            f"Did {newer} of {name} write data to {', '.join(claims[:3])}{' ...' if len(claims) > 3 else ''} in a "
            f"format or schema revision {target} cannot read (a forward-only migration, an upgraded on-disk format)?"
        ],
    )
