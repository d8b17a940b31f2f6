"""evaluate_decision: walk the playbook's tree for one mitigation (rollback, scale, isolate) with the cluster's facts
filled in, asking the human only what the cluster cannot show. The trees themselves are in tools/playbook/trees*.py;
which tree a call walks, with which facts read, is tools/decide/tree_walks.py (the reads: *_reads.py beside it).

Layer: tools.decide.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from incident_response.tools.assess.demand import NodeRoom
from incident_response.tools.assess.impacts import mitigated_components
from incident_response.tools.assess.observation import observe_namespace
from incident_response.tools.assess.own_rollouts import own_templates, without_own_rollouts
from incident_response.tools.assess.ranked_decisions import ranked
from incident_response.tools.assess.ruled_out import with_rulings
from incident_response.tools.core import errors
from incident_response.tools.core.models import ToolResult
from incident_response.tools.decide.declined import declined
from incident_response.tools.decide.remembered import remember
from incident_response.tools.decide.routing import causes_of, reads_of, subject_of, unexplained_of
from incident_response.tools.decide.tree_walks import walk_tree
from incident_response.tools.engine.deps import Deps
from incident_response.tools.engine.rollback_answers import rulings
from incident_response.tools.k8s.args import Revision
from incident_response.tools.k8s.views import meta
from incident_response.tools.playbook.decision import Action, Decision
from incident_response.tools.playbook.trees import (
    Alternative,
    Answers,
    Conclusion,
    TreeStep,
    TreeVerdict,
    Walk,
)

MAX_CAUTIONS = 8


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
    seen = without_own_rollouts(
        observe_namespace(deps.kube, namespace, deps.settings.namespaces), own_templates(deps, namespace)
    )
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
