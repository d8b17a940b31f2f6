"""Rollouts the incident's own mitigations made are not deploys to suspect.

A mitigation that changes a pod template (set_memory_limit, a rollback) makes a new revision. If the pods still fail
after it (the new limit was still too small), the framework's "recent deployment with failing pods" rule would take
that revision for the cause and propose rolling it back: undoing the mitigation, back to the limit that was
OOMKilling the pods, with "the previous revision worked" as its evidence. A workload whose template now is the one a
succeeded command of this incident wrote is judged on what its pods show instead (still OOMKilled: raise again).

Layer: tools.assess.
"""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import replace
from typing import TYPE_CHECKING

from incident_response.tools.engine.deps import Deps
from incident_response.tools.engine.plan import digest

if TYPE_CHECKING:
    from incident_response.tools.assess.observation import Observation

logger = logging.getLogger(__name__)
WORKLOAD_KINDS = {"Deployment": "deployment", "StatefulSet": "statefulset", "DaemonSet": "daemonset"}
TEMPLATE = "/spec/template"


def own_templates(deps: Deps, namespace: str) -> set[tuple[str, str, str]]:
    """(kind, name, template digest) each succeeded command of the current incident left a workload with, where the
    command changed the template."""
    try:
        rows = deps.scope().commands(
            deps.journal.commands(states=["succeeded"], incident=deps.journal.current_incident(namespace))
        )
    except (OSError, sqlite3.Error) as e:
        logger.warning("could not read the journal's mitigations: %s", e)
        return set()
    found: set[tuple[str, str, str]] = set()
    for row in rows:
        target = row.plan.get("target") or {}
        kind = WORKLOAD_KINDS.get(str(target.get("kind") or ""))
        name = str(target.get("name") or "")
        if kind is None or target.get("namespace") != namespace:
            continue
        result = row.result or {}
        before = ((result.get("before") or {}).get(name) or {}).get(TEMPLATE)
        after = ((result.get("after") or {}).get(name) or {}).get(TEMPLATE)
        if isinstance(after, str) and after != before:
            found.add((kind, name, after))
    return found


def without_own_rollouts(seen: Observation, own: set[tuple[str, str, str]]) -> Observation:
    """The observation with the rollouts this incident's mitigations made left out of the decision's facts (the
    assessment still lists them under recent_rollouts)."""
    if not own:
        return seen
    kept = [
        r
        for r in seen.facts.recent_rollouts
        if (r.kind, r.deployment, digest(seen.templates.get((r.kind, r.deployment)))) not in own
    ]
    return replace(seen, facts=replace(seen.facts, recent_rollouts=kept))
