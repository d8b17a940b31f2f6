"""A hand scale's count before, as the change list says it: from ScalingReplicaSet events, which any workload allowed
to create events can write (tools/k8s/scale_history.py). The decisions and plans take a count only events show no
further than the step demand-unknown scaling takes (tools/playbook/scale_back.py); the change list says the same of
the count it prints, so "scaled 60 -> 0" is not read as fact: "scaled 60 -> 0 (only events claim 60)". A count
within the step, or one a record shows too (the manifest last applied, the revision before's desired-replicas), is
said plainly.

Layer: tools.playbook.
"""

from __future__ import annotations

from typing import Any

from incident_response.tools.k8s.changes import Change
from incident_response.tools.k8s.views import meta
from incident_response.tools.playbook.demand_facts import previous_count
from incident_response.tools.playbook.sizing import step


def mark_claims(changes: list[Change], deployments: list[dict[str, Any]], replicasets: list[dict[str, Any]]) -> None:
    """Say of each hand scale whose count before only its events show, beyond the step from the count after, that
    only events claim it (in place: the change's text and timeline line carry it)."""
    by_name = {str(meta(d).name): d for d in deployments}
    for change in changes:
        if change.kind != "Deployment" or change.before is None or change.after is None:
            continue
        if change.before <= step(change.after) or (deploy := by_name.get(change.name)) is None:
            continue
        recorded = previous_count(deploy, replicasets)  # records only: no events
        if recorded is None or recorded.replicas != change.before:
            change.what += f" (only events claim {change.before})"
