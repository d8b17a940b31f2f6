"""evaluate_decision: walk the playbook's tree for one mitigation (rollback, scale, isolate) with the cluster's facts
filled in, asking the human only what the cluster cannot show. The trees themselves are in tools/playbook/trees.py.

Layer: tools.decide.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import Field

from incident_response.tools.assess import rollback_safety
from incident_response.tools.assess.demand import NodeRoom, demand_for
from incident_response.tools.assess.hpas import hpa_row, hpa_wanted
from incident_response.tools.assess.impacts import mitigated_components
from incident_response.tools.assess.observation import Observation, observe_namespace
from incident_response.tools.assess.own_rollouts import own_templates, without_own_rollouts
from incident_response.tools.assess.ranked_decisions import ranked
from incident_response.tools.assess.ruled_out import with_rulings
from incident_response.tools.core import errors
from incident_response.tools.core.models import ToolResult
from incident_response.tools.decide.declined import declined
from incident_response.tools.decide.remembered import remember, standing
from incident_response.tools.decide.routing import causes_of, reads_of, subject_of, unexplained_of
from incident_response.tools.decide.workload_facts import workload_rollback_facts, workload_target
from incident_response.tools.engine import sizing_reads
from incident_response.tools.engine.claim_modes import one_node_claims
from incident_response.tools.engine.deps import Deps
from incident_response.tools.engine.rollback_answers import rulings
from incident_response.tools.k8s import backends, capacity, labels
from incident_response.tools.k8s.args import Revision
from incident_response.tools.k8s.ingress_allowances import allowance_text, ingress_allowances
from incident_response.tools.k8s.oom_runs import OomRun, last_oom, memory_use
from incident_response.tools.k8s.podstatus import oom_container
from incident_response.tools.k8s.quantity import human_age, memory_text, parse_quantity
from incident_response.tools.k8s.unfinished import only_new_fail, unfinished_rollout
from incident_response.tools.k8s.usage import NEAR_LIMIT_PERCENT
from incident_response.tools.k8s.views import meta
from incident_response.tools.k8s.workloads import (
    current_replicas,
    hpa_bounds,
    images_of,
    managing_hpa,
    owned_by,
    revision_of,
    rollout_time,
    template_claims,
    template_spec,
)
from incident_response.tools.kube.client import Kube
from incident_response.tools.kube.paging import list_all
from incident_response.tools.mitigate.nodes import drain_kind, outside, pod_key
from incident_response.tools.mitigate.scaling import quota_warning
from incident_response.tools.playbook.cutover import RULE as CUTOVER_RULE
from incident_response.tools.playbook.dark_services import RULES as DARK_RULES
from incident_response.tools.playbook.decision import Action, Decision
from incident_response.tools.playbook.investigate import investigation
from incident_response.tools.playbook.node_pressure import RULE as PRESSURE_RULE
from incident_response.tools.playbook.rollout_decisions import could_explain
from incident_response.tools.playbook.suspects import (
    DELETING,
    CanaryPair,
    NodeState,
    find_failing_canary,
    find_node_failure,
    node_problems,
    suspect_nodes,
)
from incident_response.tools.playbook.trees import (
    RECENT_MINUTES,
    Alternative,
    Answers,
    Conclusion,
    Elsewhere,
    TreeStep,
    TreeVerdict,
    Walk,
)
from incident_response.tools.playbook.trees_canary_node import CanaryFacts, NodeFacts, canary_tree, node_tree
from incident_response.tools.playbook.trees_isolate import IsolateFacts, isolate_tree
from incident_response.tools.playbook.trees_rollback import RollbackFacts, SafetyCheck, rollback_tree
from incident_response.tools.playbook.trees_scale import Hpa, ScaleFacts, scale_tree
from incident_response.tools.playbook.trees_workload import workload_rollback_tree

MAX_CAUTIONS = 8
MAX_LISTED = 5


class DecisionEvaluation(ToolResult):
    namespace: str
    action: Action = Field(description="The tree walked: the caller's action, else the one assess_namespace picks.")
    chosen_by: Literal["caller", "assessment"]
    target: str | None = Field(
        description="What the action is about: deployment/NAME, node/NAME, or the culprit's selector."
    )
    steps: list[TreeStep] = Field(description="The tree's questions in order, each with its answer and source.")
    verdict: TreeVerdict
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
HumanOnly = Annotated[bool | None, Field(description="Only the human knows; leave unset until they answered.")]


def evaluate_decision(
    deps: Deps,
    namespace: Annotated[str, Field(description="Namespace of the incident.")],
    action: ActionArg = None,
    deployment: Annotated[
        str | None,
        Field(
            description="Deployment to evaluate (for ISOLATE: the culprit; for ROLLBACK also a StatefulSet or "
            "DaemonSet); default the assessment's."
        ),
    ] = None,
    to_revision: Annotated[
        Revision | None, Field(description="ROLLBACK: the revision to go back to; default the previous one.")
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
    revision_known_good: Annotated[
        bool | None,
        Field(
            description="ROLLBACK: did the revision to go back to work when it ran? (the human's, when the cluster "
            "cannot show it: it ran only briefly)"
        ),
    ] = None,
    node: Annotated[
        str | None, Field(description="ISOLATE: a node to evaluate cordoning and draining; default the assessment's.")
    ] = None,
) -> DecisionEvaluation:
    """Walk the playbook's decision tree for ROLLBACK, SCALE or ISOLATE with this namespace's facts: each question
    answered from the cluster where it can be, the rest left to the human. A failing canary's ROLLBACK is pulling it
    (rollback_canary); a failing node's ISOLATE is cordoning it (cordon_node, then drain_node). Ends in PROCEED (with
    the mitigation tool and arguments to plan it), TRY_INSTEAD, FIX_FIRST, CHECK_OLDER, DO_NOT, or NEEDS_ANSWER (ask
    the human the question, then call again with the answer). Use it after assess_namespace, before planning a
    mitigation."""
    if node is not None and (deployment is not None or action not in (None, "ISOLATE")):
        raise errors.InvalidArgument(
            "node= goes with action=ISOLATE (cordon and drain the node) and without deployment=; to evaluate a "
            "deployment, leave node unset"
        )
    seen = without_own_rollouts(observe_namespace(deps.kube, namespace), own_templates(deps, namespace))
    answered = rulings(deps, namespace)
    seen = with_rulings(seen, answered)
    room = NodeRoom(deps.kube)
    picked, problems = ranked(seen, mitigated_components(deps, seen), room)
    # Asked about one deployment: the framework's decision for its own problem, not the namespace's worst.
    picked = next((d for p, d in problems if deployment in p.components), picked)
    if deployment is not None and seen.deployment(deployment) is None and deployment not in seen.facts.workloads:
        listed = sorted(str(meta(d).name) for d in seen.deployments)
        raise errors.NotFound(
            f"deployment {deployment!r} was not found in namespace {namespace} (deployments there: "
            f"{', '.join(listed[:20]) or 'none'}); check the name with list_pods or assess_namespace",
            code=404,
            reason="NotFound",
            verb="get",
            resource="deployments",
            name=deployment,
        )
    chosen: Action = action or ("ISOLATE" if node is not None else picked.primary_action)
    answers = Answers(
        data_integrity_at_risk=data_integrity_at_risk,
        can_go_offline=can_go_offline,
        migrations_forward_only=migrations_forward_only,
        stateful_changes_uncertain=stateful_changes_uncertain,
        load_related=load_related,
        revision_known_good=revision_known_good,
    )
    subject = subject_of(seen, problems, deployment, action)
    reads = reads_of(seen, problems)
    unexplained = unexplained_of(problems)
    target, walk = walk_tree(
        deps, seen, picked, chosen, subject, to_revision, answers, node, room, reads, unexplained, causes_of(problems)
    )
    assert walk.outcome is not None
    walk.cautions += remember(deps, seen, target, answers, answered)
    # The action this walk leads to: its own on PROCEED, the one it sends to on TRY_INSTEAD.
    leads_to = walk.outcome.alternative or chosen
    denial = declined(deps, namespace, target, leads_to)
    walk.cautions[:0] = denial
    if denial and walk.outcome.verdict == "PROCEED":  # "nothing the human said stops it" would deny the denial
        walk.outcome = walk.outcome.model_copy(
            update={
                "reason": "the human denied this plan earlier (see cautions): ask first; "
                + walk.outcome.reason.replace(" or the human said", "")
            }
        )
    return shaped(namespace, chosen, action is not None, target, walk, walk.outcome, picked, seen.unreadable)


def walk_tree(
    deps: Deps,
    seen: Observation,
    picked: Decision,
    action: Action,
    deployment: str | None,
    to_revision: int | None,
    answers: Answers,
    node: str | None = None,
    room: NodeRoom | None = None,
    reads: dict[str, tuple[str, dict[str, Any]]] | None = None,
    unexplained: frozenset[str] = frozenset(),
    causes: dict[str, str] | None = None,
) -> tuple[str | None, Walk]:
    """(what the action is about, the walk of its tree). `reads`: by component, the call that reads why its pods
    fail; `unexplained`: the components the assessment answers INVESTIGATE for."""
    where = elsewhere(seen)
    where.reads = dict(reads or {})
    where.unexplained = frozenset(unexplained)
    where.causes = dict(causes or {})
    if answers.migrations_forward_only or answers.stateful_changes_uncertain:
        where.ruled_out = frozenset({"ROLLBACK"})  # the human said a rollback is unsafe: no tree leads back to it
    if action == "NONE" or (picked.primary_action == "NONE" and deployment is None and node is None):
        hint = "; name a deployment to walk a tree for it anyway" if action != "NONE" else ""
        if action == "NONE" and deployment is not None:
            hint = f"; pass action=ROLLBACK, SCALE or ISOLATE to walk a tree for deployment {deployment} anyway"
        return None, Walk().end(Conclusion(verdict="NOTHING_TO_DO", reason=picked.reason + hint))
    if action == picked.primary_action and picked.rule in (CUTOVER_RULE, PRESSURE_RULE) and deployment is None:
        # An Ingress cut over to a failing backend, a node under pressure: no deployment's tree fits (a node's tree
        # judges a failing node: this one is Ready); the assessment's step (switch back, cordon) is the walk's end.
        if node is None or f"node/{node}" == picked.target:
            end = Conclusion(
                verdict="PROCEED",
                reason=picked.reason,
                next_tool=picked.next_tool,
                next_arguments=picked.next_arguments,
            )
            return picked.target, Walk().end(end)
    if action == "ISOLATE":
        picked_node = (picked.target or "").removeprefix("node/") if (picked.target or "").startswith("node/") else None
        node = node or (picked_node if deployment is None else None)
        if node is not None:
            facts = node_facts(deps.kube, seen, node, allowed=deps.settings.namespaces, room=room)
            return f"node/{node}", node_tree(facts, where)
        isolate = isolate_facts(seen, deployment)
        if isolate.culprit is not None:
            isolate.admitted_by = admitted_by(deps.kube, seen, isolate.selector)
        if isolate.culprit is None:  # nothing to isolate: the alternatives are about this deployment
            named = deployment or (picked.target or "").removeprefix("deployment/")
            isolate.named = named if seen.deployment(named) is not None else None
        return isolate.selector or None, isolate_tree(isolate, answers, where)
    if action == picked.primary_action and picked.rule in DARK_RULES:
        # A Service left with no endpoint by a change (scaled to zero, a selector matching no pod): the tree of a
        # failing deployment does not fit it; undoing the change is the step (or the read that finds which one).
        end = Conclusion(
            verdict="PROCEED", reason=picked.reason, next_tool=picked.next_tool, next_arguments=picked.next_arguments
        )
        return picked.target, Walk().end(end)
    if action == "INVESTIGATE":
        # No tree: no mitigation fits before the cause is known. Going ahead means the read the assessment names.
        end = Conclusion(
            verdict="PROCEED", reason=picked.reason, next_tool=picked.next_tool, next_arguments=picked.next_arguments
        )
        return picked.target, Walk().end(end)
    if action == "SCALE" and picked.primary_action == "SCALE" and (picked.target or "").startswith("pods of "):
        # Pods no workload owns (a Job's, bare pods): the assessment said what a human does; no tree scales them.
        end = Conclusion(verdict="PROCEED", reason=picked.reason, next_tool=None, next_arguments={})
        return picked.target, Walk().end(end)
    workload = workload_target(picked, seen.facts.workloads, deployment)
    if workload is not None:
        kind, workload_name = workload
        if (
            action == "SCALE"
            and picked.primary_action in ("SCALE", "INVESTIGATE")
            and picked.target == (f"{kind}/{workload_name}")
        ):
            # The assessment already said what fits this kind (tools/playbook/load_decisions.py: cpu_decision,
            # oom_decision; with no tool, the human runs what its reason says), or that nothing does before the cause
            # is known (its next call reads why).
            verdict: TreeVerdict = "PROCEED" if picked.primary_action == "SCALE" else "DO_NOT"
            end = Conclusion(
                verdict=verdict, reason=picked.reason, next_tool=picked.next_tool, next_arguments=picked.next_arguments
            )
            return picked.target, Walk().end(end)
        if action != "ROLLBACK":
            raise errors.InvalidArgument(
                f"{kind} {workload_name}: the {action} tree is for deployments; for a {kind} walk ROLLBACK "
                "(rollback_workload), or restart one stuck pod with delete_pod"
            )
        read = workload_rollback_facts(deps.kube, seen.namespace, kind, workload_name, to_revision, seen.now)
        answers, remembered = standing(answers, seen, f"{kind}/{workload_name}", read.target_revision)
        walked = workload_rollback_tree(read, answers, where)
        walked.cautions += remembered
        return f"{kind}/{workload_name}", walked
    name = deployment or target_deployment(seen, picked, action)
    if name is None:
        pointed = f"points at {picked.target}" if picked.target else "names no one deployment"
        raise errors.InvalidArgument(
            f"no deployment to walk the {action} tree for: the assessment {pointed} ({picked.reason[:120]}); pass "
            "deployment=NAME"
        )
    pair = next((p for p in seen.facts.canaries if p.canary == name), None)
    if action == "ROLLBACK" and pair is not None and to_revision is None:
        # A canary is rolled back by pulling it, not by undoing its revision (a chosen to_revision asks for that).
        return f"deployment/{name}", canary_tree(canary_facts(deps.kube, seen, pair), where)
    if action == "ROLLBACK":
        going = rollback_facts(deps, seen, name, to_revision)
        answers, remembered = standing(answers, seen, f"deployment/{name}", going.target_revision)
        walked = rollback_tree(going, answers, where)
        walked.cautions += remembered
        return f"deployment/{name}", walked
    scaling = scale_facts(deps.kube, seen, name, room)
    scaling.read = where.reads.get(name) or scaling.read
    return f"deployment/{name}", scale_tree(scaling, answers, where)


def shaped(
    namespace: str,
    action: Action,
    by_caller: bool,
    target: str | None,
    walk: Walk,
    outcome: Conclusion,
    picked: Decision,
    unreadable: list[str],
) -> DecisionEvaluation:
    head = f"{action} {target}" if target else action
    verdict = outcome.verdict + (f" {outcome.alternative}" if outcome.alternative else "")
    summary = f"{head}: {verdict} - {outcome.reason.rstrip('.')}"  # a reason ending in a sentence: one full stop
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
    # Deployments only: the trees it may send the walk to (and their deployment= argument) are theirs.
    # A healthy deployment's deploy is a suspect only when it came before the failures began (rules.could_explain).
    facts = seen.facts
    undoable = [
        r
        for r in facts.recent_rollouts
        if r.previous_images
        and r.kind == "deployment"
        and f"deployment/{r.deployment}" not in facts.ruled_out
        and (r.failing_pods or r.unavailable_replicas or could_explain(r, facts))
    ]
    rollouts = sorted(undoable, key=lambda r: (not (r.failing_pods or r.unavailable_replicas), r.minutes_ago))
    # As in the decision rules, a failing canary comes before a rollout to undo: the ROLLBACK tree then pulls it.
    canary = find_failing_canary(facts.canaries, facts.failing, facts.unavailable)
    failed = find_node_failure(facts.placements, facts.nodes)
    return Elsewhere(
        namespace=seen.namespace,
        recent_rollout=canary.canary if canary else rollouts[0].deployment if rollouts else None,
        poisoning=bool(facts.poisonings),
        failing_node=failed.node if failed else None,
        troubled=frozenset(facts.failing) | frozenset(facts.unavailable),
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
    facts = RollbackFacts(
        deployment=name,
        minutes_since_rollout=minutes,
        rollout_evidence=evidence,
        to_revision=to_revision,
        paused=bool((deploy.get("spec") or {}).get("paused")),
    )
    facts.unfinished = stalled_evidence(seen, deploy)
    if (minutes is None or minutes > RECENT_MINUTES) and not facts.unfinished:
        return facts  # the tree stops at its first question: no need for the safety reads
    reads = safety_reads(deps.kube, seen, deploy)
    safety = rollback_safety.safety_of(deps.kube, seen.namespace, reads, to_revision)
    if to_revision is None and rollback_safety.better_target(reads) is not None:
        facts.to_revision = safety.target_revision  # the known-good revision, not kubectl's default: pass it on
    facts.safety = {
        item.check: SafetyCheck(item.status, item.detail, item.evidence, item.questions) for item in safety.items
    }
    facts.target_revision = safety.target_revision
    if safety.helm_release is not None:
        facts.helm_note = rollback_safety.helm_note(
            seen.namespace, name, safety.helm_release, workload=seen.deployment(name)
        )
    facts.questions_for_human = list(safety.questions_for_human)
    return facts


def stalled_evidence(seen: Observation, deploy: dict[str, Any]) -> list[str]:
    """Why the deployment's rollout is the current change whatever its age: it has not finished and only its new pods
    fail while an earlier revision's serve (as assess_namespace's rule reads it); empty when it is not so."""
    name = backends.name_of(deploy)
    rollout = unfinished_rollout(deploy, [rs for rs in seen.replicasets if owned_by(rs, deploy)])
    if rollout is None or not only_new_fail(rollout, seen.facts.failing.get(name, [])):
        return []
    return [
        f"revision {rollout.revision} of {name} has {rollout.ready} of {rollout.replicas} pods Ready and its new pods "
        f"fail, while {rollout.serving_ready} pods of revision {rollout.serving_revision} "
        f"({', '.join(rollout.serving_images)}) serve: its rollout has not finished"
    ]


def safety_reads(kube: Kube, seen: Observation, deploy: dict[str, Any]) -> rollback_safety.Observed:
    """check_rollback_safety's reads, reusing the namespace read's deployment, ReplicaSets and pods (read afresh only
    when that read left pods out)."""
    if seen.fetched.truncated:
        return rollback_safety.observe_rollback(kube, seen.namespace, backends.name_of(deploy))
    selector = labels.from_spec((deploy.get("spec") or {}).get("selector"))
    pods = [pod for pod in seen.pods if labels.matches(selector, labels.labels_of(pod))]
    return rollback_safety.observed_with(kube, seen.namespace, deploy, seen.replicasets, pods)


def keeps_earlier_revision(seen: Observation, deploy: dict[str, Any]) -> bool:
    """Whether a rollback has somewhere to go (an older ReplicaSet is kept), so a ROLLBACK walk can be suggested."""
    current = revision_of(deploy) or 0
    return any((revision_of(rs) or current) < current for rs in seen.replicasets if owned_by(rs, deploy))


def oom_runs_of(seen: Observation, pods: list[dict[str, Any]]) -> list[OomRun]:
    """The last killed run of each OOMKilled pod, with its memory now."""
    use = {u.name: memory_use(u) for u in seen.usage}
    return sorted(
        (run for p in pods if (run := last_oom(p, seen.now, use.get(backends.name_of(p), "")))), key=lambda r: r.pod
    )


def scale_facts(kube: Kube, seen: Observation, name: str, room: NodeRoom | None = None) -> ScaleFacts:
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
        oom_runs=oom_runs_of(seen, pods),
        broken_pods=sorted(f"{backends.name_of(p)} ({why})" for p in pods if (why := backends.broken(p)))[:MAX_LISTED],
        container=str(container.get("name")) if container.get("name") else None,
        memory_limit=str(limit) if limit else None,
        suggested_memory_limit=memory_text(2 * (parse_quantity(limit) or 0)) if limit else None,
        # Somewhere for the ROLLBACK tree to go: an earlier revision, or (a canary) pulling it.
        unfinished=(stalled := stalled_evidence(seen, deploy)),
        recently_rolled_out=(minutes is not None and minutes <= RECENT_MINUTES or bool(stalled))
        and (keeps_earlier_revision(seen, deploy) or any(p.canary == name for p in seen.facts.canaries))
        and f"deployment/{name}" not in seen.facts.ruled_out,
        claims=one_node_claims(kube, seen.namespace, template_claims(deploy)),
        saturated_stores=sorted(c for c in seen.facts.near_limit if c != name and c in seen.facts.shared_claims),
    )
    if hpa is not None:
        row = hpa_row(hpa)
        low, high = hpa_bounds(hpa)
        facts.hpa = Hpa(
            backends.name_of(hpa),
            low,
            high,
            row.saturated,
            f"{row.current_replicas}/{row.max_replicas} replicas, {'; '.join(row.targets)}",
        )
        facts.wanted = hpa_wanted(hpa)
    tool, arguments, _ = investigation(seen.namespace, seen.facts.placements, name)
    facts.read = (tool, arguments)
    facts.demand = demand_for(seen, name, room or NodeRoom(kube))
    facts.fits, facts.per_pod = facts.demand.fits if facts.demand else None, capacity.spec_requests(spec).text()
    facts.quota_full = quota_full(kube, deploy, pods, max(1, (facts.wanted or 0) - len(pods)))
    return facts


def quota_full(kube: Kube, deploy: dict[str, Any], pods: list[dict[str, Any]], more: int) -> str | None:
    """Why the namespace's quota refuses even one more pod of the deployment (the words scale_deployment's refusal
    uses, the raise it prints sized for `more`: what the HPA's formula asks for), or None."""
    try:
        quota_warning(kube, deploy, more, refuse=True, pods=pods)
    except errors.InvalidArgument as refusal:
        return str(refusal)
    return None


def room(
    kube: Kube, pod_spec: dict[str, Any], placed: int, *, leaving: frozenset[str] = frozenset()
) -> tuple[int | None, str]:
    """How many replicas fit (the `placed` ones plus what node allocatable minus requests holds), once the pods
    named in `leaving` (namespace/name) are gone."""
    want = capacity.spec_requests(pod_spec)
    read = sizing_reads.node_room(kube)
    if read is None:
        return None, want.text()
    nodes, everywhere = read
    free = capacity.rooms(nodes, everywhere, pod_spec, leaving=leaving)
    return placed + sum(capacity.slots(r, want) for r in free), want.text()


def canary_facts(kube: Kube, seen: Observation, pair: CanaryPair) -> CanaryFacts:
    stable = seen.deployment(pair.stable)
    assert stable is not None
    facts = seen.facts
    unavailable = facts.unavailable.get(pair.canary)
    failing = facts.failing.get(pair.canary) or ([f"{unavailable} replicas unavailable"] if unavailable else [])
    found = CanaryFacts(
        app=pair.app,
        canary=pair.canary,
        stable=pair.stable,
        services=pair.services,
        canary_failing=failing[:MAX_LISTED],
        canary_replicas=pair.canary_replicas,
        stable_replicas=pair.stable_replicas,
        stable_ready=pair.stable_ready,
        stable_failing=facts.failing.get(pair.stable, [])[:MAX_LISTED],
    )
    hpa = managing_hpa(seen.hpas, pair.stable)
    if hpa is not None:
        row = hpa_row(hpa)
        low, high = hpa_bounds(hpa)
        found.hpa = Hpa(backends.name_of(hpa), low, high, row.saturated, f"{row.current_replicas}/{high} replicas")
    # rollback_canary scales the canary to zero first: its pods' room is free by the time stable grows.
    leaving = frozenset(f"{seen.namespace}/{backends.name_of(p)}" for p in seen.pods_of(pair.canary))
    found.fits, found.per_pod = room(kube, template_spec(stable), pair.stable_replicas, leaving=leaving)
    return found


def node_facts(
    kube: Kube, seen: Observation, node: str, *, allowed: tuple[str, ...] = (), room: NodeRoom | None = None
) -> NodeFacts:
    facts = seen.facts
    state = facts.nodes.get(node)
    if state is None or not state.read:  # a node the caller names, or one the assessment did not read
        try:
            read = kube.get("nodes", node)
            state = NodeState(node_problems(read), cordoned=bool((read.get("spec") or {}).get("unschedulable")))
        except errors.Forbidden:
            state = state or NodeState(read=False)
        except errors.NotFound:
            raise errors.NotFound(
                f"node {node!r} was not found in this cluster; list_pods shows the node each pod runs on, top_nodes "
                "lists the nodes",
                code=404,
                reason="NotFound",
                verb="get",
                resource="nodes",
                name=node,
            ) from None
    nodes = facts.nodes | {node: state}
    suspects = suspect_nodes(facts.placements, nodes)
    # As the assessment's node rule reads it: pods being deleted on a cordoned node are what a drain left behind.
    here = [
        p for p in facts.placements if p.node == node and p.failing and not (state.cordoned and p.status in DELETING)
    ]
    apps = {p.component for p in here}
    healthy: dict[str, set[str]] = {}
    for place in facts.placements:
        if place.component in apps and place.node and place.node not in suspects and not place.failing:
            healthy.setdefault(place.component, set()).add(place.node)
    found = NodeFacts(
        node=node,
        problems=suspects.get(node, []),
        cordoned=state.cordoned,
        failing_here=[p.text() for p in here],
        fine_elsewhere=[f"{app} on {', '.join(sorted(where)[:3])}" for app, where in sorted(healthy.items())],
        failing_elsewhere=[
            f"{p.text()} on {p.node}"
            for p in facts.placements
            if p.failing and p.node and p.node not in suspects and p.component in apps
        ][:MAX_LISTED],
    )
    found.stuck = {p.pod: facts.evictions_refused[p.pod] for p in here if p.pod in facts.evictions_refused}
    if state.problems:
        found.stuck_members = sorted(
            p.pod
            for p in facts.placements
            if p.node == node and p.status in DELETING and facts.workloads.get(p.component) == "statefulset"
        )
    # The node rule blames the node for the apps that fail nowhere else: one of them is enough to go on with it.
    elsewhere = {p.component for p in facts.placements if p.failing and p.node and p.node not in suspects}
    found.alone = any(app not in elsewhere for app in apps)
    drain_room(kube, found, allowed, room)
    return found


def drain_room(kube: Kube, facts: NodeFacts, allowed: tuple[str, ...] = (), room: NodeRoom | None = None) -> None:
    """What a drain of the node would meet, as plan_drain judges it: pods no controller recreates, and pods whose
    replacement finds no room on another node. Left unknown when these credentials cannot read it. Pods outside
    the allow-list `allowed` are counted, not named."""
    node = facts.node
    try:
        # Every pod on the node (however many it holds), read in pages.
        on_node = list_all(kube, "pods", field_selector=f"spec.nodeName={node}").items
    except errors.Forbidden:
        return
    named = {f"{(p.get('metadata') or {}).get('namespace')}/{backends.name_of(p)}": p for p in on_node}
    kinds = {key: drain_kind(p) for key, p in named.items()}
    movers = {key: p for key, p in named.items() if kinds[key] == "evict" and not backends.terminating(p)}
    try:
        # The sizing's read of every pod when it was made; else the room of the nodes the movers may go to.
        specs = [p.get("spec") or {} for p in movers.values()]
        read = (
            room.get() if room is not None and room.made() else sizing_reads.read_room_for(kube, specs, away_from=node)
        )
    except errors.Forbidden:
        return
    if read is None:
        return
    others = [n for n in read[0] if backends.name_of(n) != node]
    everywhere = read[1]
    hidden = {pod_key(p) for p in outside(on_node, allowed)}

    def shown(keys: list[str]) -> list[str]:
        count = sum(key in hidden for key in keys)
        return [k for k in keys if k not in hidden] + (
            [f"{count} pod(s) outside this server's allow-list"] if count else []
        )

    facts.unmanaged = shown(sorted(key for key, kind in kinds.items() if kind == "unmanaged"))[:MAX_LISTED]
    free: dict[str, list[capacity.Room]] = {}
    no_room = []
    for key, pod in sorted(movers.items()):
        spec = pod.get("spec") or {}
        # Pods alike in where they may go share the free room they consume, as the scheduler would place them.
        shape = json.dumps({k: spec.get(k) for k in ("tolerations", "nodeSelector")}, sort_keys=True)
        rooms = free.setdefault(shape, capacity.rooms(others, everywhere, spec, leaving=frozenset(named)))
        if capacity.place(rooms, capacity.spec_requests(spec), 1) < 1:
            no_room.append(key)
    facts.movers, facts.no_room = len(movers), shown(no_room)[:MAX_LISTED]


def admitted_by(kube: Kube, seen: Observation, selector: str) -> list[str]:
    """The NetworkPolicies admitting ingress to the culprit's pods: a deny-all policy next to them denies nothing they
    admit (isolate_network refuses then). Not readable: nothing known, the planner still checks."""
    if not selector:
        return []
    try:
        policies = list_all(kube, "networkpolicies", seen.namespace).items
    except errors.Forbidden:
        return []
    chosen = labels.parse(selector)
    pods = [p for p in seen.pods if labels.matches(chosen, labels.labels_of(p))]
    return [allowance_text(a) for a in ingress_allowances(policies, pods)]


def isolate_facts(seen: Observation, deployment: str | None) -> IsolateFacts:
    # Named by the deployment whose pods are poisoned (the problem assess_namespace lists it under), the culprit is
    # the one its failures name: the tree is about isolating that one.
    poisonings = [p for p in seen.facts.poisonings if deployment is None or p.culprit == deployment] or [
        p for p in seen.facts.poisonings if p.victim == deployment
    ]
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
