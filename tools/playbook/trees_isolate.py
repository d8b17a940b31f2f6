"""The playbook's "should I isolate?" tree (its walk: tools/playbook/trees.py): take a poisoning component's pods out
of traffic, unless a NetworkPolicy already keeps them from their callers.

Layer: tools.playbook.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from incident_response.tools.playbook.trees import (
    Answers,
    Conclusion,
    Elsewhere,
    Walk,
    needs,
    try_instead,
)


@dataclass
class IsolateFacts:
    culprit: str | None  # component whose pods the failing ones name; None: no poisoning seen
    victims: list[str] = field(default_factory=list)
    selector: str = ""
    culprit_pods: list[str] = field(default_factory=list)
    evidence: list[str] = field(default_factory=list)
    service: str | None = None  # the Service sending traffic to the culprit's pods
    service_left: list[str] | None = None  # its ready endpoints once the culprit's pods are out
    named: str | None = None  # the deployment the walk is about (the caller's, or the assessment's): where else to go
    # NetworkPolicies admitting ingress to the culprit's pods ("NetworkPolicy X admits ingress to ... from ..."):
    # policies are additive, so a deny-all-ingress policy next to them cuts nothing they admit
    admitted_by: list[str] = field(default_factory=list)


def unless_admitted(isolation: Conclusion, facts: IsolateFacts, namespace: str) -> Conclusion:
    """isolate_network where no NetworkPolicy admits ingress to the culprit's pods; where one does, a deny-all policy
    next to it cuts nothing it admits (isolate_network refuses): taking the pods out of their Service, or editing
    that policy (no tool here does), is what is left."""
    if not facts.admitted_by:
        return isolation
    admits = "; ".join(facts.admitted_by[:3])
    why = (
        f"NetworkPolicies are additive and {admits}: a deny-all-ingress policy next to it cuts nothing it admits, so "
        f"isolate_network cannot isolate the {facts.culprit} pods"
    )
    if facts.service is None:
        return Conclusion(
            verdict="FIX_FIRST",
            reason=f"{why}, and no Service fronts them to take them out of. Have the owner of that policy edit it so "
            "it no longer selects them (kubectl edit networkpolicy), then evaluate again",
        )
    return Conclusion(
        verdict="PROCEED",
        reason=f"{why}: take them out of service {facts.service} instead (traffic reaching them by pod IP keeps "
        "flowing until that policy is edited)",
        next_tool="remove_pods_from_service",
        next_arguments={"namespace": namespace, "service": facts.service, "selector": facts.selector},
    )


def isolate_tree(facts: IsolateFacts, answers: Answers, where: Elsewhere) -> Walk:
    walk = Walk()
    ns = where.namespace
    culprit = facts.culprit
    q = f"Is {culprit or 'one component'} making other services fail?"
    if culprit is None:
        why = "no failing pod names another component's pods as the source of its errors"
        return walk.stop(
            q,
            "no",
            "cluster",
            facts.evidence or [f"Warning events and logs of the failing pods: {why}"],
            try_instead(where, ("ROLLBACK", "SCALE"), facts.named, why),
        )
    walk.go(
        q,
        "yes",
        "cluster",
        [
            f"pods of {', '.join(facts.victims)} fail naming {culprit} pods ({', '.join(facts.culprit_pods[:3])})",
            *facts.evidence,
        ],
    )
    if not facts.selector:
        return walk.end(
            Conclusion(
                verdict="DO_NOT",
                reason=f"the {culprit} pods share no label to select them by: "
                "isolate them by name, by hand, after checking the evidence",
            )
        )
    full = {"namespace": ns, "selector": facts.selector}

    q = "Is data integrity at risk?"
    if answers.data_integrity_at_risk:
        return walk.stop(
            q,
            "yes",
            "caller",
            [],
            unless_admitted(
                Conclusion(
                    verdict="PROCEED",
                    reason=f"data is at risk: isolate the {culprit} pods ({facts.selector}) now with a "
                    "deny-all-ingress policy. It stops traffic into them, not writes they make: if they write bad data "
                    "themselves, also scale their deployment to 0",
                    next_tool="isolate_network",
                    next_arguments=full,
                ),
                facts,
                ns,
            ),
        )
    if answers.data_integrity_at_risk is None:
        walk.go(q, "unknown", "unanswered", [], then="not known to be at risk: next question")
        walk.cautions.append(
            "Nobody said whether data integrity is at risk; if it is, answer "
            "data_integrity_at_risk=true to isolate fully at once."
        )
    else:
        walk.go(q, "no", "caller", [])

    q = f"Can the {culprit} pods be cut off from all traffic safely?"
    served = (
        [f"service {facts.service} keeps {len(facts.service_left)} ready endpoints without them"]
        if facts.service is not None and facts.service_left is not None
        else []
    )
    if answers.can_go_offline is None:
        return walk.stop(
            q,
            "unknown",
            "unanswered",
            served,
            needs(
                f"Can the {culprit} pods ({facts.selector}) go offline entirely (full isolation), or must the service "
                "keep serving from its healthy pods (partial isolation)?",
                "can_go_offline",
                "full or partial isolation depends on whether the service may go offline",
            ),
        )
    if answers.can_go_offline:
        return walk.stop(
            q,
            "yes",
            "caller",
            served,
            unless_admitted(
                Conclusion(
                    verdict="PROCEED",
                    reason=f"full isolation: deny all ingress to the {culprit} pods ({facts.selector})",
                    next_tool="isolate_network",
                    next_arguments=full,
                ),
                facts,
                ns,
            ),
        )
    if facts.service is None:
        return walk.stop(
            q,
            "no",
            "caller",
            ["no Service sends traffic to them"],
            unless_admitted(
                Conclusion(
                    verdict="PROCEED",
                    reason=f"no Service fronts the {culprit} pods, so there is no load balancer to take them out of: a "
                    "deny-all-ingress policy on them alone is the partial isolation",
                    next_tool="isolate_network",
                    next_arguments=full,
                ),
                facts,
                ns,
            ),
        )
    if facts.service_left == []:
        return walk.stop(
            q,
            "no",
            "caller",
            [f"the {culprit} pods are every ready endpoint of service {facts.service}"],
            Conclusion(
                verdict="DO_NOT",
                reason=f"taking the {culprit} pods out of service {facts.service} leaves it with no ready endpoints, "
                "which the human said is not safe: restore healthy capacity first (ROLLBACK or SCALE)",
            ),
        )
    return walk.stop(
        q,
        "no",
        "caller",
        served,
        Conclusion(
            verdict="PROCEED",
            reason=f"partial isolation: take the {culprit} pods ({facts.selector}) out of service {facts.service}; "
            "they keep running for debugging",
            next_tool="remove_pods_from_service",
            next_arguments={"namespace": ns, "service": facts.service, "selector": facts.selector},
        ),
    )
