"""check_rollback_safety: the playbook's pre-rollback checklist and its "Should I rollback?" tree, as one read.

Five checks, each ok / warning / blocking / not_visible: a revision to return to exists, it was good, its images can
still be pulled, the current revision migrated no schema, the workload keeps no state. The cluster can prove some of
these and only hint at others; whatever it cannot show becomes a question for the human. Reads only. This module
checks a Deployment; tools/assess/workload_safety.py a StatefulSet or DaemonSet (and holds the tool itself).

Layer: tools.assess.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import Field

from incident_response.tools.core import errors
from incident_response.tools.core.models import ToolResult
from incident_response.tools.engine.event_reads import read_events
from incident_response.tools.engine.mount_reads import read_mount_failures
from incident_response.tools.engine.reads import rollback_reads
from incident_response.tools.k8s.last_change import changed_outside_helm
from incident_response.tools.k8s.pod_templates import same_pod_template
from incident_response.tools.k8s.podslim import Sharing, slim_pod
from incident_response.tools.k8s.quantity import age_seconds, human_age
from incident_response.tools.k8s.views import meta
from incident_response.tools.k8s.workloads import (
    RECENT_ROLLOUT_SECONDS,
    deployment_selector,
    images_of,
    owned_by,
    pick_target,
    revision_of,
    rollout_time,
)
from incident_response.tools.kube.client import Kube
from incident_response.tools.kube.paging import list_all
from incident_response.tools.playbook import config_edit
from incident_response.tools.playbook.config_failures import restores_instead
from incident_response.tools.playbook.known_good import KnownGood, known_good, known_good_instead
from incident_response.tools.playbook.no_rollback import instead
from incident_response.tools.playbook.rollback_checks import (
    SafetyItem,
    capped,
    plan_checks,
)

__all__ = ["RollbackSafety", "SafetyItem", "check_first", "safety_of"]

SafetyVerdict = Literal["CLEAR", "CHECK_FIRST", "BLOCKED"]

PULL_FAILURES = {"ErrImagePull", "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull"}
PULL_FAILED = re.compile(r'Failed to pull image "([^"]+)"')
HELM_RELEASE = "meta.helm.sh/release-name"


class RollbackSafety(ToolResult):
    namespace: str
    deployment: str = Field(description="The workload's name (a Deployment's unless `kind` says otherwise).")
    kind: Literal["deployment", "statefulset", "daemonset"] = "deployment"
    current_revision: int | None
    target_revision: int | None = Field(description="The revision a rollback would return to (None: there is none).")
    target_replicaset: str | None = Field(
        description="What holds that revision: a Deployment's ReplicaSet, a StatefulSet's or DaemonSet's "
        "ControllerRevision."
    )
    revisions_kept: list[int]
    current_images: list[str]
    target_images: list[str]
    current_rolled_out: str | None = Field(description="How long ago the current revision started rolling out: 7m.")
    recent_rollout: bool | None = Field(description="Within the playbook's 2-hour window for blaming a deploy.")
    verdict: SafetyVerdict = Field(
        description="BLOCKED: a check found a reason not to roll back; CHECK_FIRST: a warning needs a human answer; "
        "CLEAR: nothing found (still ask questions_for_human: migrations are never provably absent)."
    )
    items: list[SafetyItem]
    questions_for_human: list[str] = Field(description="What only a person can answer, e.g. forward-only migrations.")
    helm_release: str | None = Field(description="The Helm release managing the deployment: see rollback_helm_release.")
    next_step: str


@dataclass
class Observed:
    """What the checks here read, in one place, so they are pure (the shared stateful and migration checks read
    claims and Jobs themselves)."""

    deployment: dict[str, Any]
    owned: list[dict[str, Any]]
    pods: list[dict[str, Any]]
    pull_events: list[dict[str, Any]]
    nodes: list[dict[str, Any]] | None  # None: not readable
    now: datetime
    mounts: dict[str, str] = field(default_factory=dict)  # pod -> FailedMount on a missing ConfigMap/Secret


def observe_rollback(kube: Kube, namespace: str, name: str) -> Observed:
    deployment = kube.get("deployments", name, namespace)
    selector = deployment_selector(deployment)
    listed = kube.list("replicasets", namespace, label_selector=selector).items
    return observed_with(kube, namespace, deployment, listed, workload_pods(kube, namespace, selector))


def workload_pods(kube: Kube, namespace: str, selector: str | None) -> list[dict[str, Any]]:
    """Every pod of the workload (in pages, kept slim): a revision's pods may sort past any fixed count."""
    sharing = Sharing()
    return list_all(kube, "pods", namespace, label_selector=selector, keep=lambda p: slim_pod(p, sharing)).items


def observed_with(
    kube: Kube,
    namespace: str,
    deployment: dict[str, Any],
    replicasets: list[dict[str, Any]],
    pods: list[dict[str, Any]],
) -> Observed:
    """The rest of the reads, for a deployment, ReplicaSets and pods read already (evaluate_decision's namespace
    read has them)."""
    try:
        events = read_events(kube, namespace, "reason=Failed").items
    except errors.Forbidden:
        events = []
    try:
        nodes: list[dict[str, Any]] | None = list_all(kube, "nodes").items
    except errors.Forbidden:
        nodes = None
    return Observed(
        deployment=deployment,
        owned=[rs for rs in replicasets if owned_by(rs, deployment)],
        pods=pods,
        pull_events=[e for e in events if e.get("reason") == "Failed" and PULL_FAILED.search(str(e.get("message")))],
        nodes=nodes,
        mounts=read_mount_failures(kube, namespace, pods),
        now=datetime.now(UTC),
    )


# --- previous_revision ------------------------------------------------------------------------------------------


def _age(value: Any, now: datetime) -> str:
    return human_age(age_seconds(value, now))


def _revision_line(rs: dict[str, Any], now: datetime) -> str:
    metadata = rs["metadata"]
    images = ", ".join(images_of(rs["spec"]["template"]))
    return (
        f"revision {revision_of(rs)}: replicaset/{metadata['name']} {images}, "
        f"created {_age(metadata.get('creationTimestamp'), now)} ago"
    )


def deployment_namespace(deployment: dict[str, Any]) -> str:
    return str((deployment.get("metadata") or {}).get("namespace") or "")


def choose_target(seen: Observed, to_revision: int | None) -> tuple[dict[str, Any] | None, SafetyItem]:
    """kubectl's choice of revision (an unknown `to_revision` raises InvalidArgument listing the kept ones)."""
    deployment, owned = seen.deployment, seen.owned
    name = deployment["metadata"]["name"]
    kept = sorted(owned, key=lambda rs: revision_of(rs) or 0, reverse=True)
    evidence = capped([_revision_line(rs, seen.now) for rs in kept if revision_of(rs) is not None])
    numbers = sorted(r for rs in owned if (r := revision_of(rs)) is not None)
    if to_revision is None and len(numbers) < 2:
        what_fits = instead(deployment_namespace(deployment), "deployment", name, seen.pods)
        detail = (
            f"deployment {name} keeps no earlier revision (revisions kept: {', '.join(map(str, numbers)) or 'none'}): "
            f"a rollback has nowhere to go; instead, {what_fits}"
        )
        return None, SafetyItem(check="previous_revision", status="blocking", detail=detail, evidence=evidence)
    instead_of_default = better_target(seen) if to_revision is None else None
    if instead_of_default is not None:
        target = instead_of_default.replicaset
    else:
        target = pick_target(deployment, owned, to_revision)
    number = revision_of(target)
    same = same_pod_template(target["spec"]["template"], (deployment.get("spec") or {}).get("template"))
    if same or (number is not None and number == revision_of(deployment)):
        detail = f"deployment {name} already runs revision {number}'s pod template: rolling back to it changes nothing"
        return target, SafetyItem(check="previous_revision", status="blocking", detail=detail, evidence=evidence)
    if (deployment.get("spec") or {}).get("paused"):
        detail = f"deployment {name} is paused: kubectl refuses to roll back a paused deployment (resume it first)"
        return target, SafetyItem(check="previous_revision", status="blocking", detail=detail, evidence=evidence)
    if instead_of_default is not None:
        # kubectl's default is the revision before the current one, whatever it was: name the known-good one instead.
        detail = (
            f"revision {number} (replicaset/{target['metadata']['name']}) is the target, not the one kubectl rollout "
            f"undo picks: {instead_of_default.why}. Pass to_revision={number}"
        )
        return target, SafetyItem(check="previous_revision", status="ok", detail=detail, evidence=evidence)
    how = "the one kubectl rollout undo picks" if to_revision is None else "the revision asked for"
    detail = f"revision {number} (replicaset/{target['metadata']['name']}) is kept: {how}"
    return target, SafetyItem(check="previous_revision", status="ok", detail=detail, evidence=evidence)


# --- known_good: tools/playbook/known_good.py decides it, for every kind and every caller ------------------------


def known_good_item(target: dict[str, Any], seen: Observed) -> SafetyItem:
    return known_good(target, seen.owned, seen.pods, seen.now)


def better_target(seen: Observed) -> KnownGood | None:
    return known_good_instead(seen.deployment, seen.owned, seen.pods, seen.now)


# --- image_available --------------------------------------------------------------------------------------------


def image_key(reference: str) -> str:
    """An image reference as the registry knows it: `postgres:16` and `docker.io/library/postgres:16` are one."""
    name, _, digest = reference.partition("@")
    slash, colon = name.rfind("/"), name.rfind(":")
    repository, tag = (name[:colon], name[colon + 1 :]) if colon > slash else (name, "latest")
    first = repository.split("/", 1)[0]
    if "/" not in repository:
        repository = f"docker.io/library/{repository}"
    elif "." not in first and ":" not in first and first != "localhost":
        repository = f"docker.io/{repository}"
    return f"{repository}@{digest}" if digest else f"{repository}:{tag}"


def _containers_with_image(pod: dict[str, Any], image: str) -> set[str]:
    spec = pod.get("spec") or {}
    return {
        str(c.get("name"))
        for c in [*(spec.get("initContainers") or []), *(spec.get("containers") or [])]
        if image_key(str(c.get("image"))) == image_key(image)
    }


def image_evidence(image: str, seen: Observed) -> tuple[list[str], list[str]]:
    """(pull failures, signs it is present) for one image."""
    failures, present = [], []
    for pod in seen.pods:
        names = _containers_with_image(pod, image)
        if not names:
            continue
        status = pod.get("status") or {}
        for cs in [*(status.get("initContainerStatuses") or []), *(status.get("containerStatuses") or [])]:
            if cs.get("name") not in names:
                continue
            state = cs.get("state") or {}
            reason = (state.get("waiting") or {}).get("reason")
            if reason in PULL_FAILURES:
                failures.append(f"pod/{pod['metadata']['name']} container {cs.get('name')}: {reason}")
            elif "running" in state:
                present.append(f"pod/{pod['metadata']['name']} runs it now")
    for event in seen.pull_events:
        match = PULL_FAILED.search(str(event.get("message")))
        if match and image_key(match.group(1)) == image_key(image):
            involved = event.get("involvedObject") or {}
            when = event.get("lastTimestamp") or meta(event).creation_timestamp
            failures.append(
                f"event on {str(involved.get('kind', '')).lower()}/{involved.get('name')}, {event.get('count') or 1}x, "
                f"last {_age(when, seen.now)} ago: {errors.truncate(str(event.get('message')), 200)}"
            )
    cached = [
        str(node["metadata"]["name"])
        for node in seen.nodes or []
        if any(
            image_key(str(n)) == image_key(image)
            for entry in (node.get("status") or {}).get("images") or []
            for n in entry.get("names") or []
        )
    ]
    if cached:
        present.append(
            f"cached on node {', '.join(cached[:5])}" + (f" and {len(cached) - 5} more" if len(cached) > 5 else "")
        )
    return failures, present


def image_item(images: list[str], number: int | None, seen: Observed) -> SafetyItem:
    failed, unseen, evidence = [], [], []
    for image in dict.fromkeys(images):
        failures, present = image_evidence(image, seen)
        if failures:
            failed.append(image)
            evidence += [f"{image}: {line}" for line in failures[:3]]
        elif present:
            evidence += [f"{image}: {line}" for line in present[:2]]
        else:
            unseen.append(image)
            evidence.append(f"{image}: no pod runs it now and no node reports it")
    if seen.nodes is None:
        evidence.append("nodes are not readable with these credentials: node image caches not checked")
    if failed:
        detail = (
            f"revision {number}'s image {', '.join(failed)} failed to pull: a rollback would start pods that cannot "
            "pull it. Pick another revision (to_revision) or fix the registry or pull secret first"
        )
        return SafetyItem(check="image_available", status="blocking", detail=detail, evidence=capped(evidence))
    if unseen:
        return SafetyItem(
            check="image_available",
            status="not_visible",
            detail=f"nothing in the cluster shows that {', '.join(unseen)} can still be pulled; the registry itself "
            "is not checked",
            evidence=capped(evidence),
            questions=[
                f"Can the registry still serve {image} (the tag not deleted or overwritten)?" for image in unseen
            ],
        )
    return SafetyItem(
        check="image_available",
        status="ok",
        detail=f"every image of revision {number} runs in a pod now or is cached on a node (a node without it must "
        "still pull it; the registry itself is not checked)",
        evidence=capped(evidence),
    )


def helm_release_of(deployment: dict[str, Any]) -> str | None:
    release = (meta(deployment).annotations).get(HELM_RELEASE)
    return str(release) if release else None


def helm_note(
    namespace: str, name: str, release: str, kind: str = "deployment", workload: dict[str, Any] | None = None
) -> str:
    """Why a kubectl rollback of a Helm-managed workload may not be the one to run; or, when its image was last set
    outside helm (a hot-fix with kubectl), why it is."""
    outside = changed_outside_helm(workload) if workload is not None else None
    if outside is not None:
        return (
            f"{kind} {name} belongs to Helm release {release}, but its image was last set outside helm ({outside}): "
            "that change is not in helm's history, so kubectl rollout undo brings back what helm deployed "
            f"(rollback_helm_release(namespace={namespace!r}, release={release!r}) re-applies the deployed release)"
        )
    return (
        f"{kind} {name} belongs to Helm release {release}: if the bad change came from a helm upgrade, prefer "
        f"rollback_helm_release(namespace={namespace!r}, release={release!r}) (helm_history lists its revisions); "
        "kubectl rollout undo leaves Helm's record at the bad release, and the next helm upgrade reapplies it"
    )


# --- verdict ----------------------------------------------------------------------------------------------------


def verdict_of(items: list[SafetyItem]) -> SafetyVerdict:
    statuses = {item.status for item in items}
    if "blocking" in statuses:
        return "BLOCKED"
    return "CHECK_FIRST" if "warning" in statuses else "CLEAR"


def next_step_of(
    verdict: SafetyVerdict,
    items: list[SafetyItem],
    namespace: str,
    name: str,
    target: int | None,
    paused: bool,
    pods: list[dict[str, Any]] | None = None,
) -> str:
    call = f"rollback_deployment(namespace={namespace!r}, deployment={name!r}, to_revision={target})"
    if verdict == "BLOCKED":
        if any(i.check == "previous_revision" and i.status == "blocking" for i in items):
            if target is None:
                return (
                    f"do not roll back (nowhere to go); instead, {instead(namespace, 'deployment', name, pods or [])}"
                )
            if paused:
                return (
                    f"the human resumes the rollout first (kubectl rollout resume deployment/{name} -n {namespace}; "
                    "the paused rollout then continues until the rollback replaces it), then check again"
                )
            return f"revision {target} is what runs now: pick another revision (rollout_history) and check again"
        return (
            "do not roll back to this revision: pick an older one with to_revision (rollout_history), or scale/isolate"
        )
    if verdict == "CHECK_FIRST":
        return check_first(items, call)
    return f"plan {call}; show the human questions_for_human before confirming"


def check_first(items: list[SafetyItem], call: str) -> str:
    """CHECK_FIRST's next step: a config warning's move first (a rollback restores no ConfigMap or Secret)."""
    config = [i for i in items if i.check == "config" and i.status == "warning"]
    if config and restores_instead(config[0].detail):  # the rollback is not the fix: say so, not only "first"
        return (
            "restore the config the config check names instead of rolling back (a rollback does not restore it); plan "
            f"{call} only if pods still fail once it is restored, after putting questions_for_human to the human"
        )
    if config and config_edit.FIX_MARK in config[0].detail:  # an edit after the failure began: likely its fix
        return (
            "see whether the edit the config check names fixed it first (verify_recovery); then put questions_for_human"
            f" to the human; only if the pods still fail and the answers allow it, plan {call}"
        )
    first = "restore the config the config check names first (a rollback does not); then " if config else ""
    return f"{first}put questions_for_human to the human; only if the answers allow it, plan {call}"


def reason_of(detail: str, result: RollbackSafety) -> str:
    """A blocking check's detail as the summary says it: without the workload the summary names just before, and
    without what to do instead when next_step says that whole (each said once)."""
    why, said, what_fits = detail.partition("; instead, ")
    reason = why if said and what_fits in result.next_step else detail
    return reason.removeprefix(f"{result.kind} {result.deployment} ")


def summary_of(result: RollbackSafety) -> str:
    if result.target_revision is None:
        move = f"{result.kind} {result.deployment} (revision {result.current_revision})"
    else:
        move = f"{result.kind} {result.deployment} from revision {result.current_revision} to {result.target_revision}"
    if result.verdict == "BLOCKED":
        blocking = [i.detail for i in result.items if i.status == "blocking"]
        reasons = "; ".join(reason_of(detail, result) for detail in blocking)
        return f"BLOCKED: do not roll back {move}: {errors.truncate(reasons, 300)}"
    if result.verdict == "CHECK_FIRST":
        reasons = "; ".join(f"{i.check}: {i.detail.split('. ')[0]}" for i in result.items if i.status == "warning")
        text = f"CHECK FIRST before rolling back {move}: {errors.truncate(reasons, 300)}."
    else:
        statuses = ", ".join(f"{i.check} {i.status}" for i in result.items)
        text = f"CLEAR to roll back {move} ({', '.join(result.target_images)}): {statuses}."
    if result.recent_rollout is False:
        # The playbook blames a deploy only within 2 hours: an old revision is a weaker suspect.
        text += f" Note: revision {result.current_revision} rolled out {result.current_rolled_out} ago."
    count = len(result.questions_for_human)
    return text + (f" Ask the human {count} question(s) before confirming." if count else "")


def safety_of(kube: Kube, namespace: str, seen: Observed, to_revision: int | None) -> RollbackSafety:
    """The checks and verdict on what was read."""
    deployment = str(seen.deployment["metadata"]["name"])
    target, previous = choose_target(seen, to_revision)
    items = [previous]
    if target is not None:
        number = revision_of(target)
        items += [known_good_item(target, seen), image_item(images_of(target["spec"]["template"]), number, seen)]
        reads = rollback_reads(kube, namespace, seen.deployment, seen.pods)
        items += plan_checks(seen.deployment, target, seen.owned, seen.now, reads, seen.pods, seen.mounts)
    questions = list(dict.fromkeys(q for item in items for q in item.questions))
    verdict = verdict_of(items)
    rolled_out = rollout_time(seen.deployment, seen.owned)
    age = int((seen.now - rolled_out).total_seconds()) if rolled_out is not None else None
    target_revision = revision_of(target) if target is not None else None
    result = RollbackSafety(
        summary="",
        namespace=namespace,
        deployment=deployment,
        current_revision=revision_of(seen.deployment),
        target_revision=target_revision,
        target_replicaset=target["metadata"]["name"] if target is not None else None,
        revisions_kept=sorted(r for rs in seen.owned if (r := revision_of(rs)) is not None),
        current_images=images_of((seen.deployment.get("spec") or {}).get("template") or {}),
        target_images=images_of(target["spec"]["template"]) if target is not None else [],
        current_rolled_out=human_age(max(age, 0)) if age is not None else None,
        recent_rollout=age <= RECENT_ROLLOUT_SECONDS if age is not None else None,
        verdict=verdict,
        items=items,
        questions_for_human=questions,
        helm_release=helm_release_of(seen.deployment),
        next_step=next_step_of(
            verdict,
            items,
            namespace,
            deployment,
            target_revision,
            bool((seen.deployment.get("spec") or {}).get("paused")),
            seen.pods,
        ),
    )
    if result.helm_release is not None and verdict != "BLOCKED":
        result.next_step += f". Note: {helm_note(namespace, deployment, result.helm_release, workload=seen.deployment)}"
    result.summary = summary_of(result)
    return result
