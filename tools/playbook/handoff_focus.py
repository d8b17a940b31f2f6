"""What in a busy namespace bears on the incident: which failures are older than it, and which rollouts RCA must rule
out first. Pure.

A namespace of hundreds of workloads created days ago, with one failure standing for days and one bad deploy now, is
an incident about the deploy: the failing components (the assessment's ranked problems first) come before everything
else. A failure that began more than a day before the incident was opened (or declared) is standing, unless the
incident acted on it: it sets no start for the incident and is said as standing. A workload's first revision (its
creation) is no suspect unless that workload is failing: nothing it ran before changed. Suspects are ordered by their
relation to the failing components (their own rollouts first, in the problems' order), then by how close before the
incident's first warning they came.

Layer: tools.playbook.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime, timedelta

from incident_response.tools.engine.journal import IncidentRow
from incident_response.tools.playbook.handoff_facts import (
    ClusterFacts,
    about,
    creation,
    first_seen,
    reference,
    stamp,
)
from incident_response.tools.playbook.handoff_rollouts import Rollout
from incident_response.tools.playbook.ranking import STANDING_MINUTES

STANDING = timedelta(minutes=STANDING_MINUTES)


def failing_components(ranked: Sequence[str], verified: Sequence[str]) -> list[str]:
    """The ranked problems' components in their order, then the deployments verified."""
    return list(dict.fromkeys([*ranked, *verified]))


def standing_since(facts: ClusterFacts, incident: IncidentRow, ours: Collection[str] = ()) -> dict[str, datetime]:
    """Failing component -> its first warning, for those failing since more than a day before the incident was
    opened or declared, and in no new way since. A component this incident's commands acted on (`ours`) is its
    subject, however old: the incident began when it began failing."""
    opened = stamp(min(incident.opened_at, incident.declared_at or incident.opened_at))
    found = {}
    for name in facts.failing:
        # Every Warning series about it (one per object and reason) began that long ago: a new one (a new pod
        # failing, a new reason: a bad deploy on top of a chronic probe failure) makes it this incident's.
        began = [first_seen(e) for e in facts.warnings if about(e, name)]
        if name in ours or not began or any(t is None or t >= opened - STANDING for t in began):
            continue
        found[name] = min(t for t in began if t is not None)
    return found


def suspect(rollout: Rollout, facts: ClusterFacts) -> bool:
    """A workload's creation is no suspect unless it is failing itself."""
    return rollout.deployment in facts.failing or not creation(rollout)


def by_relation(rollouts: Sequence[Rollout], facts: ClusterFacts) -> list[Rollout]:
    """The failing components' rollouts first (in the problems' order, newest first), then the others: those
    nearest before the incident's first warning first, then those after it (nearest first)."""
    order = {name: index for index, name in enumerate(facts.failing)}
    warning_at, _ = reference(facts)

    def key(rollout: Rollout) -> tuple[int, int, float]:
        rank = order.get(rollout.deployment, len(order))
        if rank < len(order) or warning_at is None:
            return rank, 0, -rollout.at.timestamp()
        after = rollout.at > warning_at
        return rank, int(after), abs((warning_at - rollout.at).total_seconds())

    return sorted(rollouts, key=key)
