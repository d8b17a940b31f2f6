"""Whether a temporary measure still cuts a deployment off from traffic, for verify_recovery's ISOLATED verdict.

An isolated deployment passes every check (its pods run, are Ready, stay in their Service's endpoints: a
NetworkPolicy does not change endpoints) while serving nobody through them. That is containment, not recovery.
What cuts it off, judged from the measure's plan and the object it wrote as the cluster shows it now:
- isolate_network: the NetworkPolicy still exists and denies all ingress to some of its pods, and no other policy
  admits ingress to them (policies are additive);
- patch_service_selector: the Service selected its pods before and no longer does;
- remove_pods_from_service: pods of it that lost the Service's label still run.
Pure: measures and what was read in, lines out.

Layer: tools.playbook.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from incident_response.tools.engine.journal import CommandRow
from incident_response.tools.k8s import labels
from incident_response.tools.k8s.ingress_allowances import ingress_allowances
from incident_response.tools.k8s.views import meta
from incident_response.tools.playbook.recovery_checks import PodFacts, selects

ISOLATING = ("isolate_network", "patch_service_selector", "remove_pods_from_service")
MAX_NAMES = 5


@dataclass(frozen=True)
class MeasureNow:
    """A temporary measure in place and the object it wrote as read now (None: gone, so it isolates nothing)."""

    row: CommandRow
    now: dict[str, Any] | None
    # isolate_network: the namespace's other NetworkPolicies (additive: one admitting ingress to the pods keeps that
    # traffic flowing past the deny-all policy); empty when none or not readable
    others: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True)
class Isolation:
    measure_id: str
    incident: str
    line: str  # what cuts it off, for the summary and the evidence


def _names(names: Sequence[str]) -> str:
    shown = ", ".join(sorted(names)[:MAX_NAMES])
    return shown + (f" and {len(names) - MAX_NAMES} more" if len(names) > MAX_NAMES else "")


def _expect(plan: dict[str, Any], index: int) -> dict[str, Any]:
    pres = plan.get("preconditions") or []
    return dict((pres[index] or {}).get("expect") or {}) if len(pres) > index else {}


def denies_all_ingress(policy: dict[str, Any]) -> bool:
    spec = policy.get("spec") or {}
    return "Ingress" in (spec.get("policyTypes") or ["Ingress"]) and not spec.get("ingress")


def _cut_off(measure: MeasureNow, facts: Sequence[PodFacts], template_labels: dict[str, str]) -> str | None:
    row, now = measure.row, measure.now
    target = str((row.plan.get("target") or {}).get("name"))
    active = [f for f in facts if f.active]
    if now is None:
        return None
    if row.tool == "isolate_network":
        if not denies_all_ingress(now):
            return None
        selector = labels.from_spec((now.get("spec") or {}).get("podSelector"))
        cut = [f.name for f in active if labels.matches(selector, f.labels)]
        if not cut:
            return None
        pods = [{"metadata": {"name": f.name, "labels": f.labels}} for f in active if f.name in cut]
        if ingress_allowances([p for p in measure.others if meta(p).name != target], pods):
            return None  # another policy admits traffic to them: not cut off
        return f"NetworkPolicy {target} denies all ingress to {len(cut)} of its {len(active)} pods ({_names(cut)})"
    if row.tool == "patch_service_selector":
        before = {str(k): str(v) for k, v in dict(_expect(row.plan, 0).get("/spec/selector") or {}).items()}
        current = {str(k): str(v) for k, v in ((now.get("spec") or {}).get("selector") or {}).items()}
        if not selects(before, template_labels) or selects(current, template_labels):
            return None
        shown = ",".join(f"{k}={v}" for k, v in sorted(current.items())) or "none"
        return f"Service {target} no longer selects its pods (its selector is now {shown})"
    if row.tool == "remove_pods_from_service":
        removed = [str(n) for n in _expect(row.plan, 1).get("/metadata/name") or []]
        key = next(iter(_label_removed(row.plan)), None)
        cut = [f.name for f in active if f.name in removed and key is not None and key not in f.labels]
        if not cut:
            return None
        return f"{len(cut)} of its pods are out of Service {target} (label {key} removed: {_names(cut)})"
    return None


def _label_removed(plan: dict[str, Any]) -> list[str]:
    steps = plan.get("steps") or []
    action = (steps[0] or {}).get("action") or {} if steps else {}
    return [str(k) for k in (((action.get("body") or {}).get("metadata") or {}).get("labels") or {})]


def isolations(
    measures: Sequence[MeasureNow], facts: Sequence[PodFacts], template_labels: dict[str, str]
) -> list[Isolation]:
    """The measures in place that cut the deployment (its pods `facts`, its template's labels) off from traffic."""
    found = []
    for measure in measures:
        line = _cut_off(measure, facts, template_labels)
        if line is not None:
            row = measure.row
            found.append(
                Isolation(
                    row.token, row.incident, f"{line} ({row.tool}, measure {row.token} of incident {row.incident})"
                )
            )
    return found
