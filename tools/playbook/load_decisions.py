"""SCALE decisions on load (rule 5): an HPA pinned at its maximum, CPU at the limit, OOMKilled containers; worded
per workload kind, and a ROLLBACK first when the saturation began with a recent deploy.

Layer: tools.playbook.
"""

from __future__ import annotations

from incident_response.tools.k8s.hpa_changes import edited
from incident_response.tools.k8s.oom_runs import shape
from incident_response.tools.playbook.decision import (
    Decision,
    Facts,
    age_text,
    on_deployment,
    roll_back,
    ruled,
)
from incident_response.tools.playbook.upstream_blame import fresh_elsewhere

# StatefulSets and DaemonSets: replicas of a StatefulSet are members with their own data, a DaemonSet has none.


def cpu_decision(kind: str, namespace: str, name: str, lines: list[str]) -> Decision:
    """CPU at the limit: what a human can safely do, since no tool here scales these kinds."""
    if kind == "daemonset":
        reason = (
            f"{len(lines)} pods of daemonset {name} run at or near their CPU limit. A DaemonSet runs one pod per node: "
            "more replicas are not a thing it has. Raise its CPU limit (kubectl set resources daemonset/"
            f"{name} -c CONTAINER --limits=cpu=...; it then replaces its pods node by node), or spread the load over "
            "more nodes; no tool here plans either"
        )
    else:
        reason = (
            f"{len(lines)} pods of statefulset {name} run at or near their CPU limit. Scaling a StatefulSet adds "
            f"members ({name}-N, each with new empty claims from its volumeClaimTemplates): that adds capacity only "
            "when the app spreads load over its members (read replicas behind the Service), not for a single "
            "primary, and a clustered store may need its data rebalanced. Ask the service's owners; if they agree, "
            f"kubectl scale statefulset/{name} --replicas=N, else raise its CPU limit (kubectl set resources). No "
            "tool here plans either"
        )
    return Decision(
        primary_action="SCALE",
        rule=f"overloaded: CPU near limits ({kind})",
        target=f"{kind}/{name}",
        reason=reason,
        evidence=lines[:5],
        next_tool=None,
        next_arguments={},
    )


def changed_elsewhere(facts: Facts, component: str) -> list[str]:
    """'api (revision 3, 2 min ago: api:3.4.0)': other deployments of the namespace rolled out in the last 2 hours
    (not a rollback in progress, not ruled out), when `component` itself was not: a slower dependency looks like
    load on its callers (requests wait, retries add CPU), and more callers hit it harder (review-assist8 I2)."""
    return [
        f"{r.deployment} (revision {r.revision}, {age_text(r.minutes_ago)} ago: {', '.join(r.images)})"
        for r in fresh_elsewhere(facts, component)
    ][:2]


def upstream_first(facts: Facts, caller: str, saturated: str, more: str, evidence: list[str]) -> Decision | None:
    """ROLLBACK of another deployment's fresh rollout when the saturated caller's own log names its Service as the
    upstream of errors (rule 4 with Ready callers): the caller waits on a slower dependency, and scaling it up would
    hit that dependency harder. None when its logs name none (the SCALE then only cautions: dependency_caveat)."""
    rollout = next(
        (r for r in fresh_elsewhere(facts, caller) if r.deployment in facts.upstream_errors and r.previous_images),
        None,
    )
    if rollout is None:
        return None
    dep, line = rollout.deployment, facts.upstream_errors[rollout.deployment]
    return roll_back(
        rollout,
        "slow dependency: the callers' errors name its recent deploy",
        facts.namespace,
        f"{caller}'s log names {dep}'s Service as the upstream of its errors ({line}), and deployment {dep} rolled "
        f"out revision {rollout.revision} {age_text(rollout.minutes_ago)} ago ({', '.join(rollout.images)}; before: "
        f"{', '.join(rollout.previous_images)}) while {caller} did not: {saturated} waiting on a slower {dep}. "
        f"Scaling {caller} up is the wrong move: more {caller} pods would hit a slow {dep} harder. Roll {dep} back "
        f"first; if {caller} stays saturated after, it is load: then {more}",
        [f"{line}", f"{dep} revision {rollout.revision} rolled out {age_text(rollout.minutes_ago)} ago", *evidence[:3]],
        facts.rollback_targets.get(f"deployment/{dep}"),
    )


def hpa_edit_caveat(facts: Facts, hpa: str) -> str:
    """The HPA itself edited by someone in the window (bounds lowered to cut cost, say): the change to put back."""
    change = edited(facts.changes, hpa)
    if change is None or facts.now is None:
        return ""
    if " scaled down " not in change.what:
        return f"; {change.text(facts.now)}"  # nothing shrank after the edit: noted, not blamed
    return f"; {change.text(facts.now)}: putting its bounds back is the fix (override_hpa sets them)"


def dependency_caveat(facts: Facts, component: str) -> str:
    if not (others := changed_elsewhere(facts, component)):
        return ""
    return (
        f"; but {' and '.join(others)} rolled out while {component} did not: if {component} calls it, a slower "
        f"dependency looks like load here and more {component} replicas hit it harder: read {component}'s logs "
        "(get_logs) for timeouts or errors from it first, and roll it back if they name it"
    )


def store_caveat(facts: Facts, component: str) -> str:
    """A deployment that mounts a volume (a database, a queue) and runs at its CPU limit too: more replicas of
    `component` may only add load to it (no dependency graph here: said as a question)."""
    stores = sorted(c for c in facts.near_limit if c != component and c in facts.shared_claims)
    if not stores:
        return ""
    return (
        f"; but {', '.join(stores)} (its pods mount a volume: a database or queue) runs at its CPU limit too: if "
        f"{component} calls it, more {component} replicas add load to it; check {component}'s logs for timeouts to it "
        "first"
    )


def scaled_name(target: str) -> str:
    return target.split("/", 1)[-1]


def shared_volume_decision(name: str, claims: list[str], lines: list[str]) -> Decision:
    """CPU at the limit in a deployment whose pods mount a claim: more replicas would share one volume."""
    return Decision(
        primary_action="SCALE",
        rule="overloaded: CPU near limits (shared volume)",
        target=f"deployment/{name}",
        reason=f"{len(lines)} pods of deployment {name} run at or near their CPU limit, and its pods mount "
        f"{shared(claims)}: every replica would share that volume (a ReadWriteOnce claim attaches to one node; a "
        "second copy of a database on one data directory is refused or corrupts it). Raise its CPU limit (kubectl "
        f"set resources deployment/{name} --limits=cpu=...), or lower the load on it; no tool here plans either",
        evidence=lines[:5] + [f"deployment {name} mounts {shared(claims)}"],
        next_tool=None,
        next_arguments={},
    )


def shared(claims: list[str]) -> str:
    return ("PVC " if len(claims) == 1 else "PVCs ") + ", ".join(claims)


def oom_decision(kind: str, namespace: str, name: str, pods: list[str], facts: Facts) -> Decision:
    """OOMKilled: set_memory_limit with the kind."""
    return Decision(
        primary_action="SCALE",
        rule="out of memory: vertical scaling",
        target=f"{kind}/{name}",
        reason=oom_reason(f"{kind} {name}", name, pods, facts)
        + f" (set_memory_limit with kind={kind}"
        + (
            "; an ordered StatefulSet's plan also deletes the pods that never got Ready)"
            if kind == "statefulset"
            else ")"
        ),
        evidence=oom_evidence(pods, facts),
        next_tool="set_memory_limit",
        next_arguments={"namespace": namespace, "deployment": name, "kind": kind},
    )


def oom_reason(what: str, name: str, pods: list[str], facts: Facts) -> str:
    """'3 pods of X were OOMKilled' and what their killed runs say: a leak, a load peak, either,
    or a limit below the working set."""
    return f"{len(pods)} pods of {what} were OOMKilled" + shape(
        name, [facts.oom_runs[p] for p in pods if p in facts.oom_runs], facts.memory_samples.get(name, [])
    )


def oom_evidence(pods: list[str], facts: Facts) -> list[str]:
    """Per pod, when it was killed, how long that run lasted and its memory now."""
    return [facts.oom_runs[p].text() if p in facts.oom_runs else f"{p} last terminated OOMKilled" for p in pods[:5]]


def regression_first(facts: Facts, deployment: str, saturated: str, evidence: list[str]) -> Decision | None:
    """ROLLBACK of a deployment saturated since its rollout of the last 2 hours (review-assist7 H3): a release that
    costs more CPU per request looks like more load, to the HPA too, and more replicas would run more of it; the
    rollback tells the two apart. None when it has no such rollout to undo (or the human ruled it out)."""
    rollout = next(
        (
            r
            for r in sorted(facts.recent_rollouts, key=lambda r: r.minutes_ago)
            if r.kind == "deployment"
            and r.deployment == deployment
            and r.previous_images
            and not r.rolling_back
            and not ruled(facts, r)
        ),
        None,
    )
    if rollout is None:
        return None
    more = "raise the HPA (override_hpa)" if saturated.startswith("HPA") else "add replicas (scale_deployment)"
    when = f"revision {rollout.revision} {age_text(rollout.minutes_ago)} ago ({', '.join(rollout.images)}"
    why = (
        "a release that needs more CPU per request looks like more load, and more replicas would run more of it. Roll "
        f"back first; if CPU stays at the limit on the earlier revision, it is load: then {more}"
    )
    return roll_back(
        rollout,
        "saturated since a recent deploy",
        facts.namespace,
        f"{saturated}, and deployment {deployment} rolled out {when}; before: {', '.join(rollout.previous_images)}): "
        + why,
        [f"revision {rollout.revision} rolled out {age_text(rollout.minutes_ago)} ago", *evidence[:4]],
        facts.rollback_targets.get(f"deployment/{deployment}"),
    )


def load_decision(facts: Facts) -> Decision | None:
    """Rule 5: an HPA at its maximum, then CPU near the limit, then OOMKilled containers; None when none shows."""
    ns = facts.namespace
    if facts.saturated_hpas:
        hpa, deployment, detail = facts.saturated_hpas[0]
        evidence = [f"hpa {hpa} ({deployment}): {detail}"] + [
            line for lines in facts.near_limit.values() for line in lines
        ]
        first = regression_first(facts, scaled_name(deployment), f"HPA {hpa} is at its maximum", evidence[:5])
        first = first or upstream_first(
            facts, scaled_name(deployment), f"HPA {hpa} is at its maximum", "raise the HPA (override_hpa)", evidence
        )
        if first is not None:
            return first
        return Decision(
            primary_action="SCALE",
            rule="overloaded: HPA at max",
            target=f"hpa/{hpa}",
            reason=f"HPA {hpa} is pinned at its maximum with metrics above target: it cannot add capacity alone"
            + hpa_edit_caveat(facts, hpa)
            + store_caveat(facts, scaled_name(deployment))
            + dependency_caveat(facts, scaled_name(deployment)),
            evidence=[f"hpa {hpa} ({deployment}): {detail}"]
            + [line for lines in facts.near_limit.values() for line in lines][:5],
            next_tool="override_hpa",
            next_arguments={"namespace": ns, "hpa": hpa},
        )
    if facts.near_limit:
        component, lines = max(facts.near_limit.items(), key=lambda item: len(item[1]))
        if (kind := facts.workloads.get(component)) is not None:
            return cpu_decision(kind, ns, component, lines)
        if claims := facts.shared_claims.get(component):
            return shared_volume_decision(component, claims, lines)
        first = regression_first(
            facts, component, f"{len(lines)} pods of {component} run at their CPU limit", lines[:5]
        ) or upstream_first(
            facts,
            component,
            f"{len(lines)} pods of {component} run at their CPU limit",
            "add replicas (scale_deployment)",
            lines,
        )
        if first is not None:
            return first
        return on_deployment(
            "SCALE",
            "overloaded: CPU near limits",
            ns,
            component,
            "scale_deployment",
            f"{len(lines)} pods of {component} run at or near their CPU limit: add replicas to absorb the load"
            + store_caveat(facts, component)
            + dependency_caveat(facts, component),
            lines[:5],
        )
    if facts.oom_killed:
        component, pods = max(facts.oom_killed.items(), key=lambda item: len(item[1]))
        if (kind := facts.workloads.get(component)) is not None:
            return oom_decision(kind, ns, component, pods, facts)
        if facts.deployments is not None and component not in facts.deployments:
            return Decision(
                primary_action="SCALE",
                rule="out of memory: vertical scaling (pods of no workload)",
                target=f"pods of {component}",
                reason=f"{len(pods)} pods of {component} were OOMKilled, and no Deployment, StatefulSet or DaemonSet "
                "owns them (a Job's or bare pods): raise the memory limit in what creates them (a Job's pod template "
                "cannot change: recreate the Job, or edit its CronJob's jobTemplate); no tool here plans it",
                evidence=oom_evidence(pods, facts),
                next_tool=None,
                next_arguments={},
            )
        return on_deployment(
            "SCALE",
            "out of memory: vertical scaling",
            ns,
            component,
            "set_memory_limit",
            oom_reason(component, component, pods, facts),
            oom_evidence(pods, facts),
        )
    return None
