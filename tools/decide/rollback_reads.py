"""The facts the ROLLBACK tree walks for a Deployment: when its revision rolled out, a stalled rollout, whether an
earlier revision is kept, and check_rollback_safety's reads for the revision to go back to.

Layer: tools.decide.
"""

from __future__ import annotations

from typing import Any

from incident_response.tools.assess import rollback_safety
from incident_response.tools.assess.observation import Observation
from incident_response.tools.engine.deps import Deps
from incident_response.tools.k8s import backends, labels
from incident_response.tools.k8s.quantity import human_age
from incident_response.tools.k8s.unfinished import only_new_fail, unfinished_rollout
from incident_response.tools.k8s.workloads import (
    images_of,
    owned_by,
    revision_of,
    rollout_time,
)
from incident_response.tools.kube.client import Kube
from incident_response.tools.playbook.trees import (
    RECENT_MINUTES,
)
from incident_response.tools.playbook.trees_rollback import RollbackFacts, SafetyCheck


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
