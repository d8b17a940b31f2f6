"""Deployments a ResourceQuota keeps short of replicas: their ReplicaSet's pod creates are refused (FailedCreate,
the ReplicaFailure condition), so more replicas cannot help and the pods that exist are not failing. What the
assessment says about one, and what a human changes (the quota, or the room in it).

Layer: tools.playbook.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from incident_response.tools.core.masking import mask_text
from incident_response.tools.k8s.quantity import parse_quantity
from incident_response.tools.k8s.quotas import QuotaRefusal, replica_failure
from incident_response.tools.k8s.views import meta

RULE = "exceeded quota"


@dataclass
class QuotaBlock:
    deployment: str
    refusal: QuotaRefusal
    created: int  # pods its ReplicaSets have
    wanted: int  # spec.replicas
    held: str = ""  # "what holds it: ..." (tools/k8s/quota_holders.py), when the quota and pods were read

    @property
    def exhausted(self) -> str | None:
        """The resource the refusal ran out of (the first whose request passes what is left), None if unknown."""
        for key, asked in sorted(self.refusal.requested.items()):
            each, used = parse_quantity(asked), parse_quantity(self.refusal.used.get(key, "0"))
            limit = parse_quantity(self.refusal.limited.get(key))
            if each is not None and used is not None and limit is not None and round(used + each - limit, 6) > 0:
                return key
        return None

    @property
    def missing(self) -> int:
        return max(self.wanted - self.created, 1)

    def refused_text(self) -> str:
        """`requests.cpu=200m (used 5100m of 5200m)` per exceeded resource, or the field the quota needs."""
        if self.refusal.missing_field:
            return self.refusal.missing_field
        return ", ".join(
            f"{key}={asked} (used {self.refusal.used.get(key, '?')} of {self.refusal.limited.get(key, '?')})"
            for key, asked in sorted(self.refusal.requested.items())
        )

    def raise_command(self, namespace: str) -> str | None:
        """The patch that would hold the missing pods (a human's change to the quota: no tool makes it)."""
        needed = self.refusal.needed(self.missing)
        if not needed:
            return None
        body = json.dumps({"spec": {"hard": needed}}, separators=(",", ":"))
        return f"kubectl patch resourcequota {self.refusal.quota} -n {namespace} --type=merge -p '{body}'"

    def reason(self, namespace: str, rollout: str | None) -> str:
        quota, refused = self.refusal.quota, self.refused_text()
        why = f"exceeded quota: {refused}" if not self.refusal.missing_field else refused
        if rollout is not None:
            return (
                f"the {rollout} of deployment {self.deployment} cannot create its pods: ResourceQuota {quota} refuses "
                f"them ({why}). Roll back to the revision that fit (no pod of it fails; more replicas would be "
                "refused too), or have the quota raised"
            )
        command = self.raise_command(namespace)
        fix = f" (e.g. `{command}` holds the {self.missing} missing)" if command else ""
        # Freeing room comes first: what holds the quota is often work that need not run now (hung batch pods).
        free = f"({self.held})" if self.held else f"(scale down another deployment of {namespace})"
        return (
            f"deployment {self.deployment} has {self.created} of {self.wanted} pods: ResourceQuota {quota} refuses "
            f"the rest ({why}). Its pods are not failing and more replicas would be refused too: a human frees room "
            f"in it {free} or raises the quota{fix}; no tool here changes a quota"
        )

    def evidence(self) -> list[str]:
        return [
            f"deployment {self.deployment}: {self.created}/{self.wanted} pods created; ReplicaFailure FailedCreate",
            mask_text(self.refusal.message[:300]),
        ]


def quota_blocks(deployments: list[dict[str, Any]]) -> dict[str, QuotaBlock]:
    """The Deployments whose ReplicaFailure condition is a quota refusal, by name."""
    found = {}
    for deploy in deployments:
        refusal = replica_failure(deploy)
        if refusal is None:
            continue
        status = deploy.get("status") or {}
        wanted = (deploy.get("spec") or {}).get("replicas")
        name = str(meta(deploy).name)
        found[name] = QuotaBlock(
            name, refusal, int(status.get("replicas") or 0), wanted if isinstance(wanted, int) else 1
        )
    return found
