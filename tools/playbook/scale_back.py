"""How many replicas to scale a deployment back to after a cut (to 0 behind a Service): the count recorded evidence
shows (kubectl's last-applied manifest, the revision before's desired-replicas) before the one its scale events
show; a count only its events show (any workload allowed to create events can write them) no further than the
step demand-unknown scaling takes, the rest said for the human to confirm.

Layer: tools.playbook.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from incident_response.tools.k8s.changes import Change
from incident_response.tools.playbook.demand_facts import previous_count
from incident_response.tools.playbook.sizing import event_claim, step


@dataclass(frozen=True)
class ScaleBack:
    replicas: int
    shown: str = ""  # what recorded shows it: "the manifest last applied asks for 2 (...)"
    claim: str = ""  # only events show a larger count: what the human is told

    def text(self) -> str:
        """'the 2 replicas it had (...)', or '4 replicas: only scale events claim it had 60 ...'."""
        if self.claim:
            return f"{self.replicas} replicas: {self.claim}"
        return f"the {self.replicas} replicas it had" + (f" ({self.shown})" if self.shown else "")


def scale_back(deployment: dict[str, Any], replicasets: list[dict[str, Any]], change: Change) -> ScaleBack | None:
    """The count to go back to after `change` (a cut to `change.after`), or None when nothing shows one."""
    recorded = previous_count(deployment, replicasets)  # no events: recorded evidence only
    if recorded is not None:
        differs = change.before is not None and change.before != recorded.replicas
        return ScaleBack(recorded.replicas, recorded.where + (f"; the events say {change.before}" if differs else ""))
    if not change.before:
        return None
    replicas = min(change.before, step(change.after or 0))  # the step demand-unknown scaling takes anyway
    return ScaleBack(replicas, claim=event_claim(change.before) if replicas < change.before else "")
