"""evaluate_decision: walk the playbook's tree for one mitigation (rollback, scale, isolate) with the cluster's facts
filled in, asking the human only what the cluster cannot show. The trees themselves are in tools/trees.py."""

from __future__ import annotations

import math
from collections import Counter
from typing import Annotated, Any, Literal

from pydantic import Field

from incident_response.tools import backends, capacity, errors, labels, rollback_safety
from incident_response.tools.assess import Observation, observe
from incident_response.tools.decide import Action, Decision, decide
from incident_response.tools.deps import Deps
from incident_response.tools.hpas import hpa_row
from incident_response.tools.kube import Kube
from incident_response.tools.metrics import NEAR_LIMIT_PERCENT
from incident_response.tools.models import ToolResult
from incident_response.tools.quantity import human_age, memory_text, parse_quantity
from incident_response.tools.scaling import current_replicas, hpa_bounds, managing_hpa, template_spec
from incident_response.tools.trees import (
    RECENT_MINUTES,
    STEP_FACTOR,
    Alternative,
    Answers,
    Elsewhere,
    Hpa,
    IsolateFacts,
    Outcome,
    RollbackFacts,
    SafetyCheck,
    ScaleFacts,
    TreeStep,
    Verdict,
    Walk,
    isolate_tree,
    proposed_replicas,
    rollback_tree,
    scale_tree,
)
from incident_response.tools.workloads import images_of, owned_by, revision_of, rollout_time

MAX_CAUTIONS = 8
MAX_LISTED = 5


class DecisionEvaluation(ToolResult):
    namespace: str
    action: Action = Field(description="The tree walked: the caller's action, else the one assess_namespace picks.")
    chosen_by: Literal["caller", "assessment"]
    target: str | None = Field(description="What the action is about: deployment/NAME, or the culprit's selector.")
    steps: list[TreeStep] = Field(description="The tree's questions in order, each with its answer and source.")
    verdict: Verdict
    alternative: Alternative | None = Field(description="With TRY_INSTEAD or FIX_FIRST: the action to consider.")
    question: str | None = Field(description="With NEEDS_ANSWER: the question to put to the human.")
    answer_with: str | None = Field(description="With NEEDS_ANSWER: the argument to call again with (true/false).")
    reason: str
    next_tool: str | None
    next_arguments: dict[str, Any]
    cautions: list[str] = Field(description="What to tell the human before acting (open questions, blind spots).")
    assessment: Decision = Field(description="What assess_namespace's decision framework picks for the namespace.")


ActionArg = Annotated[
    Literal["ROLLBACK", "SCALE", "ISOLATE"] | None,
    Field(description="The tree to walk; default the action assess_namespace picks for the namespace."),
]
HumanAnswer = Annotated[bool | None, Field(description="Only the human knows; leave unset until they answered.")]


def evaluate_decision(
    deps: Deps,
    namespace: Annotated[str, Field(description="Namespace of the incident.")],
    action: ActionArg = None,
    deployment: Annotated[
        str | None, Field(description="Deployment to evaluate (for ISOLATE: the culprit); default the assessment's.")
    ] = None,
    to_revision: Annotated[
        int | None, Field(description="ROLLBACK: the revision to go back to; default the previous one.", ge=1)
    ] = None,
    data_integrity_at_risk: Annotated[
        bool | None, Field(description="ISOLATE: is data being corrupted or lost? (the human's answer)")
    ] = None,
    can_go_offline: Annotated[
        bool | None, Field(description="ISOLATE: may the culprit pods stop serving entirely? (the human's answer)")
    ] = None,
    migrations_forward_only: Annotated[
        bool | None,
        Field(description="ROLLBACK: did the current version run migrations that cannot be undone? (the human's)"),
    ] = None,
    stateful_changes_uncertain: Annotated[
        bool | None,
        Field(description="ROLLBACK: might older code not read data the current version wrote? (the human's)"),
    ] = None,
    load_related: Annotated[
        bool | None, Field(description="SCALE: is it traffic? Used only when the cluster cannot show load.")
    ] = None,
) -> DecisionEvaluation:
    """Walk the playbook's decision tree for ROLLBACK, SCALE or ISOLATE with this namespace's facts: each question
    answered from the cluster where it can be, the rest left to the human. Ends in PROCEED (with the mitigation tool
    and arguments to plan it), TRY_INSTEAD, FIX_FIRST, CHECK_OLDER, DO_NOT, or NEEDS_ANSWER (ask the human the
    question, then call again with the answer). Use it after assess_namespace, before planning a mitigation."""
    seen = observe(deps.kube, namespace)
    picked = decide(seen.facts)
    if deployment is not None and seen.deployment(deployment) is None:
        listed = sorted(str((d.get("metadata") or {}).get("name")) for d in seen.deployments)
        raise errors.NotFound(
            f"deployment {deployment!r} was not found in namespace {namespace} (deployments there: "
            f"{', '.join(listed[:20]) or 'none'}); check the name with list_pods or assess_namespace",
            code=404, reason="NotFound", verb="get", resource="deployments", name=deployment,
        )  # fmt: skip
    chosen: Action = action or picked.primary_action
    answers = Answers(
        data_integrity_at_risk=data_integrity_at_risk,
        can_go_offline=can_go_offline,
        migrations_forward_only=migrations_forward_only,
        stateful_changes_uncertain=stateful_changes_uncertain,
        load_related=load_related,
    )
    target, walk = walk_tree(deps, seen, picked, chosen, deployment, to_revision, answers)
    assert walk.outcome is not None
    return shaped(namespace, chosen, action is not None, target, walk, walk.outcome, picked, seen.unreadable)


def walk_tree(
    deps: Deps, seen: Observation, picked: Decision, action: Action, deployment: str | None, to_revision: int | None,
    answers: Answers,
) -> tuple[str | None, Walk]:  # fmt: skip
    """(what the action is about, the walk of its tree)."""
    where = elsewhere(seen)
    if action == "NONE" or (picked.primary_action == "NONE" and deployment is None):
        hint = "; name a deployment to walk a tree for it anyway" if action != "NONE" else ""
        if action == "NONE" and deployment is not None:
            hint = f"; pass action=ROLLBACK, SCALE or ISOLATE to walk a tree for deployment {deployment} anyway"
        return None, Walk().end(Outcome(verdict="NOTHING_TO_DO", reason=picked.reason + hint))
    if action == "ISOLATE":
        isolate = isolate_facts(seen, deployment)
        return isolate.selector or None, isolate_tree(isolate, answers, where)
    name = deployment or target_deployment(seen, picked, action)
    if name is None:
        raise errors.InvalidArgument(
            f"no deployment to walk the {action} tree for: the assessment points at {picked.target}; pass deployment="
        )
    if action == "ROLLBACK":
        return f"deployment/{name}", rollback_tree(rollback_facts(deps, seen, name, to_revision), answers, where)
    return f"deployment/{name}", scale_tree(scale_facts(deps.kube, seen, name), answers, where)


def shaped(
    namespace: str, action: Action, by_caller: bool, target: str | None, walk: Walk, outcome: Outcome, picked: Decision,
    unreadable: list[str],
) -> DecisionEvaluation:  # fmt: skip
    head = f"{action} {target}" if target else action
    verdict = outcome.verdict + (f" {outcome.alternative}" if outcome.alternative else "")
    summary = f"{head}: {verdict} - {outcome.reason}"
    if outcome.question:
        summary += f". Ask the human: {outcome.question} Then call again with {outcome.answer_with}=true|false"
    elif outcome.next_tool:
        arguments = ", ".join(f"{k}={v}" for k, v in outcome.next_arguments.items())
        summary += f". Next: {outcome.next_tool}({arguments})"
    cautions = list(dict.fromkeys(walk.cautions))
    if unreadable:
        cautions.insert(0, f"Not readable with these credentials: {', '.join(unreadable)}; the facts above lack them.")
    return DecisionEvaluation(
        summary=summary,
        namespace=namespace,
        action=action,
        chosen_by="caller" if by_caller else "assessment",
        target=target,
        steps=walk.steps,
        verdict=outcome.verdict,
        alternative=outcome.alternative,
        question=outcome.question,
        answer_with=outcome.answer_with,
        reason=outcome.reason,
        next_tool=outcome.next_tool,
        next_arguments=outcome.next_arguments,
        cautions=cautions[:MAX_CAUTIONS],
        assessment=picked,
    )


def target_deployment(seen: Observation, picked: Decision, action: Action) -> str | None:
    """The deployment the assessment points at (through an HPA or a culprit), else the likeliest for the action."""
    target = picked.target or ""
    if target.startswith("deployment/"):
        return target.removeprefix("deployment/")
    if target.startswith("hpa/"):
        hpa = next((h for h in seen.hpas if backends.name_of(h) == target.removeprefix("hpa/")), None)
        ref = ((hpa or {}).get("spec") or {}).get("scaleTargetRef") or {}
        if ref.get("kind") == "Deployment" and seen.deployment(str(ref.get("name"))) is not None:
            return str(ref["name"])
    poisonings = seen.facts.poisonings
    if picked.primary_action == "ISOLATE" and poisonings and seen.deployment(poisonings[0].culprit) is not None:
        return poisonings[0].culprit
    if action == "ROLLBACK":
        return elsewhere(seen).recent_rollout
    return None


def elsewhere(seen: Observation) -> Elsewhere:
    # A rollout with no earlier revision kept cannot be rolled back: pointing at it would send the walk in circles.
    undoable = [r for r in seen.facts.recent_rollouts if r.previous_images]
    rollouts = sorted(undoable, key=lambda r: (not (r.failing_pods or r.unavailable_replicas),
                                               r.minutes_ago))  # fmt: skip
    return Elsewhere(
        namespace=seen.namespace,
        recent_rollout=rollouts[0].deployment if rollouts else None,
        poisoning=bool(seen.facts.poisonings),
    )


def minutes_since_rollout(seen: Observation, deploy: dict[str, Any]) -> tuple[int | None, list[str]]:
    name = backends.name_of(deploy)
    when = rollout_time(deploy, [rs for rs in seen.replicasets if owned_by(rs, deploy)])
    revision = revision_of(deploy)
    if when is None:
        return None, [f"deployment {name} shows no rollout time (no revision annotation or ReplicaSet)"]
    seconds = max(0, int((seen.now - when).total_seconds()))
    images = ", ".join(images_of((deploy.get("spec") or {}).get("template") or {}))
    return seconds // 60, [f"revision {revision} of {name} ({images}) rolled out {human_age(seconds)} ago"]


def rollback_facts(deps: Deps, seen: Observation, name: str, to_revision: int | None) -> RollbackFacts:
    deploy = seen.deployment(name)
    assert deploy is not None
    minutes, evidence = minutes_since_rollout(seen, deploy)
    facts = RollbackFacts(deployment=name, minutes_since_rollout=minutes, rollout_evidence=evidence,
                          to_revision=to_revision, paused=bool((deploy.get("spec") or {}).get("paused")))  # fmt: skip
    if minutes is None or minutes > RECENT_MINUTES:
        return facts  # the tree stops at its first question: no need for the safety reads
    safety = rollback_safety.check_rollback_safety(deps, seen.namespace, name, to_revision)
    facts.safety = {
        item.check: SafetyCheck(item.status, item.detail, item.evidence, item.questions) for item in safety.items
    }
    facts.target_revision = safety.target_revision
    if safety.helm_release is not None:
        facts.helm_note = rollback_safety.helm_note(seen.namespace, name, safety.helm_release)
    facts.questions_for_human = list(safety.questions_for_human)
    return facts


def oom_container(pods: list[dict[str, Any]]) -> str | None:
    """The container most often OOMKilled last in these pods: the one whose limit to raise (often a sidecar)."""
    killed = Counter(
        str(cs.get("name"))
        for pod in pods
        for cs in (pod.get("status") or {}).get("containerStatuses") or []
        if "OOMKilled" in (((cs.get("lastState") or {}).get("terminated") or {}).get("reason"),
                           ((cs.get("state") or {}).get("terminated") or {}).get("reason"))
    )  # fmt: skip
    return killed.most_common(1)[0][0] if killed else None


def keeps_earlier_revision(seen: Observation, deploy: dict[str, Any]) -> bool:
    """Whether a rollback has somewhere to go (an older ReplicaSet is kept), so a ROLLBACK walk can be suggested."""
    current = revision_of(deploy) or 0
    return any((revision_of(rs) or current) < current for rs in seen.replicasets if owned_by(rs, deploy))


def hpa_wanted(hpa: dict[str, Any]) -> int | None:
    """Replicas the HPA's own formula asks for (ceil(current * utilization / target)), before its max cuts it."""
    spec, status = hpa.get("spec") or {}, hpa.get("status") or {}
    current = {str((m.get("resource") or {}).get("name")): (m.get("resource") or {}).get("current") or {}
               for m in status.get("currentMetrics") or [] if m.get("type") == "Resource"}  # fmt: skip
    ratios = []
    for metric in spec.get("metrics") or []:
        resource = metric.get("resource") or {}
        goal = (resource.get("target") or {}).get("averageUtilization")
        now = current.get(str(resource.get("name")), {}).get("averageUtilization")
        if metric.get("type") == "Resource" and goal and now is not None:
            ratios.append(float(now) / float(goal))
    replicas = int(status.get("currentReplicas") or 0)
    return math.ceil(replicas * max(ratios)) if ratios and replicas else None


def scale_facts(kube: Kube, seen: Observation, name: str) -> ScaleFacts:
    deploy = seen.deployment(name)
    assert deploy is not None
    pods = [p for p in seen.pods_of(name) if not backends.terminating(p)]
    names = {backends.name_of(p) for p in pods}
    hpa = managing_hpa(seen.hpas, name)
    spec = template_spec(deploy)
    containers = spec.get("containers") or [{}]
    killed = oom_container(pods)
    container = next((c for c in containers if c.get("name") == killed), containers[0])
    limit = ((container.get("resources") or {}).get("limits") or {}).get("memory")
    minutes, _ = minutes_since_rollout(seen, deploy)
    facts = ScaleFacts(
        deployment=name,
        replicas=current_replicas(deploy),
        metrics_available=seen.metrics_available,
        load_evidence=[
            f"{u.name} uses cpu {u.cpu} of limit {u.cpu_limit}, memory {u.memory} of limit {u.memory_limit}"
            for u in seen.usage
            if u.name in names
            and max(u.cpu_percent_of_limit or 0, u.memory_percent_of_limit or 0) >= NEAR_LIMIT_PERCENT
        ][:MAX_LISTED],
        oom_pods=sorted(backends.name_of(p) for p in pods if backends.oom_killed(p))[:MAX_LISTED],
        broken_pods=sorted(f"{backends.name_of(p)} ({why})" for p in pods if (why := backends.broken(p)))[:MAX_LISTED],
        container=str(container.get("name")) if container.get("name") else None,
        memory_limit=str(limit) if limit else None,
        suggested_memory_limit=memory_text(2 * (parse_quantity(limit) or 0)) if limit else None,
        recently_rolled_out=minutes is not None and minutes <= RECENT_MINUTES and keeps_earlier_revision(seen, deploy),
    )
    if hpa is not None:
        row = hpa_row(hpa)
        low, high = hpa_bounds(hpa)
        facts.hpa = Hpa(backends.name_of(hpa), low, high, row.saturated,
                        f"{row.current_replicas}/{row.max_replicas} replicas, {'; '.join(row.targets)}")  # fmt: skip
        facts.wanted = hpa_wanted(hpa)
    facts.fits, facts.per_pod = room(kube, spec, facts.replicas, proposed_replicas(facts) * STEP_FACTOR)
    return facts


def room(kube: Kube, pod_spec: dict[str, Any], replicas: int, up_to: int) -> tuple[int | None, str]:
    """How many replicas fit now (current plus what the scheduler could place, counting up to `up_to`)."""
    want = capacity.spec_requests(pod_spec)
    try:
        nodes = kube.list("nodes", limit=1000).items
        everywhere = kube.list("pods", None, field_selector="status.phase!=Succeeded,status.phase!=Failed",
                               limit=20000).items  # fmt: skip
    except errors.Forbidden:
        return None, want.text()
    placed, _ = capacity.placeable(nodes, everywhere, pod_spec, max(up_to - replicas, 0))
    return replicas + placed, want.text()


def isolate_facts(seen: Observation, deployment: str | None) -> IsolateFacts:
    poisonings = [p for p in seen.facts.poisonings if deployment is None or p.culprit == deployment]
    if not poisonings:
        others = sorted({p.culprit for p in seen.facts.poisonings})
        named = [f"failing pods name {', '.join(others)}, not {deployment}"] if others else []
        return IsolateFacts(culprit=None, evidence=named)
    found = poisonings[0]
    victims = sorted({p.victim for p in poisonings if p.culprit == found.culprit})
    facts = IsolateFacts(
        culprit=found.culprit,
        victims=victims,
        selector=found.selector,
        culprit_pods=found.culprit_pods,
        evidence=list(dict.fromkeys(found.evidence)),
        service=found.services[0] if found.services else None,
    )
    service = next((s for s in seen.services if backends.name_of(s) == facts.service), None)
    if service is not None and found.selector:
        culprit = labels.parse(found.selector)
        rest = [p for p in seen.pods if not labels.matches(culprit, labels.labels_of(p))]
        facts.service_left = backends.endpoints(backends.service_selector(service), rest)
    return facts
