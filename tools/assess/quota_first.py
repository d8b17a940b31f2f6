"""A scale-up the namespace's ResourceQuota would refuse is not proposed first (review-assist7 H12): the assessment
proposed override_hpa while the quota stood full, and the plan was then refused. Such a decision keeps its action and
reason, and says first what holds the quota and how a human frees room in it or raises it, then the scale-up; no tool
is proposed (none changes a quota, none would plan a pod it admits).

The same reads name what holds the quota that keeps a deployment short (rule `exceeded quota`). The quotas are read
once per assessment, and only when a decision scales up or a deployment's pod creates are refused.

Layer: tools.assess.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from incident_response.tools.engine.quota_reads import Read, read_quotas, short_of
from incident_response.tools.k8s.podstatus import owner_of
from incident_response.tools.k8s.quota_holders import holders_text
from incident_response.tools.k8s.views import meta
from incident_response.tools.kube.client import Kube
from incident_response.tools.playbook.decision import Decision
from incident_response.tools.playbook.quota_blocks import QuotaBlock

SCALE_UPS = ("override_hpa", "scale_deployment")
WANTED = {"override_hpa": "min_replicas", "scale_deployment": "replicas"}


class QuotaFirst:
    """Rewrites the scale-ups of one assessment that a full quota would refuse (its reads made on first need)."""

    def __init__(
        self,
        kube: Kube,
        namespace: str,
        deployments: list[dict[str, Any]],
        hpas: list[dict[str, Any]],
        pods: list[dict[str, Any]],
        now: datetime,
    ) -> None:
        self.kube, self.namespace, self.now = kube, namespace, now
        self.deployments = {str(meta(d).name): d for d in deployments}
        self.hpas, self.pods = hpas, pods
        self._read: Read | None = None
        self._tried = False

    def target(self, decision: Decision) -> str | None:
        """The deployment the decision's next tool scales up."""
        arguments = decision.next_arguments
        if decision.next_tool == "scale_deployment":
            return str(arguments.get("deployment") or "") or None
        hpa = next((h for h in self.hpas if meta(h).name == arguments.get("hpa")), None)
        ref = ((hpa or {}).get("spec") or {}).get("scaleTargetRef") or {}
        return str(ref.get("name")) if ref.get("kind") == "Deployment" else None

    def quotas(self) -> Read | None:
        if not self._tried:
            self._tried, self._read = True, read_quotas(self.kube, self.namespace)
        return self._read

    def hold(self, blocks: dict[str, QuotaBlock]) -> None:
        """Name what holds the quota refusing each blocked deployment's pods (its reason says it before the raise)."""
        if not blocks or (read := self.quotas()) is None:
            return
        for name, block in blocks.items():
            quota = next((q for q in read[0] if meta(q).name == block.refusal.quota), None)
            if quota is not None and (key := block.exhausted) is not None:
                block.held = holders_text(quota, key, self.pods, self.now, leave_out=f"deployment {name}")

    def checked(self, decision: Decision) -> Decision:
        """The decision, or (for a scale-up no quota admits a pod of) the quota's way out first."""
        if decision.next_tool not in SCALE_UPS or (name := self.target(decision)) not in self.deployments:
            return decision
        read = self.quotas()
        if read is None or not read[0]:
            return decision
        live = [
            p
            for p in self.pods
            if owner_of(p) == f"deployment/{name}"
            and not meta(p).raw.get("deletionTimestamp")
            and (p.get("status") or {}).get("phase") not in ("Succeeded", "Failed")
        ]
        wanted = decision.next_arguments.get(WANTED[decision.next_tool])
        if not isinstance(wanted, int) or wanted <= len(live):
            return decision  # no new pod asked for (a scale back to what fits): nothing for a quota to refuse
        more = wanted - len(live)
        short = short_of(read, self.deployments[name], more, live)
        if short is None or short.room.fits > 0 or short.room.unset:
            return decision  # a partial fit or an unset resource: the plan says it
        held = short.holders(self.pods, name, self.now)
        arguments = ", ".join(f"{k}={v}" for k, v in decision.next_arguments.items())
        return decision.model_copy(
            update={
                "reason": f"{decision.reason}. But {short.room.text()} admits no more of {name}'s pods: first free "
                f"room in it{f' ({held})' if held else ''} or have it raised "
                f"({short.raise_command(self.namespace, more)}), then {decision.next_tool}({arguments})",
                "evidence": [*decision.evidence, f"{short.room.text()}: no more pods of {name} fit"],
                "next_tool": None,
                "next_arguments": {},
            }
        )
