"""Running a plan's steps through the Kube seam, and re-reading what a plan depended on.

Outcome rules: a definite refusal from the API (4xx, or the request never left) means the step
`failed` and changed nothing; a lost answer, or a 5xx on a write (the server may have applied part of it), means
`unknown`. Success is only reported when the API answered 2xx for the write. A plan whose step failed after earlier
steps were applied is `partial`: the answer names what was applied and how to undo just that.

Layer: tools.engine.
"""

from __future__ import annotations

from typing import Any, Literal, Protocol

from incident_response.tools.core import errors
from incident_response.tools.engine.outcomes import StepOutcome
from incident_response.tools.engine.plan import (
    Drift,
    ExecRun,
    KubeWrite,
    Precondition,
    Step,
    pointed_values,
    resolve,
    seal_digest,
    sealed_refs,
    unsealed,
)
from incident_response.tools.k8s.views import meta
from incident_response.tools.kube.client import Kube

StepStatus = Literal["succeeded", "failed", "unknown"]
Outcome = Literal["succeeded", "failed", "partial", "unknown"]


class ExecRunner(Protocol):
    """Runs an ExecRun (helm) and returns its output; raises errors.IncidentError when it fails."""

    def __call__(self, run: ExecRun) -> str: ...


class Read:
    """What one precondition's target looks like now: an object, a list of items, or None when it is gone."""

    def __init__(self, pre: Precondition, found: dict[str, Any] | list[dict[str, Any]] | None) -> None:
        self.pre = pre
        self.found = found


def read_precondition(kube: Kube, pre: Precondition) -> Read:
    """Re-read a precondition's target. A missing object is an answer (None); other failures propagate."""
    if pre.name is not None:
        try:
            return Read(pre, kube.get(pre.resource, pre.name, pre.namespace))
        except errors.NotFound:
            return Read(pre, None)
    listed = kube.list(
        pre.resource, pre.namespace, label_selector=pre.label_selector, field_selector=pre.field_selector
    )
    return Read(pre, listed.items)


def read_sealed(kube: Kube, steps: list[Step], key: bytes) -> tuple[list[Step], list[Drift]]:
    """The steps with their sealed values (plan.seal_secrets) read again from the cluster, or, when any of them is
    gone or no longer the value planned, what changed (and the steps unchanged: nothing may run)."""
    objects: dict[tuple[str, str | None, str], dict[str, Any] | None] = {}
    values: dict[str, Any] = {}
    changed: list[Drift] = []
    for step in steps:
        if not isinstance(step.action, KubeWrite):
            continue
        for ref in sealed_refs(step.action.body):
            where = (str(ref["resource"]), ref.get("namespace"), str(ref["name"]))
            if where not in objects:
                try:
                    objects[where] = kube.get(where[0], where[2], where[1])
                except errors.NotFound:
                    objects[where] = None
            found = objects[where]
            value = resolve(found, str(ref["pointer"])) if found is not None else None
            if found is not None and seal_digest(key, value) == ref.get("digest"):
                values[str(ref["digest"])] = value
                continue
            now = "absent" if found is None else "another value (masked)"
            changed.append(
                Drift(
                    resource=where[0],
                    namespace=where[1],
                    name=where[2],
                    path=str(ref["pointer"]),
                    planned="the value planned (masked)",
                    now=now,
                )
            )
    if changed:
        return steps, changed
    return [
        step.model_copy(update={"action": step.action.model_copy(update={"body": unsealed(step.action.body, values)})})
        if isinstance(step.action, KubeWrite)
        else step
        for step in steps
    ], []


def write(kube: Kube, action: KubeWrite) -> dict[str, Any]:
    """One API write; returns the API's answer (the object as written, or a Status)."""
    if action.verb == "patch":
        if action.name is None or action.patch_type is None:
            raise errors.InvalidArgument("a patch step needs a name and a patch type")
        return kube.patch(
            action.resource,
            action.name,
            action.body,
            action.namespace,
            patch_type=action.patch_type,
            subresource=action.subresource,
        )
    if action.verb == "create":
        if not isinstance(action.body, dict):
            raise errors.InvalidArgument("a create step needs an object body")
        return kube.create(action.resource, action.body, action.namespace)
    if action.name is None:
        raise errors.InvalidArgument(f"a {action.verb} step needs a name")
    if action.verb == "delete":
        uid = action.body.get("uid") if isinstance(action.body, dict) else None
        grace = action.body.get("gracePeriodSeconds") if isinstance(action.body, dict) else None
        return kube.delete(
            action.resource, action.name, action.namespace, uid=uid, grace_period_seconds=grace if grace == 0 else None
        )
    if action.namespace is None:
        raise errors.InvalidArgument("an eviction needs a namespace")
    # The pod approved, not one recreated under its name since (a StatefulSet's are): a precondition in the write.
    options = action.body.get("deleteOptions") if isinstance(action.body, dict) else None
    preconditions = options.get("preconditions") if isinstance(options, dict) else None
    uid = preconditions.get("uid") if isinstance(preconditions, dict) else None
    kube.evict(action.name, action.namespace, uid=str(uid) if uid else None)
    return {}


def classify(error: errors.IncidentError) -> StepStatus:
    """Did a failed write possibly change something?"""
    if isinstance(error, errors.OutcomeUnknown | errors.ServerError | errors.Timeout):
        return "unknown"
    return "failed"


def run_step(kube: Kube, step: Step, runner: ExecRunner | None) -> tuple[StepStatus, str | None, dict[str, Any] | None]:
    """(outcome, detail, the API's answer). `runner` runs ExecRun actions; None means it cannot run here."""
    action = step.action
    try:
        if isinstance(action, ExecRun):
            if runner is None:
                return "failed", f"{action.argv[0]} is not available to this server; nothing was run", None
            return "succeeded", runner(action), None
        return "succeeded", None, write(kube, action)
    except errors.IncidentError as e:
        return classify(e), str(e), None


def run_steps(
    kube: Kube, steps: list[Step], runner: ExecRunner | None
) -> tuple[StepStatus, list[StepOutcome], list[dict[str, Any]]]:
    """Run steps in order until one does not succeed (the rest are skipped): (outcome, each step's, API answers)."""
    outcomes: list[StepOutcome] = []
    status: StepStatus = "succeeded"
    answers: list[dict[str, Any]] = []
    for step in steps:
        if status != "succeeded":
            outcomes.append(
                StepOutcome(command=step.command, status="skipped", detail="an earlier step did not succeed")
            )
            continue
        status, detail, answer = run_step(kube, step, runner)
        outcomes.append(StepOutcome(command=step.command, status=status, detail=detail))
        if answer:
            answers.append(answer)
    return status, outcomes, answers


def observe_after(kube: Kube, preconditions: list[Precondition], answers: list[dict[str, Any]]) -> dict[str, Any]:
    """The precondition fields after the writes: from a write's own answer where it is that object, else re-read."""
    after: dict[str, Any] = {}
    for pre in [p for p in preconditions if p.expect]:
        key = pre.name or pre.label_selector or pre.field_selector or pre.resource
        answer = next(
            (
                a
                for a in reversed(answers)
                if pre.name and meta(a).name == pre.name and meta(a).namespace == pre.namespace
            ),
            None,
        )
        if answer is not None:
            after[key] = pointed_values(pre, answer)
            continue
        try:
            after[key] = pointed_values(pre, read_precondition(kube, pre).found)
        except errors.IncidentError as e:
            after[key] = {"error": str(e)}
    return after


class Report:
    """What a run of steps did, in the words the answer needs: which applied, which did not, and the undo."""

    def __init__(self, steps: list[Step], status: StepStatus, outcomes: list[StepOutcome]) -> None:
        ran = list(zip(steps, outcomes, strict=True))
        self.applied = [step for step, o in ran if o.status == "succeeded"]
        self.stopped = next(((step, o) for step, o in ran if o.status in ("failed", "unknown")), None)
        self.status: Outcome = "partial" if status == "failed" and self.applied else status
        undos = [step.undo_command for step in reversed(self.applied) if step.undo_command]
        self.undo = " && ".join(undos) or None
        self.irreversible = [step.description for step in self.applied if not step.undo_command]

    @property
    def failed_step(self) -> str | None:
        return self.stopped[0].command if self.stopped else None

    def message(self) -> str:
        reason = f" ({self.stopped[1].detail})" if self.stopped and self.stopped[1].detail else ""
        if self.status == "succeeded":
            return (
                "The API accepted every write. Verify recovery (rollout_status, list_pods) before calling the incident "
                "mitigated."
            )
        if self.status == "failed":
            return f"The API refused the write{reason}; nothing changed."
        applied = "; ".join(step.command for step in self.applied)
        undo = f" To undo just those: {self.undo}." if self.undo else ""
        if self.irreversible:
            undo += f" Not undone by a command: {'; '.join(self.irreversible)}."
        if self.status == "partial":
            return (
                f"Partly applied: {len(self.applied)} of the plan's steps were applied ({applied}), then "
                f"{self.failed_step} was refused{reason} and the rest did not run. The cluster is between the plan's "
                f"before and after.{undo} Read the targets' state, then finish by hand, undo, or plan again; do not "
                "simply retry the token."
            )
        done = f" Applied before it: {applied}.{undo}" if self.applied else ""
        return (
            f"The request was sent but its outcome is unknown{reason}: it may or may not have been applied."
            f"{done} Read the target's current state before doing anything else; do not simply retry."
        )
