"""The evidence the server already holds for each kind of hypothesis, as (for, against) lines. Pure.

A rollback's hypothesis gets the suspected change of the revision it replaced; a node measure's, the node's
conditions now; an isolation's, the pods it took out and the warnings of other pods that name them (the poisoning
pod); a scale's, the load figures before (the recorded assessment) and now; a rollout in the incident window that no
one acted on, how close it came to the first warning and what speaks against it.

Layer: tools.playbook.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from typing import Any

from incident_response.tools.playbook.decision import CLOCK_SKEW
from incident_response.tools.playbook.handoff_facts import BadRevision, ClusterFacts, creation, reference
from incident_response.tools.playbook.handoff_models import ActionTaken, DeploymentState, Hypothesis
from incident_response.tools.playbook.handoff_rollouts import Rollout, relation
from incident_response.tools.playbook.poisoning import server_named

MAX_NAMED = 5
NAMES_IN_SUMMARY = re.compile(r"\(([a-z0-9][-a-z0-9., ]*)\)")


def change_evidence(bad: BadRevision) -> list[str]:
    if not bad.changes:
        return []
    return [f"revision {bad.revision} changed {'; '.join(bad.changes)} (compared with the revision running now)"]


def node_evidence(node: str, facts: ClusterFacts) -> tuple[list[str], list[str]]:
    """The node's conditions now: against the hypothesis when it reports Ready again."""
    lines = facts.nodes.get(node)
    if not lines:
        return [], []
    text = f"node {node} now: {'; '.join(lines)}"
    return ([], [text]) if any(line.startswith("Ready=True") for line in lines) else ([text], [])


def isolated_pods(plan: dict[str, Any]) -> list[str]:
    """The pods an isolation took out, as its plan recorded them (label removals by pod; a policy in its summary)."""
    names = []
    for change in plan.get("diff") or []:
        path = str(change.get("path") or "")
        if path.startswith("pod/") and ".metadata.labels." in path:
            names.append(path.removeprefix("pod/").partition(".metadata.labels.")[0])
    if names or plan.get("tool") != "isolate_network":
        return names
    # Its summary ends "... with NetworkPolicy NAME (pod-a, pod-b)." ("pod(s)" earlier is no list of names).
    found = NAMES_IN_SUMMARY.findall(str(plan.get("summary") or "").partition("\n")[0])
    return [n.strip() for n in found[-1].split(",") if n.strip() and n.strip() != "none yet"] if found else []


def poison_evidence(pods: Sequence[str], warnings: Sequence[dict[str, Any]]) -> list[str]:
    """'web-1 (x12): Readiness probe failed: ... from pod api-bad-1': warnings of other pods whose errors come from
    the isolated ones."""
    if not pods:
        return []
    lines = [
        f"taken out: {', '.join(pods[:MAX_NAMED])}"
        + (f" and {len(pods) - MAX_NAMED} more" if len(pods) > MAX_NAMED else "")
    ]
    counts: Counter[str] = Counter()
    sample: dict[str, str] = {}
    for event in warnings:
        message = str(event.get("message") or "")
        # Only where the errors come FROM the pod (tools/playbook/poisoning.py): a caller's address names it too.
        sources = set(server_named(message))
        named = next((pod for pod in pods if pod in sources), None)
        involved = str((event.get("involvedObject") or {}).get("name") or "")
        if named is None or involved in pods:
            continue
        counts[named] += int(event.get("count") or 1)
        sample.setdefault(named, f"{involved}: {message}")
    lines += [f"{count} warning(s) of other pods name {pod}, e.g. {sample[pod]}" for pod, count in counts.most_common()]
    return lines


def load_evidence(name: str, facts: ClusterFacts, states: Sequence[DeploymentState]) -> list[str]:
    lines = [f"now: {line}" for line in facts.load.get(name, [])]
    for state in states:
        if state.deployment == name:
            lines += [f"now: {c.detail}" for c in state.checks if c.name == "resources" and c.passed is not None]
    return lines


def rollout_hypothesis(
    rollout: Rollout,
    facts: ClusterFacts,
    fixes: Sequence[tuple[ActionTaken, set[str]]],
    states: Sequence[DeploymentState],
    offline: frozenset[str] = frozenset(),
) -> Hypothesis:
    """A rollout in the incident window no rollback undid: for, its timing; against, what cleared it so far.
    `fixes`: the mitigations that fixed the service, each with the deployments it acted on. `offline`: deployments
    a mitigation scaled to 0 (taking the rollout out of service is no evidence against it)."""
    warning_at, warning = reference(facts, rollout.deployment)
    verb = "rollback to" if rollout.rollback else "rollout of"
    at = rollout.at.strftime("%H:%M:%S UTC")
    what = (
        f"The rollout of {rollout.kind} {rollout.deployment} at {at} ({', '.join(rollout.images)}; {rollout.later})"
        if rollout.renumbered
        else f"The {verb} revision {rollout.revision} of {rollout.kind} {rollout.deployment} at {at} "
        f"({', '.join(rollout.images)})"
    )
    # Its timing supports it only against a warning (without one, 'it came no Warning event ...' said nothing), and
    # only when it came before it: a rollout after the first warning (a restart, a fix tried) did not start it.
    timing = [f"it came {relation(rollout.at, warning_at, warning)}"] if warning_at is not None else []
    late = warning_at is not None and rollout.at > warning_at + CLOCK_SKEW
    support: list[str] = [] if late else timing
    against: list[str] = timing if late else []
    pulled = rollout.deployment in offline
    for action, acted in fixes:
        if pulled and rollout.deployment in acted:
            support.append(f"the service recovered after {action.tool} took {rollout.ref} offline (0 replicas)")
        elif rollout.deployment not in acted:
            against.append(
                f"the service recovered after {action.tool} on {action.target}, which left {rollout.ref} as it was"
            )
        elif action.kind == "scale":
            against.append(
                f"the service recovered after {action.tool} on {action.target} added capacity, without "
                f"rolling {rollout.ref} back"
            )
    if rollout.deployment in facts.available and not pulled:
        against.append(
            f"{rollout.kind} {rollout.deployment} has {facts.available[rollout.deployment]} replicas available now"
        )
    if any(s.deployment == rollout.deployment and s.verdict == "DEGRADED" for s in states):
        against = [a for a in against if not a.startswith(f"{rollout.kind} ")]
    return Hypothesis(
        statement=f"{what} caused the failure",
        source="a rollout in the incident window that no rollback undid",
        evidence_for=support,
        evidence_against=against,
    )


def rollout_question(rollout: Rollout, facts: ClusterFacts) -> str:
    warning_at, warning = reference(facts, rollout.deployment)
    at = rollout.at.strftime("%H:%M:%S UTC")
    what = (
        f"{rollout.ref}'s rollout at {at} ({', '.join(rollout.images)}; {rollout.later})"
        if rollout.renumbered
        else f"{rollout.ref} revision {rollout.revision}, rolled out at {at}"
    )
    when = relation(rollout.at, warning_at, warning)
    if rollout.deployment in facts.failing and creation(rollout):
        return (
            f"Rule out {what}, {when}: it created {rollout.deployment}, so there is nothing earlier to go back to: "
            "what in it fails (its pods' Warning events and logs)?"
        )
    if rollout.deployment in facts.failing and not rollout.renumbered and not rollout.rollback:
        # The failing workload's own rollout: what it changed is the question, not whether something depends on it.
        kind = f", kind={rollout.kind!r}" if rollout.kind != "deployment" else ""
        history = f"rollout_history(deployment={rollout.deployment!r}, revision={rollout.revision}{kind})"
        return f"Rule out {what}, {when}: did it make {rollout.deployment} fail? What it changed: {history}"
    return f"Rule out {what}, {when}: does the failing service depend on it?"


def unexplained(rollouts: Sequence[Rollout], bad: Sequence[BadRevision], skip: set[str]) -> list[Rollout]:
    """Rollouts in the window that are neither a revision a rollback replaced nor of a deployment in `skip`."""
    replaced = {(b.deployment, b.revision) for b in bad}
    return [r for r in rollouts if (r.deployment, r.revision) not in replaced and r.deployment not in skip]


def node_lines(node: dict[str, Any]) -> list[str]:
    """A node's health as the handoff states it: Ready (always) and any pressure condition that is True, with
    reason, message and since when; its taints and whether it is cordoned."""
    lines = []
    for condition in (node.get("status") or {}).get("conditions") or []:
        kind, status = str(condition.get("type")), str(condition.get("status"))
        if kind != "Ready" and status != "True":
            continue
        why = ": ".join(str(condition[k]) for k in ("reason", "message") if condition.get(k))
        since = str(condition.get("lastTransitionTime") or "")
        lines.append(f"{kind}={status}" + (f" ({why})" if why else "") + (f" since {since}" if since else ""))
    taints = sorted({str(t.get("key")) for t in (node.get("spec") or {}).get("taints") or []})
    if taints:
        lines.append(f"taints {', '.join(taints)}")
    if (node.get("spec") or {}).get("unschedulable"):
        lines.append("cordoned")
    return lines
