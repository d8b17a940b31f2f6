"""Every problem of a namespace, worst for users first, each with the action the decision framework picks for it.

The framework (rules.decide) answers "what to do" for one situation; a namespace can hold several at once (a bad
deploy whose old pods still serve beside another service in full outage). Each troubled component is decided on
its own facts, then the problems are ranked by user impact:
  outage         a Service in front of it has no ready endpoint (its users get nothing);
  below_minimum  a deployment (StatefulSet, DaemonSet) has fewer available pods than its rolling update or a
                 disruption budget promises (tools/assess/workload_minimum.py): it serves, short of capacity;
  degraded       some pods fail while the deployment keeps its available minimum;
  at_risk        nothing fails yet (CPU near the limit, an HPA at max, OOM kills that recovered).
A Service with no endpoint made by a change (scaled to zero, a selector matching no pod) is an outage of its own,
before the components that fail because they call it. Ties keep the framework's own rule order. A problem a
mitigation of this incident already acted on goes after the others: verify_recovery follows it, and the next
assessment must lead to the next problem, not back to it. A standing problem (not an outage, its warnings recurring
for more than a day: a batch job crash-looping since last week) goes last: it is not what paged anyone, and the
follow-up of a mitigation that fell short comes before it.

Layer: tools.playbook.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Literal

from pydantic import BaseModel, Field

from incident_response.tools.playbook.cutover import RULE as CUTOVER_RULE
from incident_response.tools.playbook.cutover import Cutover
from incident_response.tools.playbook.dark_services import RULES as DARK_RULES
from incident_response.tools.playbook.dark_services import DarkService
from incident_response.tools.playbook.decision import (
    CONFIG_ERROR_RULE,
    EDIT_AFTER_DEPLOY_RULE,
    EDIT_RULE,
    EVICTED_RULE,
    NO_ROOM,
    OVERSIZED,
    RULED_OUT_RULE,
    SHARED_CONFIG_RULE,
    UNPLACED_RULE,
    Decision,
    Facts,
)
from incident_response.tools.playbook.node_pressure import RULE as PRESSURE_RULE
from incident_response.tools.playbook.node_pressure import PressureProblem
from incident_response.tools.playbook.quota_blocks import RULE as QUOTA_RULE
from incident_response.tools.playbook.rules import decide

STANDING_MINUTES = 24 * 60  # failing for longer than this: a standing problem, not this incident's
Impact = Literal["outage", "below_minimum", "degraded", "at_risk"]
IMPACT_ORDER: tuple[Impact, ...] = ("outage", "below_minimum", "degraded", "at_risk")
RULE_ORDER = (
    "failing node",
    CUTOVER_RULE,
    *DARK_RULES,
    "failing canary",
    QUOTA_RULE,
    "recent deployment with failing pods",
    SHARED_CONFIG_RULE,
    EDIT_AFTER_DEPLOY_RULE,
    RULED_OUT_RULE,
    "one component poisons others",
    "overloaded: HPA at max",
    "overloaded: CPU near limits",
    "out of memory: vertical scaling",
    NO_ROOM,
    OVERSIZED,
    PRESSURE_RULE,
    "unknown cause, recent deploy exists",
    "unknown cause, failing since before the recent deploys",
    "unknown cause, no recent deploy to roll back",
    EDIT_RULE,
    UNPLACED_RULE,
    EVICTED_RULE,
    CONFIG_ERROR_RULE,
    "unknown cause, no recent deploy",
    "unknown cause, a StatefulSet or DaemonSet with no recent rollout",
)


@dataclass
class ComponentImpact:
    """How a component's users are hurt, as observed (assess/impacts.py reads it from Services, pods, deployments)."""

    impact: Impact
    detail: str  # "service search has no ready endpoint (0 of 3 pods ready)"


@dataclass
class Ranked:
    decision: Decision
    components: list[str] = field(default_factory=list)


class Problem(BaseModel):
    rank: int = Field(description="1 is the worst: the one primary_action addresses.")
    impact: Impact = Field(
        description="outage (a Service with no ready endpoint), below_minimum (fewer available replicas than the "
        "rollout allows), degraded (some pods fail, the minimum holds), at_risk (nothing fails yet)."
    )
    components: list[str] = Field(description="The deployments (or apps) with this problem.")
    detail: str = Field(description="What users see of it.")
    action: str = Field(description="The action the decision framework picks for it.")
    rule: str
    target: str | None
    next_tool: str | None
    next_arguments: dict[str, object]
    mitigated: bool = Field(
        description="A confirmed mitigation of this incident already acted on it: verify_recovery follows it."
    )


def troubled(facts: Facts) -> list[str]:
    """Every component with a problem of any kind, in a stable order."""
    found = (
        set(facts.failing)
        | set(facts.unavailable)
        | set(facts.near_limit)
        | set(facts.oom_killed)
        | {scaled(target) for _, target, _ in facts.saturated_hpas}
        | {p.victim for p in facts.poisonings}
        | set(facts.quota_blocked)
    )
    return sorted(found)


def scaled(target: str) -> str:
    """The component an HPA scales: its target without the kind (deployment/web -> web)."""
    return target.split("/", 1)[-1]


def restricted(facts: Facts, component: str, others: set[str]) -> Facts:
    """The facts as if `component` were the namespace's only problem. Deploys of components with a problem of their
    own are left out: each is its own problem with its own action, not an unexplained cause of this one."""
    keep = {component}
    return replace(
        facts,
        failing={k: v for k, v in facts.failing.items() if k in keep},
        unavailable={k: v for k, v in facts.unavailable.items() if k in keep},
        near_limit={k: v for k, v in facts.near_limit.items() if k in keep},
        oom_killed={k: v for k, v in facts.oom_killed.items() if k in keep},
        saturated_hpas=[h for h in facts.saturated_hpas if scaled(h[1]) in keep],
        poisonings=[p for p in facts.poisonings if p.victim in keep],
        quota_blocked={k: v for k, v in facts.quota_blocked.items() if k in keep},
        unschedulable={k: v for k, v in facts.unschedulable.items() if k in keep},
        recent_rollouts=[r for r in facts.recent_rollouts if r.deployment in keep or r.deployment not in others],
        placements=[p if p.component in keep else replace(p, failing=False) for p in facts.placements],
        canaries=[c for c in facts.canaries if c.canary in keep and c.stable not in others],
    )


def key(decision: Decision) -> tuple[str, str, str | None, str | None]:
    return (decision.primary_action, decision.rule, decision.target, decision.next_tool)


def problem_of(
    decision: Decision, impact: Impact, components: list[str], detail: str, mitigated: bool
) -> tuple[Problem, Decision]:
    """A ranked problem (rank set once all are sorted) carrying its decision's action and next call."""
    problem = Problem(
        rank=0,
        impact=impact,
        components=components,
        detail=detail,
        action=decision.primary_action,
        rule=decision.rule,
        target=decision.target,
        next_tool=decision.next_tool,
        next_arguments=dict(decision.next_arguments),
        mitigated=mitigated,
    )
    return problem, decision


def rank_problems(
    facts: Facts,
    impacts: dict[str, ComponentImpact],
    mitigated: frozenset[str] = frozenset(),
    dark: list[DarkService] | None = None,
    pressed: list[PressureProblem] | None = None,
    cutovers: list[Cutover] | None = None,
) -> list[tuple[Problem, Decision]]:
    """The problems, worst first. `impacts`: per component (missing: degraded when it has failing pods or
    unavailable replicas, else at_risk). `mitigated`: components a confirmed mitigation of this incident acted on.
    `dark`: Services with no endpoint made by a change (tools/playbook/dark_services.py), each an outage of its own.
    `pressed`: nodes under memory/disk/PID pressure running the namespace's pods (tools/playbook/node_pressure.py),
    each at risk, unless a decision already targets that node (a failing node). `cutovers`: Ingresses switched in
    the window to a Service with no Ready pod (tools/playbook/cutover.py), each an outage of its own."""
    components = troubled(facts)
    others = set(components)
    whole = decide(facts)  # the namespace-wide decision: its evidence is the richest when it is one of the problems
    merged: dict[tuple[str, str, str | None, str | None], Ranked] = {}
    for component in components:
        decision = decide(restricted(facts, component, others - {component}))
        if decision.primary_action == "NONE":
            continue
        if key(decision) == key(whole):
            decision = whole
        entry = merged.setdefault(key(decision), Ranked(decision))
        entry.components.append(component)
    problems: list[tuple[Problem, Decision]] = []
    for entry in merged.values():
        judged = [impact_of(facts, c, impacts) for c in entry.components]
        worst = min(judged, key=lambda i: IMPACT_ORDER.index(i.impact))
        decision = entry.decision
        problems.append(
            problem_of(decision, worst.impact, entry.components, worst.detail, bool(set(entry.components) & mitigated))
        )
    for service in dark or []:
        decision = service.decision
        affected = service.components or [f"service/{service.service}"]
        problems.append(
            problem_of(decision, "outage", affected, service.detail, bool(set(service.components) & mitigated))
        )
    targeted = {decision.target for _, decision in problems}
    extra: list[tuple[Impact, list[str], str, Decision]]
    extra = [("outage", c.components, c.detail, c.decision) for c in cutovers or []]
    extra += [("at_risk", n.components, n.detail, n.decision) for n in pressed or []]
    for impact, affected, detail, decision in extra:
        if decision.target in targeted:
            continue
        targeted.add(decision.target)
        problems.append(problem_of(decision, impact, affected, detail, bool(set(affected) & mitigated)))
    for problem, _ in problems:
        if standing(facts, problem):
            days = min(facts.failing_for[c] for c in problem.components) // (24 * 60)
            problem.detail += f" (failing for at least {days} day(s): older than this incident)"
    problems.sort(
        key=lambda pair: (
            order(pair[0], facts),
            IMPACT_ORDER.index(pair[0].impact),
            rule_rank(pair[0].rule),
            pair[0].components,
        )
    )
    for index, (problem, _) in enumerate(problems):
        problem.rank = index + 1
    return problems


def rule_rank(rule: str) -> int:
    """The rule's place in the framework's order; a kind's variant ("overloaded: CPU near limits (daemonset)") takes
    its rule's place, not the end."""
    base = rule.split(" (", 1)[0]
    for name in (rule, base):
        if name in RULE_ORDER:
            return RULE_ORDER.index(name)
    return len(RULE_ORDER)


def standing(facts: Facts, problem: Problem) -> bool:
    """Every component of the problem has been failing for more than a day (its warnings recur since), and it is not
    an outage: a standing failure is not what paged anyone now (a Service with no endpoint still outranks)."""
    return problem.impact != "outage" and all(
        facts.failing_for.get(c, 0) >= STANDING_MINUTES for c in problem.components
    )


def order(problem: Problem, facts: Facts) -> int:
    """Problems of the incident first, then those a mitigation already acted on, then standing ones."""
    if problem.mitigated:
        return 1
    return 2 if standing(facts, problem) else 0


def impact_of(facts: Facts, component: str, impacts: dict[str, ComponentImpact]) -> ComponentImpact:
    if component in impacts:
        return impacts[component]
    failing = facts.failing.get(component, [])
    if failing:
        return ComponentImpact("degraded", f"{component}: {len(failing)} pods failing")
    if component in facts.unavailable:
        return ComponentImpact("degraded", f"{component}: {facts.unavailable[component]} replicas unavailable")
    return ComponentImpact("at_risk", f"{component}: nothing failing yet")
