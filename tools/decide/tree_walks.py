"""Which of the playbook's trees an evaluate_decision call walks, about what, and with which facts read: the
assessment's pick or the caller's action, a deployment's, a StatefulSet's or DaemonSet's, a canary's, a node's,
a culprit's; and where else the walk may send the caller (Elsewhere).

Layer: tools.decide.
"""

from __future__ import annotations

from typing import Any

from incident_response.tools.assess.demand import NodeRoom
from incident_response.tools.assess.observation import Observation
from incident_response.tools.core import errors
from incident_response.tools.decide.canary_node_reads import canary_facts, node_facts
from incident_response.tools.decide.isolate_reads import admitted_by, isolate_facts
from incident_response.tools.decide.remembered import standing
from incident_response.tools.decide.rollback_reads import rollback_facts
from incident_response.tools.decide.scale_reads import scale_facts
from incident_response.tools.decide.workload_facts import workload_rollback_facts, workload_target
from incident_response.tools.engine.deps import Deps
from incident_response.tools.k8s import backends
from incident_response.tools.playbook.cutover import RULE as CUTOVER_RULE
from incident_response.tools.playbook.dark_services import RULES as DARK_RULES
from incident_response.tools.playbook.decision import Action, Decision
from incident_response.tools.playbook.node_pressure import RULE as PRESSURE_RULE
from incident_response.tools.playbook.rollout_decisions import could_explain
from incident_response.tools.playbook.suspects import (
    find_failing_canary,
    find_node_failure,
)
from incident_response.tools.playbook.trees import (
    Answers,
    Conclusion,
    Elsewhere,
    TreeVerdict,
    Walk,
)
from incident_response.tools.playbook.trees_canary_node import canary_tree, node_tree
from incident_response.tools.playbook.trees_isolate import isolate_tree
from incident_response.tools.playbook.trees_rollback import rollback_tree
from incident_response.tools.playbook.trees_scale import scale_tree
from incident_response.tools.playbook.trees_workload import workload_rollback_tree


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
    # A healthy deployment's deploy is a suspect only when it came before the failures began
    # (rollout_decisions.could_explain).
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
