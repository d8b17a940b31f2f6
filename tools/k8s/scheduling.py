"""Why the scheduler found no node for a pod, from its PodScheduled condition (reason Unschedulable), whose message
is FailedScheduling's: "0/3 nodes are available: 1 Insufficient cpu, 2 Too many pods. preemption: ...".

Each reason counts the nodes that refused the pod for it. They call for different fixes: a request no node has
room for (Insufficient cpu/memory), nodes at their pod limit (Too many pods: max-pods, whatever CPU is free), a
taint the pod does not tolerate or a cordon, a nodeSelector/affinity no node matches. The kind of a refusal is the
reason most nodes gave.

Layer: tools.k8s.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

Kind = Literal["resources", "pods", "taints", "placement", "other"]
HEAD = re.compile(r"^0/(?P<nodes>\d+) nodes are available: (?P<reasons>.*?)\.?(?: preemption:.*)?$", re.S)
REASON = re.compile(r"(?P<count>\d+) (?P<why>.+?)(?=, \d+ |$)")
PLACEMENT = ("affinity", "selector", "topology spread", "volume node affinity")


@dataclass
class Refusal:
    """One component's unschedulable pods and the scheduler's word on the first of them."""

    message: str  # "0/3 nodes are available: 3 Too many pods" (the preemption part left out)
    reasons: dict[str, int] = field(default_factory=dict)  # "Too many pods" -> 3 nodes
    pods: int = 1  # the component's pods refused
    oversized: str | None = None  # "4500m CPU, more than any node's 3920m allocatable": fits no node even empty

    def text(self) -> str:
        """The scheduler's word, and what the request is against the largest node when it fits none."""
        if self.oversized:
            return f"{self.message}; one pod asks {self.oversized}: it fits no node even empty"
        return self.message

    @property
    def kind(self) -> Kind:
        if not self.reasons:
            return "other"
        return kind_of(max(self.reasons.items(), key=lambda item: item[1])[0])


def kind_of(why: str) -> Kind:
    if why == "Too many pods":
        return "pods"
    if why.startswith("Insufficient "):
        return "resources"
    if "taint" in why or "were unschedulable" in why:
        return "taints"
    if any(word in why for word in PLACEMENT):
        return "placement"
    return "other"


def refusal_of(message: str) -> Refusal:
    """The refusal a PodScheduled message states (an unknown shape: kind other, the message kept)."""
    text = " ".join(message.split())
    head = HEAD.match(text)
    if head is None:
        return Refusal(text[:200])
    reasons = {m.group("why").strip(): int(m.group("count")) for m in REASON.finditer(head.group("reasons"))}
    return Refusal(f"0/{head.group('nodes')} nodes are available: {head.group('reasons')}", reasons)


def unschedulable_message(pod: dict[str, Any]) -> str | None:
    """The message of a Pending pod's PodScheduled condition when the scheduler found no node (reason
    Unschedulable); None otherwise."""
    status = pod.get("status") or {}
    if status.get("phase") != "Pending":
        return None
    for condition in status.get("conditions") or []:
        if condition.get("type") == "PodScheduled" and condition.get("status") == "False":
            if condition.get("reason") == "Unschedulable":
                return str(condition.get("message") or "")
    return None
