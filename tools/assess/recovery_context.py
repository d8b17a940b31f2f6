"""What verify_recovery reads besides the deployment's own pods: its autoscalers, the temporary measures in place
that may cut it off from traffic, and the mitigations that bear on it.

Layer: tools.assess.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, Field, PrivateAttr

from incident_response.tools.core import errors
from incident_response.tools.engine import measure_drift
from incident_response.tools.engine.deps import Deps
from incident_response.tools.engine.plan import PendingCommand, target_text
from incident_response.tools.engine.records import CommandRow
from incident_response.tools.k8s.hpa_load import HpaLoad, scaling
from incident_response.tools.k8s.views import meta
from incident_response.tools.kube.client import Kube
from incident_response.tools.kube.paging import list_all
from incident_response.tools.playbook import replica_writes
from incident_response.tools.playbook.recovery_checks import PodFacts
from incident_response.tools.playbook.recovery_credit import Subject, bears_on
from incident_response.tools.playbook.recovery_isolation import ISOLATING, Isolation, MeasureNow, isolations

WRITTEN = {"isolate_network": "networkpolicies", "patch_service_selector": "services"}


class Mitigation(BaseModel):
    tool: str
    summary: str
    target: str = Field(description="kind/name -n namespace.")
    command: str | None
    finished_at: datetime
    # A temporary measure someone else put back since (measure_drift.reverted): said in the text (not in the schema)
    _reverted: str | None = PrivateAttr(default=None)

    def note_reverted(self, why: str | None) -> None:
        self._reverted = why

    def reverted_note(self) -> str | None:
        return self._reverted


KINDS = {"deployment": "Deployment", "statefulset": "StatefulSet", "daemonset": "DaemonSet"}


def autoscalers(kube: Kube, namespace: str, name: str, kind: str = "deployment") -> list[HpaLoad]:
    """The HPAs that scale the workload (none when they cannot be read: the other checks still stand)."""
    try:
        listed = list_all(kube, "horizontalpodautoscalers", namespace).items
    except (errors.Forbidden, errors.NotFound):
        return []
    return scaling(listed, KINDS.get(kind, kind), name)


def template_labels(deploy: dict[str, Any]) -> dict[str, str]:
    template = ((deploy.get("spec") or {}).get("template") or {}).get("metadata") or {}
    return {str(k): str(v) for k, v in (template.get("labels") or {}).items()}


def subject(
    deploy: dict[str, Any], replicasets: list[dict[str, Any]], facts: list[PodFacts], services: list[str]
) -> Subject:
    return Subject(
        namespace=str(meta(deploy).namespace),
        name=str(meta(deploy).name),
        template_labels=template_labels(deploy),
        annotations={str(k): str(v) for k, v in meta(deploy).annotations.items()},
        services=frozenset(services),
        replicasets=frozenset(str(meta(rs).name) for rs in replicasets),
        pods=frozenset(f.name for f in facts),
        nodes=frozenset(f.row.node for f in facts if f.active and f.row.node),
    )


def last_mitigation(deps: Deps, who: Subject) -> Mitigation | None:
    """The newest succeeded command of this cluster that bears on the deployment (itself, its HPA, its Services,
    its pods, a node it runs on...); another deployment's rollback is not credited to it."""
    newest: Mitigation | None = None
    newest_row: CommandRow | None = None
    for row in deps.scope().commands(deps.journal.commands(states=["succeeded"])):
        if row.finished_at is None or not bears_on(row.plan, who):
            continue
        finished = datetime.fromtimestamp(row.finished_at, UTC)
        if newest is None or finished > newest.finished_at:
            newest = Mitigation(
                tool=row.tool,
                summary=str(row.plan.get("summary") or ""),
                target=target_text(row.plan),
                command=row.plan.get("command"),
                finished_at=finished,
            )
            newest_row = row
    if newest is not None and newest_row is not None and newest_row.temporary:
        newest.note_reverted(measure_drift.reverted(deps.kube, PendingCommand.model_validate(newest_row.plan)))
    return newest


def isolating(deps: Deps, namespace: str, facts: list[PodFacts], labels: dict[str, str]) -> list[Isolation]:
    """The temporary measures in place in the namespace that cut the deployment's pods off from traffic."""
    measures = []
    others: tuple[dict[str, Any], ...] | None = None
    for row in deps.scope().commands(deps.journal.temporary_measures()):
        target = row.plan.get("target") or {}
        if row.tool not in ISOLATING or target.get("namespace") != namespace:
            continue
        if row.tool == "isolate_network" and others is None:
            others = namespace_policies(deps, namespace)
        resource = WRITTEN.get(row.tool, "services")
        try:
            now: dict[str, Any] | None = deps.kube.get(resource, str(target.get("name")), namespace)
        except errors.NotFound:
            now = None
        except errors.Forbidden:
            # Not allowed to look: a policy we created is judged as we created it (the journal says it is in place),
            # rather than called gone.
            now = written(row.plan) if row.tool == "isolate_network" else None
        measures.append(MeasureNow(row, now, others or ()))
    return isolations(measures, facts, labels)


def namespace_policies(deps: Deps, namespace: str) -> tuple[dict[str, Any], ...]:
    """The namespace's NetworkPolicies, read once for the isolations; none when these credentials may not list them
    (an isolation is then judged by its own policy, as before)."""
    try:
        return tuple(list_all(deps.kube, "networkpolicies", namespace).items)
    except errors.Forbidden:
        return ()


def written(plan: dict[str, Any]) -> dict[str, Any] | None:
    """The object a plan's first step created, as the plan recorded it."""
    steps = plan.get("steps") or []
    body = ((steps[0] or {}).get("action") or {}).get("body") if steps else None
    return body if isinstance(body, dict) else None


def scaled_off(deps: Deps, namespace: str, name: str) -> Isolation | None:
    """The command of this server that took the deployment to 0 replicas, when the last one that sized it did: a
    deployment we took offline runs nothing, so nothing fails, and it is not recovered either."""
    last: tuple[float, Any, Any] | None = None
    for row in deps.scope().commands(deps.journal.commands(states=["succeeded", "partial"])):
        if row.tool not in replica_writes.SCALING or row.finished_at is None:
            continue
        after = replica_writes.replicas_set(row.plan, namespace, name)
        if after is not None and (last is None or row.finished_at >= last[0]):
            last = (row.finished_at, after, row)
    if last is None or last[1] != 0:
        return None
    row = last[2]
    return Isolation(
        row.token, row.incident, f"scaled to 0 by {row.tool} (command {row.token} of incident {row.incident})"
    )
