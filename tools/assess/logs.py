"""get_logs: a bounded, redacted tail of one pod's (or a deployment's pod's) container log.

Layer: tools.assess.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from incident_response.tools.assess.pods import fetch_pods
from incident_response.tools.core import errors
from incident_response.tools.core.masking import mask_text_counted
from incident_response.tools.core.models import ToolResult
from incident_response.tools.core.secret_echoes import echoed_secrets, mask_echoes
from incident_response.tools.engine.deps import Deps, check_name
from incident_response.tools.k8s.podstatus import containers_ready, failing_init_container, is_problem, restart_count
from incident_response.tools.k8s.views import meta
from incident_response.tools.k8s.workloads import deployment_selector
from incident_response.tools.kube.client import Kube

MAX_BYTES = 64 * 1024
MAX_OTHER_PODS = 20
DEPLOYMENT_PREFIXES = ("deployment/", "deploy/", "deployments/")


def worst_first(pods: list[tuple[dict[str, Any], str | None]]) -> list[dict[str, Any]]:
    """During an incident the interesting log is a failing pod's: problems first, then most restarts."""

    def rank(entry: tuple[dict[str, Any], str | None]) -> tuple[bool, int, str]:
        pod, status = entry
        ready, total = containers_ready(pod)
        problem = is_problem(status or "", ready, total) if status else ready < total
        return (not problem, -restart_count(pod), str(meta(pod).name))

    return [pod for pod, _ in sorted(pods, key=rank)]


def resolve_target(kube: Kube, namespace: str, target: str) -> tuple[dict[str, Any], list[str]]:
    """The pod to read and the other pods of the deployment (if `target` named one)."""
    deployment = None
    for prefix in DEPLOYMENT_PREFIXES:
        if target.startswith(prefix):
            deployment = check_name(target.removeprefix(prefix), "deployment")
    if deployment is None:
        name = check_name(target.removeprefix("pod/"), "pod")
        try:
            return kube.get("pods", name, namespace), []
        except errors.NotFound:
            deployment = name  # `kubectl logs web` means a pod; we also accept a deployment name
    deploy = kube.get("deployments", deployment, namespace)
    selector = deployment_selector(deploy)
    fetched = fetch_pods(kube, namespace, selector)
    if not fetched.pods:
        raise errors.NotFound(
            f"deployment {deployment} has no pods in namespace {namespace!r}; check list_pods and rollout_status",
            code=404,
            reason="NotFound",
            verb="list",
            resource="pods",
        )
    # Every pod of the deployment is read (its failing ones may sort past any fixed count), worst first.
    chosen, *others = worst_first(fetched.pods)
    try:
        # The list keeps pods slim (no env, args): the chosen one whole, for the secrets its log may echo.
        chosen = kube.get("pods", str(meta(chosen).name), namespace)
    except errors.NotFound:
        pass  # gone since the list: reading its log says so
    return chosen, [str(meta(p).name) for p in others]


class PodLogs(ToolResult):
    namespace: str
    pod: str
    container: str
    previous: bool
    lines: list[str]
    line_count: int
    truncated: bool = Field(description="True when the byte limit cut the tail short.")
    redactions: int = Field(description="Credentials masked in the returned lines.")
    other_pods: list[str] = Field(
        description=f"For a deployment: its other pods, worst first (at most {MAX_OTHER_PODS}), to read next if needed."
    )


def get_logs(
    deps: Deps,
    namespace: Annotated[str, Field(description="Namespace.")],
    pod_or_deployment: Annotated[
        str, Field(description="A pod name, or deployment/NAME to read its most troubled pod.", max_length=300)
    ],
    container: Annotated[
        str | None,
        Field(
            description="Container (init ones too); default the init container a stuck pod waits on, else the first.",
            max_length=253,
        ),
    ] = None,
    tail_lines: Annotated[int, Field(description="Lines from the end.", ge=1, le=2000)] = 100,
    since_seconds: Annotated[int | None, Field(description="Only lines newer than this.", ge=1, le=604800)] = None,
    previous: Annotated[
        bool, Field(description="The previous (crashed) container's log, for CrashLoopBackOff.")
    ] = False,
) -> PodLogs:
    """Read the tail of a container log with timestamps, size-limited and with credentials redacted. Use it to see
    why a pod crashes (previous=true for the crashed instance) or which peer it blames."""
    kube = deps.kube
    pod, others = resolve_target(kube, namespace, pod_or_deployment)
    name = str(meta(pod).name)
    spec = pod.get("spec") or {}
    containers = [str(c.get("name")) for c in spec.get("containers") or []]
    inits = [str(c.get("name")) for c in spec.get("initContainers") or []]
    if container is not None:
        check_name(container, "container")
        if containers and container not in containers + inits:
            listed = ", ".join(containers) + (f"; init containers: {', '.join(inits)}" if inits else "")
            raise errors.InvalidArgument(f"pod {name} has no container {container!r} (containers: {listed})")
    # A pod stuck on an init container: the app container never started, the init container's log says why.
    chosen = container or failing_init_container(pod) or (containers[0] if containers else "")
    try:
        text = kube.logs(
            name,
            namespace,
            container=chosen or None,
            tail_lines=tail_lines,
            since_seconds=since_seconds,
            previous=previous,
            timestamps=True,
            limit_bytes=MAX_BYTES,
        )
    except errors.BadRequest as e:
        hint = "; it has not restarted, so read without previous" if previous else ""
        raise errors.BadRequest(f"{e}{hint}", code=e.code, reason=e.reason, verb=e.verb, resource=e.resource) from e
    truncated = len(text.encode()) >= MAX_BYTES
    # A credential the pod holds by position (DB_PASSWORD's value) has no shape: masked where the app echoes it.
    echoed, echoes = mask_echoes(text, echoed_secrets(pod.get("spec")))
    clean, redactions = mask_text_counted(echoed)
    redactions += echoes
    lines = clean.splitlines()[-tail_lines:]
    summary = f"{len(lines)} log lines from {name}/{chosen}{' (previous instance)' if previous else ''}"
    if not lines:
        summary += "; empty" + ("" if previous else ": if the pod is crash-looping, try previous=true")
    if redactions:
        summary += f"; {redactions} credentials redacted"
    if truncated:
        summary += f"; cut at {MAX_BYTES // 1024} KiB"
    if len(others) > MAX_OTHER_PODS:
        summary += f"; {len(others)} other pods, the {MAX_OTHER_PODS} worst listed"
    return PodLogs(
        summary=summary,
        namespace=namespace,
        pod=name,
        container=chosen,
        previous=previous,
        lines=lines,
        line_count=len(lines),
        truncated=truncated,
        redactions=redactions,
        other_pods=others[:MAX_OTHER_PODS],
    )
