"""verify_recovery's verdicts on the incident's timeline, and the stabilization a RECOVERED verdict establishes.

Each verdict is recorded (event "verified") when it is new for the deployment since the last mitigation: the
handoff says from these what each mitigation did. A RECOVERED verdict marks the open incident stabilized, at the
server's time, when every deployment its mitigations acted on is RECOVERED (`playbook.stabilization`). Bookkeeping
like the tool-call log: a journal that cannot be written does not fail the verification.

Layer: tools.assess.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable
from typing import TYPE_CHECKING

from incident_response.tools.core import errors
from incident_response.tools.engine.deps import Deps
from incident_response.tools.engine.records import CommandRow, IncidentRow
from incident_response.tools.engine.store import Store
from incident_response.tools.playbook.stabilization import (
    VERIFIED,
    Verification,
    acted_on,
    applied,
    finished,
    stabilizes,
    verifications,
)

if TYPE_CHECKING:
    from incident_response.tools.assess.recovery import RecoveryReport

logger = logging.getLogger(__name__)
SAVE_ATTEMPTS = 3


def scale_target(deps: Deps, namespace: str) -> Callable[[str], str | None]:
    """The deployment an HPA scales, read now (None when it cannot be read)."""

    def follow(hpa: str) -> str | None:
        try:
            ref = (deps.kube.get("horizontalpodautoscalers", hpa, namespace).get("spec") or {}).get("scaleTargetRef")
        except errors.IncidentError:
            return None
        return str(ref.get("name")) if isinstance(ref, dict) and ref.get("kind") == "Deployment" else None

    return follow


def seen(deps: Deps, journal: Store, incident: str, namespace: str) -> list[Verification]:
    """The verdicts this server may see (its cluster, its allow-list): a shared journal holds other servers' too."""
    scope = deps.scope()
    return verifications([e for e in journal.events(incident=incident) if scope.event(e, {})], namespace)


def record(deps: Deps, report: RecoveryReport) -> str | None:
    """Record the verdict; returns the incident id when this verdict marked it stabilized."""
    try:
        journal = deps.journal
        incident = journal.incident(journal.current_incident(report.namespace))
        assert incident is not None
        rows = deps.scope().commands(journal.commands(incident=incident.id))
        done = applied(rows, report.namespace)
        note(deps, journal, incident, report, done)
        if report.verdict != "RECOVERED" or incident.stabilized_at is not None:
            return None
        return stabilize(deps, journal, incident, report, done)
    except (OSError, sqlite3.Error) as e:
        logger.warning("could not record the verification of %s: %s", report.deployment, e)
        return None


def note(deps: Deps, journal: Store, incident: IncidentRow, report: RecoveryReport, done: list[CommandRow]) -> None:
    """The verdict as an event, unless the same one was recorded for the deployment since the last mitigation."""
    since = max((finished(row) for row in done), default=None)
    earlier = [
        v
        for v in seen(deps, journal, incident.id, report.namespace)
        if v.deployment == report.deployment and (since is None or v.at >= since)
    ]
    if earlier and earlier[-1].verdict == report.verdict:
        return
    detail = {
        "namespace": report.namespace,
        "deployment": report.deployment,
        "verdict": report.verdict,
        "failing": [c.name for c in report.checks if c.passed is False],
        "summary": report.summary,
        "stable_since": report.stable_since.isoformat() if report.stable_since else None,
        "cluster": deps.cluster_record(),
    }
    journal.record_event(VERIFIED, incident=incident.id, detail=detail, at=report.checked_at.timestamp())


def stabilize(
    deps: Deps, journal: Store, incident: IncidentRow, report: RecoveryReport, done: list[CommandRow]
) -> str | None:
    targets = acted_on(done, report.namespace, scale_target(deps, report.namespace)) or [report.deployment]
    if report.deployment not in targets:
        return None
    for _ in range(SAVE_ATTEMPTS):
        if not stabilizes(done, seen(deps, journal, incident.id, report.namespace), targets):
            return None
        at = report.checked_at.timestamp()
        after = incident.model_copy(update={"stabilized_at": at})
        detail = {
            "by": "verify_recovery",
            "namespace": report.namespace,
            "deployments": targets,
            "note": f"verify_recovery said RECOVERED for {', '.join(targets)}",
            "stable_since": report.stable_since.isoformat() if report.stable_since else None,
            "cluster": deps.cluster_record(),
        }
        if journal.save_incident(incident, after, [("stabilized", detail)], at=at) is not None:
            return incident.id
        fresh = journal.incident(incident.id)  # someone changed it meanwhile: decide again on what is there now
        if fresh is None or fresh.stabilized_at is not None or fresh.closed_at is not None:
            return None
        incident = fresh
    return None
