"""The handoff's Current State: the service in the playbook's words, the mitigations applied, and what they left
behind. Pure.

Measures that share a restore command are one entry (a cordon and a drain of the same node are undone by one
uncordon). A drain's evictions are listed by name up to MAX_EVICTIONS, the rest counted by namespace. An isolation
says what it took out of traffic and that a human chose it, so the next engineer does not "fix" it by accident.

Layer: tools.playbook.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from incident_response.tools.engine import approvals
from incident_response.tools.engine.journal import CommandRow
from incident_response.tools.engine.plan import Target
from incident_response.tools.playbook.handoff_facts import clean, first_line
from incident_response.tools.playbook.handoff_leads import isolated_pods
from incident_response.tools.playbook.handoff_models import (
    MAX_EVICTIONS,
    ActionTaken,
    CurrentState,
    DeploymentState,
    ServiceState,
    TemporaryMeasure,
)
from incident_response.tools.playbook.stabilization import CHANGED, MitigationKind

MAX_NAMED_PODS = 6


def named(pods: Sequence[str]) -> str:
    shown = ", ".join(pods[:MAX_NAMED_PODS])
    return shown + (f" and {len(pods) - MAX_NAMED_PODS} more" if len(pods) > MAX_NAMED_PODS else "")


def chosen_by(row: CommandRow) -> str:
    """Who chose it, as the journal recorded the approval (a dialog's answer is the client's word, and says so)."""
    channel = row.decided_channel
    if not row.decided_by or not channel or channel == approvals.NO_APPROVAL:
        return "by choice (confirmed in full mode, without an approval)"
    if approvals.human_verified(channel):
        return f"by the human's choice (approved by {row.decided_by} via {channel})"
    return f"by the choice approved by {row.decided_by} via {channel} ({approvals.attestation(channel)})"


def evictions(row: CommandRow) -> list[str]:
    """namespace/pod of each eviction step the API accepted."""
    outcomes = (row.result or {}).get("steps") or []
    done = []
    for index, step in enumerate(row.plan.get("steps") or []):
        action = step.get("action") or {}
        status = outcomes[index].get("status") if index < len(outcomes) else None
        if action.get("verb") == "evict" and status == "succeeded":
            done.append(f"{action.get('namespace')}/{action.get('name')}")
    return done


def endpoints_left(plan: dict[str, Any]) -> list[Any] | None:
    change = next((c for c in plan.get("diff") or [] if str(c.get("path") or "").endswith(" endpoints")), None)
    after = change.get("after") if change else None
    return list(after) if isinstance(after, list) else None


def describe(row: CommandRow) -> tuple[str, str | None]:
    """(what is in place, what is offline by choice)."""
    plan, target = row.plan, row.plan.get("target") or {}
    name = str(target.get("name"))
    if row.tool in ("cordon_node", "drain_node"):
        return f"node {name} cordoned: no new pod is scheduled on it", None
    if row.tool == "remove_pods_from_service":
        pods, left = isolated_pods(plan), endpoints_left(plan)
        what = f"{len(pods)} pod(s) taken out of service {name} by removing a label (they still run, for debugging)"
        if left == []:
            return what, f"service {name} is offline {chosen_by(row)}: it has no endpoints left"
        kept = f"; service {name} keeps {len(left)} endpoint(s)" if left is not None else ""
        return what, f"pods {named(pods)} are offline (no traffic from service {name}) {chosen_by(row)}{kept}"
    if row.tool == "isolate_network":
        pods = isolated_pods(plan)
        return (
            f"NetworkPolicy {name} denies all ingress to pods {named(pods) or 'matching its selector'}",
            f"pods {named(pods) or 'matching NetworkPolicy ' + name} are offline {chosen_by(row)}: no traffic "
            "reaches them",
        )
    return clean(first_line(str(plan.get("summary") or row.tool))).rstrip("."), None


def temporary_measures(rows: Sequence[CommandRow], reverted: Mapping[str, str] | None = None) -> list[TemporaryMeasure]:
    """One entry per restore command, in the order first applied; `reverted`: measure token -> how someone else put
    back what it set (said in its `what`: no longer in place)."""
    grouped: dict[str, TemporaryMeasure] = {}
    for row in sorted(rows, key=lambda r: r.finished_at or r.created_at):
        restore = row.plan.get("undo_command")
        key = str(restore) if restore else row.token
        what, offline = describe(row)
        if (why := (reverted or {}).get(row.token)) is not None:
            what, offline = f"NO LONGER IN PLACE: {what}, {why}; restore_measure closes it", None
        evicted = evictions(row)
        entry = grouped.get(key)
        if entry is None:
            grouped[key] = TemporaryMeasure(
                measure_ids=[row.token],
                tools=[row.tool],
                target=Target.model_validate(row.plan.get("target") or {}),
                what=what,
                restore_command=str(restore) if restore else None,
                offline_by_choice=offline,
                applied_at=datetime.fromtimestamp(row.finished_at, UTC) if row.finished_at else None,
            )
            entry = grouped[key]
        else:
            entry.measure_ids.append(row.token)
            entry.tools += [row.tool] if row.tool not in entry.tools else []
            entry.offline_by_choice = entry.offline_by_choice or offline
        entry.evictions += [pod for pod in evicted if pod not in entry.evictions]
    return [bounded(entry) for entry in grouped.values()]


def bounded(entry: TemporaryMeasure) -> TemporaryMeasure:
    """Evictions by name up to MAX_EVICTIONS; the rest counted by namespace, never cut in the middle of a name."""
    if len(entry.evictions) <= MAX_EVICTIONS:
        return entry.model_copy(update={"evictions_total": len(entry.evictions)})
    rest = Counter(pod.partition("/")[0] for pod in entry.evictions[MAX_EVICTIONS:])
    summary = f"{sum(rest.values())} more: " + ", ".join(f"{count} in {ns}" for ns, count in rest.most_common())
    return entry.model_copy(
        update={
            "evictions": entry.evictions[:MAX_EVICTIONS],
            "evictions_total": len(entry.evictions),
            "evictions_rest": summary,
        }
    )


def service_word(states: Sequence[DeploymentState], offline: bool) -> ServiceState:
    verdicts = [s.verdict for s in states if s.verdict is not None]
    if not verdicts:
        return "unknown"
    serving = [v for v in verdicts if v in ("RECOVERED", "RECOVERING")]
    if len(serving) == len(verdicts):
        return "partial" if offline else "running"
    # An ISOLATED deployment is a part taken offline by a measure: partial, not degraded.
    return "degraded" if not serving and any(v != "ISOLATED" for v in verdicts) else "partial"


def current_state(
    states: list[DeploymentState],
    actions: Sequence[ActionTaken],
    measures: list[TemporaryMeasure],
    reverted: Collection[str] = (),
) -> CurrentState:
    """`reverted`: the commands of temporary measures someone else has since put back (no longer in place)."""
    offline = [m.offline_by_choice for m in measures if m.offline_by_choice]
    detail = "; ".join(
        f"{s.deployment if s.kind == 'deployment' else f'{s.kind} {s.deployment}'} {s.verdict or 'not verified'}: "
        f"{s.summary}"
        for s in states
    )
    detail = "; ".join(part for part in (detail or "no deployment verified", *offline) if part)
    applied = [a for a in actions if a.kind is not None and a.result in CHANGED and not a.maintenance]
    kinds: list[MitigationKind] = list(dict.fromkeys(a.kind for a in applied if a.kind is not None))
    effects = {
        "fixed": "fixed it",
        "recovering": "recovering",
        "not_fixed": "did not fix it",
        "not_verified": "not verified",
    }
    done = "; ".join(
        f"{a.tool} on {a.target} ({a.result}"
        + (f", {effects[a.effect]}" if a.effect else "")
        + ("; since reverted outside this server: NO LONGER IN PLACE)" if a.command in reverted else ")")
        for a in applied
    )
    # A command whose process died mid-way (or whose answer was lost) may have changed the cluster: "no mitigation
    # changed the cluster" would be a claim nobody checked.
    unsure = "; ".join(
        f"{a.tool} on {a.target} (outcome unknown: it may have applied; read the target)"
        for a in actions
        if a.result == "unknown"
    )
    return CurrentState(
        service=service_word(states, bool(offline)),
        service_detail=detail,
        mitigation=kinds,
        mitigation_detail="; ".join(p for p in (done, unsure) if p) or "no mitigation changed the cluster",
        temporary_measures=measures,
        deployments=states,
    )
