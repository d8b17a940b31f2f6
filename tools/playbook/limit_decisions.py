"""A Deployment whose pod creates a LimitRange refuses (tools/k8s/limit_refusals.py): the cause is the container's
resources against the namespace's bounds, not load or the pods' code. After a rollout that changed them, rolling back
to the revision that fit is the fix; otherwise a human changes the manifest's resources (or the LimitRange): no tool
here changes either, and more replicas would be refused the same way.

Layer: tools.playbook.
"""

from __future__ import annotations

from incident_response.tools.playbook.decision import Decision, Facts, roll_back

RULE = "a LimitRange refuses its pods"


def limit_refused(facts: Facts) -> Decision | None:
    """The first deployment (by name) a LimitRange keeps short of pods that have no failing pod of their own."""
    rolled = {r.deployment for r in facts.recent_rollouts}
    blocked = sorted(
        (name, why)
        for name, why in facts.limit_refused.items()
        if name not in facts.failing and (name in facts.unavailable or name in rolled)
    )
    if not blocked:
        return None
    name, why = blocked[0]
    ns = facts.namespace
    evidence = [f"deployment {name}'s ReplicaSet cannot create pods: {why}"]
    rollout = next((r for r in facts.recent_rollouts if r.deployment == name and r.previous_images), None)
    if rollout is not None:
        return roll_back(
            rollout,
            RULE,
            ns,
            f"the rollout of revision {rollout.revision} of deployment {name} cannot create its pods: the namespace's "
            f"LimitRange refuses them ({why}). Roll back to the revision that fit (no pod of it fails; more replicas "
            "would be refused too), or change the manifest's resources to fit",
            [*evidence, f"deployment {name} rolled out revision {rollout.revision} {rollout.minutes_ago} minutes ago"],
            facts.rollback_targets.get(f"deployment/{name}"),
        )
    return Decision(
        primary_action="INVESTIGATE",
        rule=RULE,
        target=f"deployment/{name}",
        reason=f"deployment {name} cannot create its pods: the namespace's LimitRange refuses them ({why}). Its pods "
        "are not failing and more replicas would be refused too: a human changes the manifest's resources to fit, "
        f"or the LimitRange (kubectl get limitrange -n {ns}); no tool here changes either",
        evidence=evidence,
        next_tool=None,
        next_arguments={},
    )
