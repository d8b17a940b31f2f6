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
from incident_response.tools.k8s.podstatus import PodRow
from incident_response.tools.k8s.workloads import (
    Revision,
    RolloutProgress,
    container_digest,
    deployment_selector,
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
    deployment: str
    current_revision: int | None
    revisions: list[Revision]
    detail: RevisionDetail | None = Field(description="With `revision`: that revision's template and its changes.")


def rollout_history(
    deps: Deps,
    namespace: Namespace,
    deployment: DeploymentName,
    revision: Annotated[
        int | None, Field(description="Show this revision's pod template and how it differs from the current.", ge=1)
    ] = None,
) -> RolloutHistory:
    """List a deployment's revisions (images, change-cause, creation time, which is current), like `kubectl rollout
    history`. Use it to see whether a recent deploy exists and which earlier revision was good."""
    deploy, replicasets = deployment_and_replicasets(deps.kube, namespace, deployment)
    rows = revisions(deploy, replicasets)
    current = revision_of(deploy)
    detail = None
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
    summary = f"deployment {deployment}: {len(rows)} revisions, current {current}"
    if rows:
        summary += "; " + "; ".join(f"{r.revision}{'*' if r.current else ''} {', '.join(r.images)}" for r in rows[:5])
    if detail is not None:
        summary += f"; revision {revision} differs from current in {len(detail.differences_from_current)} ways"
    return RolloutHistory(
        summary=summary,
        namespace=namespace,
        deployment=deployment,
        current_revision=current,
        revisions=rows,
        detail=detail,
    )


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


async def rollout_status(
    deps: Deps,
    progress: Progress,
    namespace: Namespace,
    deployment: DeploymentName,
    timeout_seconds: Annotated[
        int, Field(description="How long to wait for the rollout to finish (like --timeout).", ge=0, le=600)
    ] = 120,
) -> RolloutStatus:
    """Wait until a deployment's rollout finishes, fails or times out, like `kubectl rollout status --timeout`,
    sending progress notifications. Use it after a rollback, scale or image change to watch it land."""
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
        fetched = await anyio.to_thread.run_sync(
            lambda: fetch_pods(kube, namespace, selector, limit=500), abandon_on_cancel=True
        )
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
