"""The facts the ISOLATE tree walks: the culprit a poisoning names, its pods and Service, what is left serving once
they are out, and the NetworkPolicies that already admit ingress to them.

Layer: tools.decide.
"""

from __future__ import annotations

from incident_response.tools.assess.observation import Observation
from incident_response.tools.core import errors
from incident_response.tools.k8s import backends, labels
from incident_response.tools.k8s.ingress_allowances import allowance_text, ingress_allowances
from incident_response.tools.kube.client import Kube
from incident_response.tools.kube.paging import list_all
from incident_response.tools.playbook.trees_isolate import IsolateFacts


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
