"""rollout_history and rollout_status: what `kubectl rollout history` and `kubectl rollout status` answer.

Layer: tools.assess.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

import anyio
import anyio.to_thread
from pydantic import BaseModel, Field

from incident_response.tools.assess.pods import fetch_pods, rows_of
from incident_response.tools.core import errors
from incident_response.tools.core.models import ToolResult
from incident_response.tools.engine.deps import Deps, Progress
from incident_response.tools.k8s import controller_revisions as cr
from incident_response.tools.k8s.podstatus import PodRow
from incident_response.tools.k8s.workloads import (
    Revision,
    RolloutProgress,
    container_digest,
    deployment_selector,
    owned_by,
    revision_of,
    revisions,
    rollout_progress,
    template_differences,
)
from incident_response.tools.kube.client import Kube

Namespace = Annotated[str, Field(description="Namespace of the deployment.")]
DeploymentName = Annotated[str, Field(description="Deployment name.")]

# Polling bounds for rollout_status: quick first look, then at most every POLL_MAX seconds.
POLL_MIN = 0.25
POLL_MAX = 2.0
MAX_FAILING_PODS = 10
MAX_NAMED_DIFFERENCES = 3


def deployment_and_replicasets(kube: Kube, namespace: str, name: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    deploy = kube.get("deployments", name, namespace)
    selector = deployment_selector(deploy)
    replicasets = kube.list("replicasets", namespace, label_selector=selector).items
    return deploy, replicasets


class RevisionDetail(BaseModel):
    revision: int
    containers: dict[str, dict[str, Any]] = Field(
        description="Per container: image, command, args, resources, ports and env (values masked: equal values, "
        "equal masks)."
    )
    differences_from_current: list[str]


class RolloutHistory(ToolResult):
    namespace: str
    deployment: str = Field(description="The workload's name (a Deployment's unless `kind` says otherwise).")
    kind: Literal["deployment", "statefulset", "daemonset"] = "deployment"
    current_revision: int | None
    revisions: list[Revision]
    detail: RevisionDetail | None = Field(description="With `revision`: that revision's template and its changes.")


def workload_history(
    kube: Kube, namespace: str, kind: cr.WorkloadKind, name: str, revision: int | None
) -> RolloutHistory:
    """rollout_history of a StatefulSet or DaemonSet, from the ControllerRevisions it controls."""
    workload = kube.get(cr.RESOURCE[kind], name, namespace)
    selector = cr.workload_selector(workload)
    listed = kube.list("controllerrevisions", namespace, label_selector=selector).items
    pods = kube.list("pods", namespace, label_selector=selector).items
    rows = cr.revision_rows(kind, workload, listed, pods)
    current = next((r.revision for r in rows if r.current), None)
    detail = None
    if revision is not None:
        chosen = next((r for r in cr.owned_revisions(workload, listed) if cr.number(r) == revision), None)
        if chosen is None:
            known = ", ".join(str(r.revision) for r in sorted(rows, key=lambda r: r.revision)) or "none"
            raise errors.InvalidArgument(f"{kind} {name} has no revision {revision} (revisions kept: {known})")
        template = cr.template_of(chosen)
        detail = RevisionDetail(
            revision=revision,
            containers=container_digest(template),
            differences_from_current=template_differences((workload.get("spec") or {}).get("template") or {}, template),
        )
    summary = f"{kind} {name}: {len(rows)} revisions, current {current}"
    if rows:
        summary += "; " + "; ".join(f"{r.revision}{'*' if r.current else ''} {', '.join(r.images)}" for r in rows[:5])
    if detail is not None:
        summary += f"; revision {revision} {differences_text(detail.differences_from_current)}"
    return RolloutHistory(
        summary=summary,
        namespace=namespace,
        deployment=name,
        kind=kind,
        current_revision=current,
        revisions=[
            Revision(
                revision=r.revision,
                replicaset=r.name,
                images=r.images,
                change_cause=r.change_cause,
                created=r.created,
                current=r.current,
                replicas=r.pods,
            )
            for r in rows
        ],
        detail=detail,
    )


def rollout_history(
    deps: Deps,
    namespace: Namespace,
    deployment: Annotated[
        str, Field(description="Deployment name (or the StatefulSet's or DaemonSet's, with `kind`).")
    ],
    revision: Annotated[
        int | None, Field(description="Show this revision's pod template and how it differs from the current.", ge=1)
    ] = None,
    kind: Annotated[
        Literal["deployment", "statefulset", "daemonset"],
        Field(
            description="The workload's kind; StatefulSets and DaemonSets keep their history in ControllerRevisions."
        ),
    ] = "deployment",
) -> RolloutHistory:
    """List a workload's revisions (images, change-cause, creation time, which is current), like `kubectl rollout
    history`. Use it to see whether a recent deploy exists and which earlier revision was good."""
    if kind != "deployment":
        return workload_history(deps.kube, namespace, kind, deployment, revision)
    deploy, replicasets = deployment_and_replicasets(deps.kube, namespace, deployment)
    rows = revisions(deploy, replicasets)
    current = revision_of(deploy)
    detail, since = None, None
    if revision is not None:
        chosen = next((rs for rs in replicasets if revision_of(rs) == revision), None)
        if chosen is None or not any(r.revision == revision for r in rows):
            known = ", ".join(str(r.revision) for r in rows) or "none"
            raise errors.InvalidArgument(
                f"deployment {deployment} has no revision {revision} (revisions kept: {known})"
            )
        template = (chosen.get("spec") or {}).get("template") or {}
        current_template = (deploy.get("spec") or {}).get("template") or {}
        detail = RevisionDetail(
            revision=revision,
            containers=container_digest(template),
            differences_from_current=template_differences(current_template, template),
        )
        # The current revision is asked about to learn what the deploy changed: say it against the one before.
        since = changed_since_previous(deploy, replicasets, template) if revision == current else None
    summary = f"deployment {deployment}: {len(rows)} revisions, current {current}"
    if rows:
        summary += "; " + "; ".join(f"{r.revision}{'*' if r.current else ''} {', '.join(r.images)}" for r in rows[:5])
    if detail is not None and since is not None:
        summary += f"; revision {revision} is the current one; {since}"
    elif detail is not None:
        summary += f"; revision {revision} {differences_text(detail.differences_from_current)}"
    return RolloutHistory(
        summary=summary,
        namespace=namespace,
        deployment=deployment,
        current_revision=current,
        revisions=rows,
        detail=detail,
    )


def changed_since_previous(
    deploy: dict[str, Any], replicasets: list[dict[str, Any]], template: dict[str, Any]
) -> str | None:
    """'against revision 2 it changed: a -> b; ...' (the previous kept revision's template -> the current one's), or
    None when no earlier revision is kept."""
    current = revision_of(deploy)
    earlier = [
        (r, rs)
        for rs in replicasets
        if owned_by(rs, deploy) and (r := revision_of(rs)) is not None and current and r < current
    ]
    if not earlier:
        return None
    number, rs = max(earlier, key=lambda pair: pair[0])
    changed = template_differences((rs.get("spec") or {}).get("template") or {}, template)
    if not changed:
        return f"against revision {number} it changed nothing in the pod template"
    more = f"; {len(changed) - MAX_NAMED_DIFFERENCES} more" if len(changed) > MAX_NAMED_DIFFERENCES else ""
    return f"against revision {number} it changed: {'; '.join(changed[:MAX_NAMED_DIFFERENCES])}{more}"


def differences_text(differences: list[str]) -> str:
    """'differs from current in 2 ways: a; b' (the first MAX_NAMED_DIFFERENCES named): the change is in the summary,
    not only in the detail (a config-checksum rollout changes no image)."""
    if not differences:
        return "is the same template as the current"
    named = "; ".join(differences[:MAX_NAMED_DIFFERENCES])
    more = (
        f"; {len(differences) - MAX_NAMED_DIFFERENCES} more in detail"
        if len(differences) > MAX_NAMED_DIFFERENCES
        else ""
    )
    ways = "way" if len(differences) == 1 else "ways"
    return f"differs from current in {len(differences)} {ways}: {named}{more}"


def rollout_steps(state: RolloutProgress) -> tuple[int, int, str] | None:
    """(progress, total, message) of a rollout, or None when the counts say nothing yet (the spec change is not
    observed, or there are no replicas to roll). Each desired replica passes three steps: updated, then available,
    and one old replica gone; progress counts the steps done and the message names each term of that sum."""
    desired = state.desired
    if not state.observed or desired <= 0:
        return None
    updated = min(state.updated, desired)
    old = max(state.replicas - state.updated, 0)
    # availableReplicas counts every revision: the old replicas still running are assumed to be the available ones.
    new_available = min(max(state.available - old, 0), updated)
    old_gone = desired - min(old, desired)
    done = updated + new_available + old_gone
    message = (
        f"{updated}/{desired} updated, {new_available}/{desired} updated and available, "
        f"{old_gone}/{desired} old replicas gone"
    )
    return done, 3 * desired, message


class ProgressReporter:
    """Sends rollout progress only when it moves forward: MCP requires each notification's progress to increase,
    and a rollout can step back (a new pod crashes), which the final result reports."""

    def __init__(self, send: Progress) -> None:
        self._send = send
        self._last: int | None = None

    async def report(self, state: RolloutProgress) -> None:
        steps = rollout_steps(state)
        if steps is None:
            return
        done, total, message = steps
        if self._last is not None and done <= self._last:
            return
        self._last = done
        await self._send(float(done), float(total), message)


class RolloutStatus(ToolResult):
    namespace: str
    deployment: str
    state: Literal["complete", "progressing", "failed", "timed_out"]
    message: str
    revision: int | None
    desired: int
    updated: int
    ready: int
    available: int
    unavailable: int
    waited_seconds: float
    failing_pods: list[PodRow] = Field(description="When not complete: pods of the deployment that have problems.")


async def workload_status(
    kube: Kube, namespace: str, kind: cr.WorkloadKind, name: str, timeout_seconds: int
) -> RolloutStatus:
    """rollout_status of a StatefulSet or DaemonSet: kubectl's status viewers, polled until done or timed out."""
    started = time.monotonic()
    resource = cr.RESOURCE[kind]
    workload = await anyio.to_thread.run_sync(kube.get, resource, name, namespace, abandon_on_cancel=True)
    state = cr.rollout_progress(kind, workload)
    interval = POLL_MIN
    with anyio.move_on_after(timeout_seconds):
        while not state.done:
            await anyio.sleep(interval)
            interval = min(POLL_MAX, interval * 2)
            workload = await anyio.to_thread.run_sync(kube.get, resource, name, namespace, abandon_on_cancel=True)
            state = cr.rollout_progress(kind, workload)
    waited = round(time.monotonic() - started, 2)
    outcome: Literal["complete", "progressing", "failed", "timed_out"] = (
        "complete" if state.done else "timed_out" if timeout_seconds > 0 else "progressing"
    )
    failing: list[PodRow] = []
    if not state.done:
        selector = cr.workload_selector(workload)
        fetched = await anyio.to_thread.run_sync(lambda: fetch_pods(kube, namespace, selector), abandon_on_cancel=True)
        failing = [row for row in rows_of(fetched, datetime.now(UTC)) if row.problem][:MAX_FAILING_PODS]
    summary = f"{state.message} ({outcome} after {waited:.0f}s; {state.available}/{state.desired} available)"
    if failing:
        summary += "; failing: " + ", ".join(f"{p.name} {p.status}" for p in failing[:3])
    return RolloutStatus(
        summary=summary,
        namespace=namespace,
        deployment=name,
        state=outcome,
        message=state.message,
        revision=None,
        desired=state.desired,
        updated=state.updated,
        ready=state.ready,
        available=state.available,
        unavailable=max(state.desired - state.available, 0),
        waited_seconds=waited,
        failing_pods=failing,
    )


async def rollout_status(
    deps: Deps,
    progress: Progress,
    namespace: Namespace,
    deployment: Annotated[
        str, Field(description="Deployment name (or the StatefulSet's or DaemonSet's, with `kind`).")
    ],
    timeout_seconds: Annotated[
        int, Field(description="How long to wait for the rollout to finish (like --timeout).", ge=0, le=600)
    ] = 120,
    kind: Annotated[
        Literal["deployment", "statefulset", "daemonset"],
        Field(description="The workload's kind (StatefulSets and DaemonSets: no progress notifications)."),
    ] = "deployment",
) -> RolloutStatus:
    """Wait until a workload's rollout finishes, fails or times out, like `kubectl rollout status --timeout`,
    sending progress notifications. Use it after a rollback, scale or image change to watch it land."""
    if kind != "deployment":
        return await workload_status(deps.kube, namespace, kind, deployment, timeout_seconds)
    started = time.monotonic()
    kube = deps.kube
    deploy = await anyio.to_thread.run_sync(kube.get, "deployments", deployment, namespace, abandon_on_cancel=True)
    state = rollout_progress(deploy)
    reporter = ProgressReporter(progress)
    interval = POLL_MIN
    with anyio.move_on_after(timeout_seconds):
        while not state.done and not state.failed:
            await reporter.report(state)
            await anyio.sleep(interval)
            interval = min(POLL_MAX, interval * 2)
            deploy = await anyio.to_thread.run_sync(
                kube.get, "deployments", deployment, namespace, abandon_on_cancel=True
            )
            state = rollout_progress(deploy)
    waited = round(time.monotonic() - started, 2)
    outcome: Literal["complete", "progressing", "failed", "timed_out"]
    if state.done:
        outcome = "complete"
    elif state.failed:
        outcome = "failed"
    else:
        outcome = "timed_out" if timeout_seconds > 0 else "progressing"
    await reporter.report(state)
    failing: list[PodRow] = []
    if not state.done:
        selector = deployment_selector(deploy)
        fetched = await anyio.to_thread.run_sync(lambda: fetch_pods(kube, namespace, selector), abandon_on_cancel=True)
        failing = [row for row in rows_of(fetched, datetime.now(UTC)) if row.problem][:MAX_FAILING_PODS]
    summary = f"{state.message} ({outcome} after {waited:.0f}s; {state.available}/{state.desired} available)"
    if failing:
        summary += "; failing: " + ", ".join(f"{p.name} {p.status}" for p in failing[:3])
    return RolloutStatus(
        summary=summary,
        namespace=namespace,
        deployment=deployment,
        state=outcome,
        message=state.message,
        revision=state.revision,
        desired=state.desired,
        updated=state.updated,
        ready=state.ready,
        available=state.available,
        unavailable=state.unavailable,
        waited_seconds=waited,
        failing_pods=failing,
    )
