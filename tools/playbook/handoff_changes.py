"""The handoff timeline's non-rollout changes: what changed in the namespace in the last 2 hours besides rollouts
(a Service selector, a NetworkPolicy, a ConfigMap the failing pods read, a hand scale, a PodDisruptionBudget), each
at its time with who made it (tools/k8s/changes.py). A changed ConfigMap or a scale to zero is often the incident's
start, and a rollout-only timeline hid it.

Layer: tools.playbook.
"""

from __future__ import annotations

from incident_response.tools.k8s.changes import Change
from incident_response.tools.playbook.handoff_facts import clean
from incident_response.tools.playbook.handoff_models import TimelineEntry


def change_entries(changes: list[Change]) -> list[TimelineEntry]:
    return [TimelineEntry(at=c.at, source="cluster", kind="change", text=clean(c.line())) for c in changes]
