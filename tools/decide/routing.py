"""Which tree evaluate_decision walks, and for what, so that it ends where assess_namespace points.

Two ways the walk used to part from the assessment for the same facts:
- named by a component whose problem's decision acts on another deployment (its crash loop is blamed on a deploy of
  another service: roll that one back), the walk went to the component's own rollback, which has nowhere to go;
- a deployment whose pods fail on their own (crash loop, image pull, config error) was offered SCALE as the
  alternative to try, whose tree then stops at the failing pods: more replicas of them fail the same way; and one
  the assessment found nothing to explain (INVESTIGATE) was offered another deployment's rollback.

Layer: tools.decide.
"""

from __future__ import annotations

from typing import Any

from incident_response.tools.assess.observation import Observation
from incident_response.tools.k8s.backends import BROKEN
from incident_response.tools.playbook import config_edit
from incident_response.tools.playbook.decision import Action, Decision
from incident_response.tools.playbook.investigate import investigation
from incident_response.tools.playbook.investigate_decisions import cause_named
from incident_response.tools.playbook.ranking import Problem

Read = tuple[str, dict[str, Any]]


def reads_of(seen: Observation, problems: list[tuple[Problem, Decision]]) -> dict[str, Read]:
    """Per component, the read that finds why its pods fail, where no SCALE fits them: the assessment's INVESTIGATE
    problems (their own call), and deployments with pods failing on their own that are not out of memory."""
    facts = seen.facts
    found: dict[str, Read] = {}
    for place in facts.placements:
        component = place.component
        if place.failing and place.status in BROKEN and component not in facts.oom_killed and component not in found:
            tool, arguments, _ = investigation(seen.namespace, facts.placements, component)
            found[component] = (tool, arguments)
    for problem, decision in problems:
        if decision.primary_action == "INVESTIGATE" and decision.next_tool:
            found.update((c, (decision.next_tool, dict(decision.next_arguments))) for c in problem.components)
    return found


def causes_of(problems: list[tuple[Problem, Decision]]) -> dict[str, str]:
    """The cause each INVESTIGATE names for its components: its rule ('pods fail on config a rollback does not
    restore'), or where the rule is an unknown cause's that then found it (a kubelet's message), its reason's word."""
    named = [(p, d) for p, d in problems if cause_named(d.primary_action, d.rule, d.reason)]
    return {
        c: config_edit.said_in(d.reason)
        or ("the cause its reason names" if d.rule.startswith("unknown cause") else d.rule)
        for p, d in named
        for c in p.components
    }


def unexplained_of(problems: list[tuple[Problem, Decision]]) -> frozenset[str]:
    """The components the assessment found nothing to explain (INVESTIGATE): no tree suggests an alternative for
    them (a rollback of another deploy, a scale), only the read."""
    return frozenset(c for p, d in problems if d.primary_action == "INVESTIGATE" for c in p.components)


def subject_of(
    seen: Observation,
    problems: list[tuple[Problem, Decision]],
    deployment: str | None,
    action: Action | None,
) -> str | None:
    """The deployment to walk the tree for: the named one, unless no action was asked and its own problem's decision
    acts on another deployment (a rollback of the deploy blamed for it): that one, as assess_namespace says. A named
    deployment with no problem of its own is walked as named."""
    picked = next((d for p, d in problems if deployment in p.components), None)
    target = (picked.target if picked is not None else None) or ""
    if deployment is None or action is not None or not target.startswith("deployment/"):
        return deployment
    other = target.removeprefix("deployment/")
    return other if seen.deployment(other) is not None else deployment
