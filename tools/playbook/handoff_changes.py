"""The handoff timeline's non-rollout changes: what changed in the namespace in the last 2 hours besides rollouts
(a Service selector, a NetworkPolicy, a ConfigMap the failing pods read, a hand scale, a PodDisruptionBudget), each
at its time with who made it (tools/k8s/changes.py). A changed ConfigMap or a scale to zero is often the incident's
start, and a rollout-only timeline hid it. A change to objects of no failing component is what a capped timeline
leaves out first (after other workloads' rollouts).

Layer: tools.playbook.
"""

from __future__ import annotations

from collections.abc import Collection

from incident_response.tools.k8s.changes import Change
from incident_response.tools.playbook.handoff_facts import clean
from incident_response.tools.playbook.handoff_models import TimelineEntry


def change_entries(changes: list[Change], failing: Collection[str] = ()) -> list[TimelineEntry]:
    entries = []
    for change in changes:
        entry = TimelineEntry(at=change.at, source="cluster", kind="change", text=clean(change.line()))
        # A ConfigMap names no component: it may be what the failing pods read, so it is kept with theirs.
        if change.kind != "ConfigMap" and change.name not in failing and not set(change.selects) & set(failing):
            entry._spare = 1
        entries.append(entry)
    return entries
