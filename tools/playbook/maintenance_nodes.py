"""Node actions that were maintenance, not mitigations: a cordon or drain of a node that reported Ready, with no
pressure condition and no taint but a cordon's, since before it was planned, and that no assessment of the incident
pointed at (review-assist8 I8: a disk-error drain asked for by the human during an unrelated bad deploy). The
handoff files those under other actions: no "did not fix the service", no hypothesis "the node is unhealthy" that
nobody had. Pure: node objects, rows and recorded decisions in.

Layer: tools.playbook.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from incident_response.tools.engine.journal import CommandRow
from incident_response.tools.k8s.quantity import parse_time

NODE_TOOLS = ("cordon_node", "drain_node")
CORDON_TAINT = "node.kubernetes.io/unschedulable"
EARLIEST = datetime.min.replace(tzinfo=UTC)


def calm_since(node: dict[str, Any]) -> datetime | None:
    """Since when the node has reported Ready with no pressure (its newest Ready/*Pressure transition); None when it
    does not now, or carries a taint other than the cordon's (not-ready, unreachable, a human's NoExecute)."""
    conditions = (node.get("status") or {}).get("conditions") or []
    ready = [c for c in conditions if c.get("type") == "Ready"]
    if not ready or any(c.get("status") != "True" for c in ready):
        return None
    watched = [c for c in conditions if c.get("type") == "Ready" or str(c.get("type")).endswith("Pressure")]
    if any(c.get("type") != "Ready" and c.get("status") == "True" for c in watched):
        return None
    if any(t.get("key") != CORDON_TAINT for t in (node.get("spec") or {}).get("taints") or []):
        return None
    times = [when for c in watched if (when := parse_time(c.get("lastTransitionTime"))) is not None]
    return max(times, default=EARLIEST)


def maintenance(rows: Iterable[CommandRow], calm: Mapping[str, datetime], targets: Iterable[str]) -> set[str]:
    """The tokens of cordons and drains that were maintenance. `calm`: node -> calm_since (healthy nodes only);
    `targets`: what the incident's assessments decided about (a "node/NAME" there made acting on it a mitigation)."""
    pointed = set(targets)
    found = set()
    for row in rows:
        node = str((row.plan.get("target") or {}).get("name"))
        since = calm.get(node)
        planned = datetime.fromtimestamp(row.created_at, UTC)
        if row.tool in NODE_TOOLS and since is not None and since <= planned and f"node/{node}" not in pointed:
            found.add(row.token)
    return found
