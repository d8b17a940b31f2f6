"""list_temporary_measures and restore_measure: what confirmed mitigations left in place, and putting it back.

A measure is a succeeded command planned with `temporary=True`, not yet restored by a later succeeded command
(the journal's view). Restoring is planned afresh against the cluster as it is now, from the values the original
plan recorded as its preconditions (the HPA's old bounds, the old selector, the removed label...), and runs like
any other plan: pending, confirmed, journaled with `restores` pointing at the measure.

Layer: tools.mitigate.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from incident_response.tools.core import errors
from incident_response.tools.core.models import ToolResult
from incident_response.tools.core.plan_warnings import warning
from incident_response.tools.engine import measure_drift
from incident_response.tools.engine.deps import Deps
from incident_response.tools.engine.measures import Measure, measure_of
from incident_response.tools.engine.pending import Proposal
from incident_response.tools.engine.plan import KubeWrite, PendingCommand, PlanDraft, pointer_parts
from incident_response.tools.engine.records import CommandRow
from incident_response.tools.engine.store import REVERTED_OUTSIDE
from incident_response.tools.k8s import labels
from incident_response.tools.k8s.args import Token
from incident_response.tools.k8s.controller_revisions import WorkloadKind
from incident_response.tools.kube.client import Kube
from incident_response.tools.mitigate import (
    isolation,
    memory,
    nodes,
    pause,
    restore_guard,
    rollback,
    scaling,
    traffic,
    workload_memory,
)


class MeasureList(ToolResult):
    measures: list[Measure]


def list_temporary_measures(deps: Deps) -> MeasureList:
    """List the temporary measures confirmed mitigations left in place (cordons, isolation policies, removed labels,
    HPA overrides, manual scales, changed selectors and ingress backends, raised limits, paused rollouts), each with
    its restore command. Use it before handing the incident off; restore each with restore_measure when the incident
    is over. Only those of this server's cluster and namespaces: a journal shared with other servers holds theirs
    too."""
    measures, gone = [], 0
    for row in deps.scope().commands(deps.journal.temporary_measures()):
        measure = measure_of(row)
        if (why := measure_drift.reverted(deps.kube, PendingCommand.model_validate(row.plan))) is not None:
            gone += 1  # listed until restore_measure closes it, saying it is no longer in place
            measure.summary = f"NO LONGER IN PLACE: {why}; restore_measure closes it. Was: {measure.summary}"
        measures.append(measure)
    text = "; ".join(
        f"{m.tool} {m.target.name} "
        + ("(reverted outside this server)" if m.summary.startswith("NO LONGER") else f"(restore: {m.restore_command})")
        for m in measures
    )
    head = f"{len(measures) - gone} temporary measure(s) in place" + (
        f", {gone} reverted outside this server (restore_measure closes them)" if gone else ""
    )
    if not measures:  # terse: the tool's name says what is none (an answer of one line is in both result parts)
        head = "none in place"
    return MeasureList(summary=head + (f": {text}" if text else ""), measures=measures)


def _expect(plan: PendingCommand, index: int = 0) -> dict[str, Any]:
    return plan.preconditions[index].expect if len(plan.preconditions) > index else {}


def plan_restore(kube: Kube, token: str, plan: PendingCommand) -> PlanDraft:
    """The plan that undoes one measure, from what its plan recorded."""
    target = plan.target
    namespace = target.namespace or ""
    if plan.tool in ("cordon_node", "drain_node"):
        return nodes.plan_cordon(kube, target.name, uncordon=True, restores=token)
    if plan.tool == "pause_rollout":
        return pause.plan_pause(kube, namespace, target.name, resume=True, restores=token)
    if plan.tool == "isolate_network":
        return isolation.plan_delete_policy(kube, namespace, target.name, token)
    if plan.tool == "override_hpa":
        expect = _expect(plan)
        low, high = expect.get("/spec/minReplicas"), expect.get("/spec/maxReplicas")
        return scaling.plan_override_hpa(
            kube, namespace, target.name, int(str(low or 1)), int(str(high or 1)), restores=token
        )
    if plan.tool == "scale_deployment":
        old_count = _expect(plan).get("/spec/replicas")
        if not isinstance(old_count, int) or isinstance(old_count, bool):  # never guess a count (0 is an outage)
            raise errors.InvalidArgument(
                f"the measure did not record the old replica count; restore by hand: {plan.undo_command}"
            )
        return scaling.plan_scale(kube, namespace, target.name, old_count, restores=token)
    if plan.tool == "set_memory_limit":
        expect = _expect(plan)
        container = next(str(v) for k, v in expect.items() if k.endswith("/name"))
        old = next((v for k, v in expect.items() if k.endswith("/memory")), None)
        if target.kind in ("StatefulSet", "DaemonSet"):
            kind: WorkloadKind = "statefulset" if target.kind == "StatefulSet" else "daemonset"
            return workload_memory.plan_workload_memory_limit(
                kube, namespace, kind, target.name, container, None if old is None else str(old), restores=token
            )
        if (revision := memory.rollback_undo(plan.undo_command)) is not None:
            # The limit was raised on an unfinished rollout: its undo brings the revision that served back (F27).
            draft = rollback.plan_rollback(kube, namespace, target.name, revision)
            return draft.model_copy(update={"tool": "restore_measure", "restores": token})
        return memory.plan_memory_limit(
            kube, namespace, target.name, container, None if old is None else str(old), restores=token
        )
    if plan.tool == "patch_service_selector":
        old = _expect(plan).get("/spec/selector") or {}
        text = ",".join(f"{k}={v}" for k, v in sorted(dict(old).items()))
        return traffic.plan_service_selector(
            kube, namespace, target.name, text, allow_no_endpoints=True, restores=token
        )
    if plan.tool == "switch_ingress_backend":
        path, backend = next((k, v) for k, v in _expect(plan).items() if k.endswith("/backend/service"))
        parts = pointer_parts(path)
        old = dict(backend)
        port = (old.get("port") or {}).get("number") or (old.get("port") or {}).get("name")
        return traffic.plan_ingress_backend(
            kube,
            namespace,
            target.name,
            str(old.get("name")),
            port=port,
            rule=int(parts[2]),
            path=int(parts[5]),
            restores=token,
        )
    if plan.tool == "remove_pods_from_service":
        pods = plan.preconditions[1]
        action = plan.steps[0].action
        assert isinstance(action, KubeWrite)
        key = next(iter(action.body["metadata"]["labels"]))
        values = [v for v in pods.expect.get(f"/metadata/labels/{key}") or [] if v is not None]
        rest = labels.without(labels.parse(pods.label_selector or ""), key)
        if not rest or not values:
            raise errors.InvalidArgument(f"this measure must be restored by hand: {plan.undo_command}")
        selector = labels.text((*rest, labels.Requirement(key, "!")))
        return isolation.plan_relabel(kube, namespace, selector, key, str(values[0]), token)
    raise errors.InvalidArgument(f"no restore is known for {plan.tool}; restore by hand: {plan.undo_command}")


DESPITE = (
    "Plan the restore although what the measure answered is still there (the refusal said what it saw); the plan "
    "carries that warning."
)


def restore_measure(
    deps: Deps,
    measure_id: Annotated[Token, Field(description="The measure_id from list_temporary_measures.")],
    restore_despite_condition: Annotated[bool, Field(description=DESPITE)] = False,
) -> Proposal:
    """Plan restoring one temporary measure (uncordon, resume a rollout, delete the isolation policy, put the label,
    selector, backend, HPA bounds, replica count or limit back). First checks that what the measure answered is gone
    (the HPA's load fits the old max, the isolated pods are gone, the node is Ready...) and refuses, saying what it
    saw, unless restore_despite_condition. Restoring is itself a pending command: nothing changes until it is
    confirmed."""
    shown = deps.scope().commands(deps.journal.temporary_measures())
    row = next((m for m in shown if m.token == measure_id), None)
    if row is None:
        raise errors.InvalidArgument(
            f"no temporary measure {measure_id!r} is in place (already restored, never confirmed, or unknown); "
            "run list_temporary_measures"
        )
    plan = PendingCommand.model_validate(row.plan)
    if (why := measure_drift.reverted(deps.kube, plan)) is not None:
        return close_reverted(deps, row, plan, why)
    if plan.tool in STACKING and (later := later_scale(shown, row.token, plan)) is not None:
        raise errors.InvalidArgument(
            f"{plan.target.kind} {plan.target.name} was changed again by a later {plan.tool} (measure {later}): "
            f"restore that one first, so each restore puts back {STACKING[plan.tool]} its own change replaced; "
            "nothing was planned"
        )
    draft = plan_restore(deps.kube, measure_id, plan)
    seen = restore_guard.findings(deps.kube, plan)
    if seen.holds and not restore_despite_condition:
        raise errors.InvalidArgument(
            f"not planned: what this {plan.tool} answered is still there: {'; '.join(seen.holds)}. Restore it once "
            "that is gone (verify_recovery and the read-only tools show it), or call restore_measure again with "
            "restore_despite_condition=true to plan it anyway; nothing changed"
        )
    draft.warnings += [
        warning("still_there", seen.briefs.get(line, line), f"Restored while still there: {line}")
        for line in seen.holds
    ]
    draft.warnings += [warning("unchecked", line) for line in seen.unchecked]
    return deps.propose(draft)


def close_reverted(deps: Deps, row: CommandRow, plan: PendingCommand, why: str) -> Proposal:
    """A measure someone else already put back: nothing to restore; journaled as reverted outside, it is no longer
    listed (F30)."""
    deps.journal.record_event(
        REVERTED_OUTSIDE, incident=row.incident, token=row.token, detail={"tool": plan.tool, "reverted": why}
    )
    summary = f"Measure {row.token} ({plan.tool} {plan.target.name}) was {why}: closed, nothing to restore."
    return Proposal(
        status="blocked",
        command="(none: already reverted)",
        diff=[],
        summary=summary,
        target=plan.target,
        risk="mutation",
        steps=[],
        preconditions=[],
        next_step="Nothing to confirm: the measure is closed (journaled as reverted outside this server). If it is "
        "still needed, plan it again (verify_recovery says whether the service holds without it).",
    )


# Measures whose restore writes back the values their own change replaced: restored out of order, the earlier one
# would overwrite the later change (an HPA's bounds back to 3..4 under an override to 23), and the later one's restore
# would then put the earlier override back with no measure left to list it.
STACKING = {
    "scale_deployment": "the count",
    "override_hpa": "the bounds",
    "set_memory_limit": "the limit",
}


def later_scale(shown: list[CommandRow], token: str, plan: PendingCommand) -> str | None:
    """The token of a measure of the same kind on the same object confirmed after this one and still in place."""
    mine = next(r for r in shown if r.token == token)
    for row in shown:
        other = PendingCommand.model_validate(row.plan)
        same = (other.target.namespace, other.target.name) == (plan.target.namespace, plan.target.name)
        if row.token != token and other.tool == plan.tool and same and (row.finished_at or 0) > (mine.finished_at or 0):
            return row.token
    return None
