"""Whether the namespace's ResourceQuotas hold `more` new pods of a deployment, and what fills a quota that does not:
the reads scale_deployment's and override_hpa's plans, evaluate_decision's SCALE walk and assess_namespace's
scale-up proposal share (review-assist7 H12: a scale-up proposed into a full quota could only be refused).

Layer: tools.engine.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from incident_response.tools.core import errors
from incident_response.tools.k8s import backends
from incident_response.tools.k8s.limit_ranges import with_defaults
from incident_response.tools.k8s.quota_holders import holders_text
from incident_response.tools.k8s.quotas import QuotaRoom, admitted_spec, hard_for, quota_room
from incident_response.tools.k8s.views import meta
from incident_response.tools.k8s.workloads import template_spec
from incident_response.tools.kube.client import Kube
from incident_response.tools.kube.paging import list_all


@dataclass(frozen=True)
class QuotaShort:
    """The quota that holds the fewest of the new pods (fewer than asked), and what each new pod charges."""

    quota: dict[str, Any]
    room: QuotaRoom
    spec: dict[str, Any]  # the pod spec admission charges (template, LimitRange defaults, live pods' resources)
    ranges_read: bool  # the LimitRanges could be read (an unset resource then is not filled by a default)

    def raise_command(self, namespace: str, more: int) -> str:
        """The patch that would hold `more` new pods (a human's change: no tool changes a quota)."""
        body = json.dumps({"spec": {"hard": hard_for(self.quota, self.spec, more)}}, separators=(",", ":"))
        return f"kubectl patch resourcequota {self.room.quota} -n {namespace} --type=merge -p '{body}'"

    def holders(self, pods: list[dict[str, Any]], deployment: str, now: datetime | None = None) -> str:
        """'what holds it: ...' for the resource that ran out, the deployment's own pods left out ('' if none)."""
        when = now or datetime.now(UTC)
        return holders_text(self.quota, self.room.key, pods, when, leave_out=f"deployment {deployment}")


Read = tuple[list[dict[str, Any]], list[dict[str, Any]] | None]  # quotas; LimitRanges (None: may not be read)


def read_quotas(kube: Kube, namespace: str) -> Read | None:
    """The namespace's ResourceQuotas and (when there is one) LimitRanges; None when quotas may not be read."""
    try:
        quotas = kube.list("resourcequotas", namespace).items
    except errors.Forbidden:
        return None  # not readable: the caller cannot say, as without a quota
    if not quotas:
        return [], []
    try:  # the defaults admission writes into each new pod (the template may set no resources)
        ranges: list[dict[str, Any]] | None = kube.list("limitranges", namespace).items
    except errors.Forbidden:
        ranges = None  # not readable: the live pods show what admission gave them (none when scaled to 0)
    return quotas, ranges


def short_of(read: Read, deployment: dict[str, Any], more: int, pods: list[dict[str, Any]]) -> QuotaShort | None:
    """The quota of `read` that holds the fewest of `more` new pods of the deployment, when one holds fewer.
    `pods`: the deployment's live pods (a LimitRange's defaults are in the pods, not the template)."""
    quotas, ranges = read
    spec = admitted_spec(with_defaults(template_spec(deployment), ranges or []), pods)
    rooms = [(q, room) for q in quotas if (room := quota_room(q, spec)) is not None and room.fits < more]
    if not rooms:
        return None
    quota, room = min(rooms, key=lambda pair: pair[1].fits)
    return QuotaShort(quota, room, spec, ranges is not None)


def quota_short(
    kube: Kube, deployment: dict[str, Any], more: int, pods: list[dict[str, Any]] | None = None
) -> QuotaShort | None:
    """The ResourceQuota of the deployment's namespace that holds the fewest of `more` new pods, when one holds
    fewer; None when every quota holds them, there is none, or quotas may not be read (the caller cannot say)."""
    read = read_quotas(kube, str(meta(deployment).namespace))
    if read is None or not read[0]:
        return None
    return short_of(read, deployment, more, pods or [])


def namespace_holders(kube: Kube, short: QuotaShort, deployment: dict[str, Any]) -> str:
    """What fills the quota, from a read of the namespace's pods ('' when they may not be read)."""
    try:
        pods = list_all(kube, "pods", str(meta(deployment).namespace)).items
    except errors.Forbidden:
        return ""
    return short.holders(pods, backends.name_of(deployment))
