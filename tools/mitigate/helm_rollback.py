"""rollback_helm_release: plan `helm rollback`, validated from helm's release Secrets; the helm binary runs it.

Validation reads the same records `helm history` does (tools.assess.helm decodes them in memory; values and manifests
never leave). Revision choice is helm's own: without one, the latest revision minus one; the
target must exist. We also refuse the deployed revision itself (nothing to roll back) and a release with an
operation in progress (helm would refuse it too).

The command shown is the argv that runs, binary path aside: with a kubeconfig file it carries `--kubeconfig PATH`
as well as `--kube-context`, so pasted into a terminal whose KUBECONFIG points elsewhere it still reaches the
cluster the server planned against. (The kubectl commands other planners render omit it: they are what a human
would type, while the server itself writes through the API.)

Layer: tools.mitigate.
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Annotated

from pydantic import Field

from incident_response.tools.core import commands, errors
from incident_response.tools.core.plan_warnings import PlanWarning, warning
from incident_response.tools.engine.deps import Deps
from incident_response.tools.engine.pending import Proposal
from incident_response.tools.engine.plan import Change, ExecRun, PlanDraft, Step, Target, pointer, precondition
from incident_response.tools.engine.reads import helm_release_secrets
from incident_response.tools.engine.rollback_answers import Ruling, rulings
from incident_response.tools.k8s.args import Revision
from incident_response.tools.k8s.helm_releases import HelmRevision, revision_row
from incident_response.tools.kube.client import Kube
from incident_response.tools.mitigate.helm_drift import Drift, Drifted, release_drift
from incident_response.tools.mitigate.helm_drift_health import choose_first, drift_health, undoes_healthy
from incident_response.tools.mitigate.ruled_rollbacks import refuse_helm_ruled_out

# Any new revision (an upgrade or another rollback) or status change since planning makes the plan stale.
RELEASE_PATHS = [pointer("metadata", "name"), pointer("metadata", "labels", "status")]
MAX_NAMED_REVISIONS = 10
IN_PROGRESS = ("pending-install", "pending-upgrade", "pending-rollback", "uninstalling")


def pick_revision(
    release: str, rows: dict[int, HelmRevision], revision: int | None, *, drifted: bool = False
) -> tuple[HelmRevision, int]:
    """(the deployed revision, the target revision), or a refusal that says why. `drifted`: the live workloads no
    longer run what the deployed revision rendered, so re-applying it is the default and no longer a no-op."""
    newest = sorted(rows)[-MAX_NAMED_REVISIONS:]  # a history kept without a limit holds hundreds
    kept = ", ".join(f"{n} ({rows[n].status})" for n in newest)
    kept += f", and {len(rows) - len(newest)} earlier" if len(rows) > len(newest) else ""
    busy = [r for r in rows.values() if r.status in IN_PROGRESS]
    if busy:
        raise errors.InvalidArgument(
            f"helm release {release} has an operation in progress (revision {busy[0].revision} is {busy[0].status}); "
            "helm refuses to roll back until it finishes. Check helm_history again shortly"
        )
    deployed = deployed_row(rows)
    if deployed is None:
        raise errors.InvalidArgument(
            f"helm release {release} has no deployed revision (revisions: {kept}); the undo cannot be stated, so "
            "inspect helm_history and decide with a human"
        )
    default = deployed.revision if drifted else max(rows) - 1
    target = revision if revision is not None else default
    if target not in rows:
        raise errors.InvalidArgument(f"helm release {release} has no revision {target} (revisions kept: {kept})")
    if target == deployed.revision and not drifted:
        raise errors.InvalidArgument(
            f"revision {target} is the deployed revision of helm release {release}; nothing to roll back. Pick an "
            f"earlier revision (revisions kept: {kept})"
        )
    return deployed, target


def deployed_row(rows: dict[int, HelmRevision]) -> HelmRevision | None:
    return max((r for r in rows.values() if r.status == "deployed"), key=lambda r: r.revision, default=None)


def moved(before: object, after: object) -> str:
    return f"{before}" if before == after else f"{before} -> {after}"


def plan_helm_rollback(
    kube: Kube,
    namespace: str,
    release: str,
    revision: int | None,
    *,
    kubeconfig: Path | None,
    answered: list[Ruling] | None = None,
) -> PlanDraft:
    """Read the release records (and the live workloads its deployed revision rendered) and render the rollback;
    nothing is sent to the cluster."""
    selector = f"owner=helm,name={release}"
    secrets = helm_release_secrets(kube, namespace, release)
    records = {row.revision: (row, secret) for row, secret in ((revision_row(s), s) for s in secrets)}
    rows = {n: row for n, (row, _) in records.items()}
    if not rows:
        raise errors.NotFound(
            f"no helm release {release!r} in namespace {namespace!r} (no Secrets labelled {selector}); check the "
            "release name with helm_history",
            code=404,
            reason="NotFound",
            verb="list",
            resource="secrets",
        )
    current = deployed_row(rows)
    drift = Drift([], [])
    if current is not None and not any(r.status in IN_PROGRESS for r in rows.values()):
        later = [records[n] for n in sorted(rows) if n > current.revision]
        drift = release_drift(kube, namespace, records[current.revision][1], later)
    health = drift_health(kube, namespace, drift.workloads, drift.found) if drift.found else None
    if health is not None and revision is None and (health.state != "failing" or health.before):
        assert current is not None  # drift is only read with a deployed revision
        raise errors.InvalidArgument(
            choose_first(release, health, drift.found, current.revision, earlier_choice(rows, current))
        )
    deployed, target_revision = pick_revision(release, rows, revision, drifted=bool(drift.found))
    refuse_helm_ruled_out(kube, namespace, answered or [], release, target_revision, records[target_revision][1])
    target = rows[target_revision]
    recorded_as = max(rows) + 1
    flags = ["--kubeconfig", str(kubeconfig)] if kubeconfig else []

    def render(rev: int) -> list[str]:
        return commands.helm_argv(
            ["rollback", release, str(rev)], namespace=namespace, kube_context=kube.context, flags=flags
        )

    reapply = target_revision == deployed.revision
    argv = render(target_revision)
    undo = set_images(drift.found, namespace, kube.context) if reapply else shlex.join(render(deployed.revision))
    command = shlex.join(argv)
    diff = [Change(path="deployed_revision", before=deployed.revision, after=recorded_as)]
    diff += [
        Change(path=field, before=getattr(deployed, field), after=getattr(target, field))
        for field in ("chart", "app_version")
        if getattr(deployed, field) != getattr(target, field)
    ]
    if reapply:
        diff += [
            Change(
                path=f"{d.kind}/{d.name}.spec.template.spec.containers[{d.container}].image",
                before=d.live,
                after=d.released,
            )
            for d in drift.found
        ]
    summary = (
        f"Roll back helm release {release}: revision {deployed.revision} -> {target_revision} "
        f"(chart {moved(deployed.chart, target.chart)}, app {moved(deployed.app_version, target.app_version)}), "
        f"recorded as revision {recorded_as}."
    )
    warnings = [
        warning(
            "unseen",
            f"The diff is release metadata only: revision {target_revision}'s manifests and values go back unseen.",
        )
    ]
    if reapply:
        summary = (
            f"Re-apply helm release {release}'s deployed revision {deployed.revision} (chart {deployed.chart}, app "
            f"{deployed.app_version}), recorded as revision {recorded_as}."
        )
        shown = health.live if health is not None and health.state == "failing" else ""
        warnings = [reapplied(drift.found, rows, deployed, shown), warning("unseen", "Values go back unseen.")]
    elif drift.found:
        warnings.insert(0, past_deployed(release, drift.found, deployed, target))
    if health is not None and (undo_fix := undoes_healthy(health)):
        warnings[0] = warning("undoes_fix", undo_fix)  # instead of why the drift is rolled back: the drift was the fix
    return PlanDraft(
        tool="rollback_helm_release",
        summary=summary,
        target=Target(kind="HelmRelease", namespace=namespace, name=release),
        risk="mutation",
        steps=[
            Step(
                description=f"helm rollback {release} to revision {target_revision}",
                command=command,
                action=ExecRun(argv=argv, env={"KUBECONFIG": str(kubeconfig)} if kubeconfig else {}),
                undo_command=undo,
            )
        ],
        undo_command=undo,
        diff=diff,
        preconditions=[
            precondition("secrets", secrets, RELEASE_PATHS, namespace=namespace, label_selector=selector),
            *drift.preconditions,
        ],
        warnings=warnings,
    )


def reapplied(found: list[Drifted], rows: dict[int, HelmRevision], deployed: HelmRevision, failing: str) -> PlanWarning:
    """Why the deployed revision, not the one before it: the failing change (`failing`: how it fails) is not in
    helm's history. The images are the diff's."""
    earlier = rows.get(max((n for n in rows if n < deployed.revision), default=0))
    past = (
        f"; rolling back to {earlier.revision} would go past it (chart {earlier.chart}, app {earlier.app_version})"
        if earlier is not None
        else ""
    )
    first = found[0]
    more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
    failing = failing.replace(f"{first.kind} {first.name}'s pods", "its pods", 1)  # said just before
    changed = f"{first.kind} {first.name}'s image was changed {first.by}{more}"
    return warning(
        "reapply",
        f"{changed}: re-applying {deployed.revision} restores the release"
        + (f"; {earlier.revision} would go past it" if earlier is not None else ""),
        f"{changed}{f'; {failing}' if failing else ''}. Re-applying {deployed.revision} restores the release's "
        f"images{past}",
    )


def earlier_choice(rows: dict[int, HelmRevision], deployed: HelmRevision) -> str:
    earlier = rows.get(max((n for n in rows if n < deployed.revision), default=0))
    if earlier is None:
        return ""
    return f"revision={earlier.revision} (chart {earlier.chart}, app {earlier.app_version})"


def past_deployed(release: str, found: list[Drifted], deployed: HelmRevision, target: HelmRevision) -> PlanWarning:
    first = found[0]
    return warning(
        "drift",
        f"{first.kind} {first.name} runs {first.live} (outside helm): revision {target.revision} goes past deployed "
        f"revision {deployed.revision}; pass revision={deployed.revision} to re-apply it instead",
        f"{first.text()}. That change is not in helm's history: revision {target.revision} goes past the deployed "
        f"release (chart {deployed.chart}, app {deployed.app_version}); `helm rollback {release} {deployed.revision}` "
        f"re-applies it instead (rollback_helm_release with revision={deployed.revision})",
    )


def set_images(found: list[Drifted], namespace: str, context: str | None) -> str:
    """The undo of a re-apply: the images the workloads ran before it, set back with kubectl."""
    by_workload: dict[tuple[str, str], list[str]] = {}
    for d in found:
        by_workload.setdefault((d.kind, d.name), []).append(f"{d.container}={d.live}")
    return commands.join_steps(
        [
            commands.kubectl(["set", "image", f"{kind}/{name}", *images], namespace=namespace, context=context)
            for (kind, name), images in by_workload.items()
        ]
    )


def rollback_helm_release(
    deps: Deps,
    namespace: Annotated[str, Field(description="Namespace of the release.")],
    release: Annotated[str, Field(description="Helm release name.")],
    revision: Annotated[
        Revision | None, Field(description="Revision to return to; default the previous one, as helm rollback.")
    ] = None,
) -> Proposal:
    """Plan a rollback of a helm release to an earlier revision (helm rollback). Nothing changes until the returned
    token is confirmed; the server then runs the helm binary. Use it when a recent helm upgrade caused the incident."""
    cluster = deps.settings.cluster
    kubeconfig = cluster.kubeconfig if cluster is not None and not cluster.in_cluster else None
    found = rulings(deps, namespace)
    draft = plan_helm_rollback(deps.kube, namespace, release, revision, kubeconfig=kubeconfig, answered=found)
    return deps.propose(draft, blocked_reason=deps.helm.missing_reason())
