"""Load in verify_recovery's judgement: an autoscaler with no room left, and pods failing readiness from load.

Neither is "settling": an HPA pinned at its maximum over its target wants pods it may not add, and a pod at its
CPU limit whose readiness probe fails will not turn Ready by waiting. Pure functions over what was read.

Layer: tools.playbook.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from incident_response.tools.k8s.events import event_time
from incident_response.tools.k8s.hpa_load import HpaLoad
from incident_response.tools.k8s.usage import NEAR_LIMIT_PERCENT, PodUsage
from incident_response.tools.playbook.recovery_checks import CheckResult, PodFacts, RecoveryCheck, capped

READINESS_FAILED = "Readiness probe failed"


def pinned_autoscalers(loads: Sequence[HpaLoad]) -> list[str]:
    """One line per HPA of the deployment that is at its maximum while over its target."""
    lines = []
    for hpa in loads:
        if not hpa.pinned:
            continue
        needed = hpa.needed()
        wants = f"; its own formula asks for {needed}" if needed is not None and needed > hpa.max_replicas else ""
        over = ", ".join(u.text() for u in hpa.over)
        lines.append(
            f"HPA {hpa.name} is pinned at its max of {hpa.max_replicas} ({hpa.current} replicas) with {over}{wants}: "
            "it may not add the pods the load asks for"
        )
    return lines


def with_autoscalers(result: CheckResult, pinned: Sequence[str]) -> CheckResult:
    """The resources check, failed when an autoscaler of the deployment has run out of room."""
    if not pinned:
        return result
    base = result.check
    detail = "; ".join(pinned) + f"; {base.detail}"
    check = RecoveryCheck(name=base.name, passed=False, detail=detail, evidence=capped([*pinned, *base.evidence]))
    return CheckResult(check)


def readiness_failures(events: list[dict[str, Any]], now: datetime, window: timedelta) -> set[str]:
    """Pods whose readiness probe failed (Warning Unhealthy) in the window."""
    failed = set()
    for event in events:
        involved = event.get("involvedObject") or event.get("regarding") or {}
        when = event_time(event)
        if (
            involved.get("kind") == "Pod"
            and event.get("reason") == "Unhealthy"
            and str(event.get("message") or event.get("note") or "").startswith(READINESS_FAILED)
            and when is not None
            and now - when <= window
        ):
            failed.add(str(involved.get("name")))
    return failed


def under_load(
    facts: list[PodFacts], usage: list[PodUsage] | None, probe_failed: set[str], hpas: Sequence[HpaLoad] = ()
) -> list[PodFacts]:
    """The facts, with each pod that is not Ready and failing its readiness probe marked failing from load when it
    runs at its CPU limit, or when an HPA of its workload (`hpas`) is pinned at its max (a pod without a CPU limit or
    metrics shows load only there). It was "starting" while young, or "not Ready" without a reason."""
    by_name = {u.name: u for u in usage or []}
    marked = []
    for fact in facts:
        if not fact.active or fact.ready or fact.crash_looping or fact.name not in probe_failed:
            marked.append(fact)
            continue
        u = by_name.get(fact.name)
        pct = u.cpu_percent_of_limit if u is not None else None
        if u is not None and pct is not None and pct >= NEAR_LIMIT_PERCENT:
            fact = replace(
                fact,
                failing=f"not Ready under load: cpu {u.cpu} of limit {u.cpu_limit} ({pct}%), readiness probe failing",
            )
        elif held := [h.name for h in hpas if h.pinned]:
            why = f"not Ready under load: readiness probe failing while HPA {held[0]} is pinned at its max"
            fact = replace(fact, failing=why)
        marked.append(fact)
    return marked
