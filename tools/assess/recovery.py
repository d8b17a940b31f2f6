"""verify_recovery: the playbook's five checks after a mitigation in one read, a verdict, and when to look again.

Layer: tools.assess.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import Field

from incident_response.tools.assess import recovery_record
from incident_response.tools.assess.metrics import read_metrics
from incident_response.tools.assess.pods import fetch_pods
from incident_response.tools.assess.recovery_context import (
    Mitigation,
    autoscalers,
    isolating,
    last_mitigation,
    scaled_off,
    subject,
    template_labels,
)
from incident_response.tools.assess.recovery_workloads import read_workload
from incident_response.tools.assess.stuck_terminating import stuck_on_dead_nodes
from incident_response.tools.core import commands, errors
from incident_response.tools.core.models import ToolResult
from incident_response.tools.engine import event_reads
from incident_response.tools.engine.deps import Deps
from incident_response.tools.k8s.oom_runs import EITHER, LEAK, PEAK, said
from incident_response.tools.k8s.podstatus import pod_row
from incident_response.tools.k8s.quantity import human_age
from incident_response.tools.k8s.usage import PodUsage, pod_usage_rows
from incident_response.tools.k8s.views import meta
from incident_response.tools.k8s.workload_progress import recovery_progress, waiting
from incident_response.tools.k8s.workloads import deployment_selector, owned_by, rollout_progress
from incident_response.tools.kube.client import Kube, ListResult
from incident_response.tools.kube.paging import list_all
from incident_response.tools.playbook.recovery_checks import (
    CheckResult,
    PodFacts,
    RecoveryCheck,
    RecoveryVerdict,
    endpoints_check,
    pod_facts,
    pods_check,
    replaced_warned_at,
    resources_check,
    restarts_check,
    selects,
    verdict_of,
    warning_groups,
    warnings_check,
)
from incident_response.tools.playbook.recovery_load import (
    pinned_autoscalers,
    readiness_failures,
    under_load,
    with_autoscalers,
)
from incident_response.tools.playbook.rollout_replacing import being_replaced

MAX_SERVICES = 10
METRICS_ABSENT = (
    "not checked: the metrics API (metrics.k8s.io) is not available, so usage is unknown; judge load from "
    "list_hpas and the restarts check instead"
)

# What a raised memory limit did about the kills its plan read (tools/k8s/oom_runs.py).
RAISED = {
    LEAK: f"{LEAK}: it delays the next kill, the leak still needs a fix",
    PEAK: f"{PEAK}: check it holds at the next peak",
    EITHER: f"{EITHER}: if a leak, it only delays the next kill; check memory over time",
}


class RecoveryReport(ToolResult):
    namespace: str
    deployment: str = Field(description="The workload's name (a Deployment's unless `kind` says otherwise).")
    kind: Literal["deployment", "statefulset", "daemonset"] = "deployment"
    verdict: RecoveryVerdict = Field(
        description="DEGRADED: a check failed, act again. ISOLATED: nothing failing, but a measure of ours cuts it "
        "off from traffic or scaled it to 0 (isolated_by): containment, not recovery. RECOVERING: nothing failing, "
        "stability not proven yet (call again at recheck_at). RECOVERED: every check passed and the state has held "
        "for the whole window."
    )
    checks: list[RecoveryCheck] = Field(description="pods, endpoints, warnings, resources, restarts, in that order.")
    desired_replicas: int
    ready_replicas: int = Field(
        description="The deployment's pods Running and Ready now (from its status when not every pod could be read)."
    )
    running_pods: int = Field(description="The deployment's pods neither terminating nor finished.")
    revision: int | None
    rollout: str = Field(description="What `kubectl rollout status` says about this read.")
    services: list[str] = Field(description="Services whose endpoints were checked.")
    last_mitigation: Mitigation | None = Field(
        description="The newest succeeded mitigation that bore on this deployment (itself, its HPA, its Services, its "
        "pods, a node it runs on); another deployment's is not credited."
    )
    isolated_by: list[str] = Field(
        default_factory=list,
        description="Our measures that cut it off from traffic or scaled it to 0, each naming its measure_id.",
    )
    stable_since: datetime | None = Field(
        description="When the current state began: the later of the last pod turning Ready and the last mitigation."
    )
    window_minutes: int
    checked_at: datetime
    recheck_at: datetime | None = Field(
        description="When RECOVERING: call verify_recovery again at this time; None when waiting alone changes "
        "nothing (a paused rollout: the summary says what to do)."
    )
    stabilized_incident: str | None = Field(
        default=None,
        description="The incident this RECOVERED verdict marked stabilized (every deployment its mitigations acted "
        "on is RECOVERED); the handoff's Duration ends here.",
    )


def verify_recovery(
    deps: Deps,
    namespace: Annotated[str, Field(description="Namespace of the deployment.")],
    deployment: Annotated[str, Field(description="The deployment the mitigation was for.")],
    service: Annotated[
        str | None,
        Field(description="The Service in front of it; default: every Service whose selector matches its pods."),
    ] = None,
    window_minutes: Annotated[
        int,
        Field(description="Stability window: no warnings or restarts in it, and the state must hold it.", ge=1, le=60),
    ] = 5,
    kind: Annotated[
        Literal["deployment", "statefulset", "daemonset"],
        Field(description="The workload's kind, when it is a StatefulSet or DaemonSet (deployment: its name)."),
    ] = "deployment",
) -> RecoveryReport:
    """Verify a deployment (or a StatefulSet or DaemonSet, with kind) is recovering after a mitigation, with the
    playbook's five checks: pods Running and Ready at the desired count, Service endpoints ready, no new Warning
    events, CPU/memory below the near-limit threshold (and no HPA of it pinned at its max), no container restarts in
    the window. Answers RECOVERED, RECOVERING (with when to call again), ISOLATED (a temporary measure cuts it off
    from traffic) or DEGRADED (naming the failing checks). Call it after every confirmed
    mitigation. Changes nothing in the cluster; the verdict goes on the incident's timeline, and RECOVERED for what
    the mitigations acted on marks it stabilized."""
    if not 1 <= window_minutes <= 60:
        raise errors.InvalidArgument(f"window_minutes must be 1..60, not {window_minutes}")
    kube = deps.kube
    if kind == "deployment":
        deploy = read_deployment(kube, namespace, deployment)
        owned = owned_replicasets(kube, namespace, deploy)
    else:
        deploy, owned = read_workload(kube, namespace, kind, deployment)
    report = judge(deps, namespace, deployment, deploy, owned, service, window_minutes, kind=kind)
    report.stabilized_incident = recovery_record.record(deps, report)
    if report.stabilized_incident is not None:
        report.summary += f"; incident {report.stabilized_incident} marked stabilized"
    return report


def judge(
    deps: Deps,
    namespace: str,
    deployment: str,
    deploy: dict[str, Any],
    replicasets: list[dict[str, Any]],
    service: str | None = None,
    window_minutes: int = 5,
    warnings: ListResult | None = None,
    kind: Literal["deployment", "statefulset", "daemonset"] = "deployment",
) -> RecoveryReport:
    """verify_recovery on a deployment and its ReplicaSets already read (incident_handoff read them for its own
    facts), or on a StatefulSet or DaemonSet and its ControllerRevisions; `warnings`: the namespace's Warning events
    when already read the same way, else read here."""
    kube = deps.kube
    now = deps.now()
    window = timedelta(minutes=window_minutes)
    selector = deployment_selector(deploy)
    if kind == "deployment":
        progress = rollout_progress(deploy)
        desired = int((deploy.get("spec") or {}).get("replicas", 1))
        owners, waiting_on = replicasets, None
    else:  # its pods are its own, and its revisions are ControllerRevisions
        progress = recovery_progress(kind, deploy, replicasets)
        desired, owners, waiting_on = progress.desired, [deploy], waiting(kind, deploy, progress)
    pods, facts, truncated = read_pods(kube, namespace, selector, owners, now, window)
    services = read_services(kube, namespace, service, deploy)

    events = warnings if warnings is not None else read_warnings(kube, namespace)
    rs_names = [str(meta(rs).name) for rs in replicasets]
    names = [str(meta(svc).name) for svc, _ in services]
    mitigation = last_mitigation(deps, subject(deploy, replicasets, facts, names))
    replacing = None
    if kind == "deployment":
        facts, replacing = being_replaced(
            deploy, replicasets, pods, facts, progress, mitigation.finished_at if mitigation else None, now, window
        )
    counted, ignored = warning_groups(events.items, deployment, rs_names, facts, now, window)
    replaced = replaced_warned_at(events.items, deployment, rs_names, facts, now, window)
    stable_since = latest(
        [f.ready_since for f in facts if f.active] + [mitigation.finished_at if mitigation else None, replaced]
    )
    earlier, since = 0, ""
    if stable_since is not None and now - window < stable_since:
        # "No new Warning events": those from before the current state began (the last pod turning Ready, the last
        # mitigation) are what it answered; it must still hold a whole window before RECOVERED. Timestamps have
        # whole seconds, so the very second it began goes with what came before.
        start = stable_since + timedelta(seconds=1)
        after, _ = warning_groups(events.items, deployment, rs_names, facts, now, now - start)
        earlier = sum(g.count for g in counted) - sum(g.count for g in after)
        counted, since = after, f"{clock_text(stable_since, seconds=True)}, when the current state began"

    active = [pod for pod, f in zip(pods, facts, strict=True) if f.active]
    usage, missing = read_usage(kube, namespace, selector, active)
    # A pod at its CPU limit whose readiness probe fails is failing from load, not starting.
    loads = autoscalers(kube, namespace, deployment, kind)
    pinned = pinned_autoscalers(loads)
    facts = under_load(facts, usage, readiness_failures(events.items, now, window), loads)

    paused = bool((deploy.get("spec") or {}).get("paused"))
    resume = commands.kubectl(
        ["rollout", "resume", f"deployment/{deployment}"], namespace=namespace, context=kube.context
    )
    results: list[CheckResult] = [
        pods_check(
            facts,
            desired,
            progress,
            truncated,
            resume if paused else None,
            waiting_on,
            stuck_on_dead_nodes(kube, namespace, pods, facts),
        ),
        endpoints_check(deployment, services, facts, desired, now),
        warnings_check(
            counted,
            ignored,
            window_minutes,
            events.truncated,
            len(events.items),  # the read stops short only at its stop for runaway reads, or a page failing
            earlier,
            since,
        ),
        with_autoscalers(resources_check(usage, missing), pinned),
        restarts_check(facts, window_minutes),
    ]
    if replacing is not None and results[0].check.passed is None:
        results[0].check.detail = f"{replacing}; {results[0].check.detail}"
        results[0].settling.insert(0, replacing)
    checks = [r.check for r in results]
    settling = [reason for r in results for reason in r.settling]
    blocked = [reason for r in results for reason in r.blocked]
    verdict, recheck_at = verdict_of(checks, settling, stable_since, now, window, blocked)
    cut_off = isolating(deps, namespace, facts, template_labels(deploy))
    off = scaled_off(deps, namespace, deployment) if kind == "deployment" and desired == 0 else None
    cut_off += [off] if off is not None else []
    # Nothing runs, so what still fails (its old pods' warnings) is history: offline by our command is the state.
    if cut_off and (verdict != "DEGRADED" or off is not None):
        verdict, recheck_at = "ISOLATED", None
    report = RecoveryReport(
        summary="",
        namespace=namespace,
        deployment=deployment,
        kind=kind,
        verdict=verdict,
        checks=checks,
        desired_replicas=desired,
        ready_replicas=max(sum(1 for f in facts if f.ready), progress.ready if truncated else 0),
        running_pods=len(active),
        revision=progress.revision,
        rollout=progress.message,
        services=names,
        last_mitigation=mitigation,
        stable_since=stable_since,
        window_minutes=window_minutes,
        checked_at=now,
        recheck_at=recheck_at,
        isolated_by=[i.line for i in cut_off],
    )
    report.summary = summarize(report, blocked or settling, now, waiting_on_human=bool(blocked))
    return report


def read_deployment(kube: Kube, namespace: str, deployment: str) -> dict[str, Any]:
    try:
        return kube.get("deployments", deployment, namespace)
    except errors.NotFound as e:
        raise errors.InvalidArgument(
            f"no deployment {deployment!r} in namespace {namespace}; check the name (assess_namespace and list_pods "
            "show what runs there)"
        ) from e


def owned_replicasets(kube: Kube, namespace: str, deploy: dict[str, Any]) -> list[dict[str, Any]]:
    listed = kube.list("replicasets", namespace, label_selector=deployment_selector(deploy)).items
    return [rs for rs in listed if owned_by(rs, deploy)]


def read_warnings(kube: Kube, namespace: str) -> ListResult:
    """Every Warning event of the namespace, in pages (the warnings check says when the read stopped short)."""
    return event_reads.read_warnings(kube, namespace)


def read_pods(
    kube: Kube,
    namespace: str,
    selector: str | None,
    replicasets: list[dict[str, Any]],
    now: datetime,
    window: timedelta,
) -> tuple[list[dict[str, Any]], list[PodFacts], bool]:
    """The deployment's pods (controlled by one of its ReplicaSets), with the facts the checks use."""
    uids = {meta(rs).uid for rs in replicasets}
    fetched = fetch_pods(kube, namespace, selector)
    pods, facts = [], []
    for pod, status in fetched.pods:
        refs = meta(pod).owner_references
        if any(ref.get("controller") and ref.get("uid") in uids for ref in refs):
            pods.append(pod)
            facts.append(pod_facts(pod, pod_row(pod, now, status=status), now, window))
    return pods, facts, fetched.truncated


def read_services(
    kube: Kube, namespace: str, service: str | None, deploy: dict[str, Any]
) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """The Services in front of the deployment, each with its Endpoints ({} when it has none)."""
    labels = ((((deploy.get("spec") or {}).get("template") or {}).get("metadata") or {}).get("labels")) or {}
    if service is not None:
        chosen = [read_service(kube, namespace, service, deploy, labels)]
    else:
        listed = list_all(kube, "services", namespace).items
        chosen = [svc for svc in listed if selects((svc.get("spec") or {}).get("selector") or {}, labels)]
        chosen = chosen[:MAX_SERVICES] or named_after(listed, deploy)
    found = []
    for svc in chosen:
        name = str(meta(svc).name)
        try:
            endpoints = kube.get("endpoints", name, namespace)
        except errors.NotFound:
            endpoints = {}
        found.append((svc, endpoints))
    return found


def named_after(services: list[dict[str, Any]], deploy: dict[str, Any]) -> list[dict[str, Any]]:
    """The Service of the deployment's name when no Service selects its pods: a selector edited to match none of them
    (app=inventroy) leaves it serving nobody, and its users see the outage whatever the pods' state."""
    return [s for s in services if meta(s).name == meta(deploy).name and (s.get("spec") or {}).get("selector")]


def read_service(
    kube: Kube, namespace: str, service: str, deploy: dict[str, Any], labels: dict[str, str]
) -> dict[str, Any]:
    """The named Service, refused unless it selects the deployment's pods (its endpoints would say nothing of them)."""
    name = meta(deploy).name
    try:
        svc = kube.get("services", service, namespace)
    except errors.NotFound as e:
        raise errors.InvalidArgument(
            f"no service {service!r} in namespace {namespace}; leave service out to check every Service that selects "
            f"{name}'s pods"
        ) from e
    selector = (svc.get("spec") or {}).get("selector") or {}
    if not selects(selector, labels):
        shown = ",".join(f"{k}={v}" for k, v in selector.items()) or "none"
        raise errors.InvalidArgument(
            f"service {service!r} does not select {str(deploy.get('kind') or 'Deployment').lower()} {name}'s pods "
            f"(its selector: {shown}), so its endpoints "
            f"say nothing about {name}; leave service out to check the Services that do"
        )
    return svc


def read_usage(
    kube: Kube, namespace: str, selector: str | None, pods: list[dict[str, Any]]
) -> tuple[list[PodUsage] | None, str]:
    """(usage rows, or None with the reason no metrics could be read)."""
    try:
        metrics = read_metrics(kube, "pods.metrics.k8s.io", namespace, selector)
    except errors.Forbidden as e:
        return None, f"not checked: the server may not read the metrics API ({e})"
    except errors.KubeError as e:
        # metrics-server is an add-on behind the API server: its outage must not hide the other four checks.
        return None, f"not checked: the metrics API did not answer ({e})"
    if metrics is None:
        return None, METRICS_ABSENT
    return pod_usage_rows(pods, metrics), ""


def latest(times: list[datetime | None]) -> datetime | None:
    known = [t for t in times if t is not None]
    return max(known) if known else None


def clock_text(when: datetime, *, seconds: bool = False) -> str:
    return when.astimezone(UTC).strftime("%H:%M:%S UTC" if seconds else "%H:%M UTC")


def summarize(report: RecoveryReport, settling: list[str], now: datetime, *, waiting_on_human: bool = False) -> str:
    """The line a human reads at 3 a.m.: the verdict, then what fails, or what holds, for how long and what next.
    `settling`: why it is not stable yet; with `waiting_on_human`, what only a human's action will change."""
    head = (
        f"{report.deployment}: {report.verdict} - "
        if report.kind == "deployment"
        else (f"{report.kind} {report.deployment}: {report.verdict} - ")
    )
    failed = [c for c in report.checks if c.passed is False]
    isolated = "; ".join(report.isolated_by)
    if report.verdict == "ISOLATED" and isolated.startswith("scaled to 0 by "):
        return (
            f"{head}offline, {isolated}: no pod of it runs, so nothing fails and nothing recovered. Fix the cause "
            f"(assess_namespace({report.namespace}) picks the next action) before scaling it up again and verifying"
        )
    if failed:
        failing = "; ".join(f"{c.name} ({c.detail})" for c in failed)
        also = f"; also isolated: {isolated}" if isolated else ""
        if report.desired_replicas == 0 and report.kind == "deployment":  # no pod fails: nothing to act on
            return f"{head}failing: {failing}{also}. Scale it up (scale_deployment) if that Service should serve"
        return (
            f"{head}failing: {failing}{also}. Assess again: assess_namespace({report.namespace}) picks the next action"
        )
    if report.verdict == "ISOLATED":
        return (
            f"{head}cut off from traffic by a temporary measure: {isolated}. Its checks pass, but isolation is "
            f"containment, not recovery: fix the cause (assess_namespace({report.namespace}) picks the next action), "
            "then restore the measure (restore_measure) and verify again"
        )
    endpoints = next(c for c in report.checks if c.name == "endpoints")
    text = head + f"{report.ready_replicas}/{report.desired_replicas} pods ready, "
    if report.desired_replicas == 0:
        text = head + (
            f"scaled to 0, {report.running_pods} pods still running, "
            if report.running_pods
            else "scaled to 0, no pod runs, "
        )
    text += f"endpoints: {endpoints.detail}" if report.services else "no Service in front of it"
    mitigation = report.last_mitigation
    if waiting_on_human:
        text += f"; waiting on a human: {settling[0]}"
    elif settling:
        text += f"; still settling: {settling[0]}"
    elif report.stable_since is not None:
        held = max(0, int((now - report.stable_since).total_seconds()))
        if report.verdict == "RECOVERING":
            text += f"; stable for {held // 60} of {report.window_minutes} minutes"
            if mitigation is not None and now - mitigation.finished_at < timedelta(minutes=report.window_minutes):
                text += f" after {mitigation.tool} at {clock_text(mitigation.finished_at)}"
        else:
            text += f"; stable for {human_age(held)}"
    if mitigation is not None and (gone := mitigation.reverted_note()) is not None:
        text += f"; NO LONGER IN PLACE: the {mitigation.tool} of {clock_text(mitigation.finished_at)} was {gone}"
    elif mitigation is not None and mitigation.tool == "set_memory_limit" and (found := said(mitigation.summary)):
        text += f"; its raised limit answered {RAISED[found]}"
    if report.recheck_at is not None:
        text += f", check again at {clock_text(report.recheck_at)}"
    for unjudged in (c for c in report.checks if c.name in ("warnings", "resources") and c.passed is None):
        text += f"; {unjudged.name} {unjudged.detail.split(';')[0]}"
    return text
