"""The next safe step offered after a human denied the rollback of a rollout still under way: pausing it keeps the
earlier revision's Ready pods serving while the team fixes forward. Said the same way by confirm_command's denied
answer, evaluate_decision's denial caution and assess_namespace.

Layer: tools.playbook.
"""

from __future__ import annotations

from incident_response.tools.k8s.unfinished import Unfinished


def pause_offer(namespace: str, deployment: str, rollout: Unfinished) -> str:
    return (
        f"Its rollout is under way (revision {rollout.revision}: {rollout.ready} of {rollout.replicas} pods Ready; "
        f"revision {rollout.serving_revision}'s {rollout.serving_ready} serve): offer the human "
        f"pause_rollout(namespace={namespace!r}, deployment={deployment!r}) to keep them so; plan it only if they "
        "agree."
    )
