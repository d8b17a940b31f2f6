"""Where a plan was made, and whether a server may confirm, cancel or show it: one rule for every seam.

A plan records its `Binding`: the cluster (API server URL, the CA certificate the client trusts, the kube-system
namespace's uid, the context), the planning server's mode and namespace allow-list. A server confirms it only on
that cluster, only when every namespace the plan touches is inside its own allow-list, and under the stricter of
the two modes. What a server could not confirm it does not list, restore or hand off either, so a server started
with `--namespace shop` never shows another namespace's plans, and a server on one cluster never shows another's.

Every server a user starts shares the default state directory, so these checks are what keeps them apart.

Layer: tools.engine.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from pydantic import BaseModel, Field

from incident_response.tools.core import errors
from incident_response.tools.core.modes import Mode
from incident_response.tools.kube.client import Kube

Misplaced = Literal["wrong_cluster", "outside_allow_list"]
UID_NAMESPACE = "kube-system"


class ClusterIdentity(BaseModel):
    """A cluster as a client can tell it apart: where it is, and what the API server itself says it is."""

    server: str = Field(description="The API server URL the client talks to.")
    context: str | None = Field(description="The kubeconfig context (None in a pod's service account).")
    ca_sha256: str | None = Field(
        default=None, description="SHA-256 of the CA certificate the client trusts (None without TLS verification)."
    )
    kube_system_uid: str | None = Field(
        default=None,
        description="The kube-system namespace's uid: a cluster rebuilt behind the same address has another one. "
        "None when the server may not read it.",
    )

    def describe(self) -> str:
        text = f"context {self.context or '(in-cluster)'} at {self.server}"
        if self.ca_sha256:
            text += f", CA sha256 {self.ca_sha256[:16]}..."
        if self.kube_system_uid:
            text += f", kube-system uid {self.kube_system_uid}"
        return text


class Binding(BaseModel):
    """Where a plan was made (stored with it, part of its fingerprint), or where a server confirms one."""

    cluster: ClusterIdentity | None = Field(description="None: the server has no cluster configured.")
    mode: Mode
    namespaces: list[str] = Field(description="The namespace allow-list; empty allows every namespace.")

    def allows(self, namespace: str | None) -> bool:
        return namespace is None or not self.namespaces or namespace in self.namespaces


def identify(kube: Kube, *, uid: Literal["read", "try", "skip"] = "read") -> ClusterIdentity:
    """This client's cluster. `uid`: read the kube-system uid (a failure to reach the API server raises), try
    (any failure leaves it unknown), or skip (no request at all)."""
    server, ca_sha256 = kube.endpoint()
    found = None
    if uid != "skip":
        try:
            found = kube.get("namespaces", UID_NAMESPACE).get("metadata", {}).get("uid")
        except (errors.Forbidden, errors.NotFound):
            found = None  # an identity that may not read namespaces: the address, CA and context must do
        except errors.IncidentError:
            if uid == "read":
                raise
    return ClusterIdentity(
        server=server, context=kube.context, ca_sha256=ca_sha256, kube_system_uid=str(found) if found else None
    )


def cluster_mismatch(planned: ClusterIdentity, here: ClusterIdentity | None, *, strict: bool) -> str | None:
    """Why `here` is not the cluster the plan was made for, or None. What the plan recorded must hold now; what it
    could not record (no CA, no uid) is not asked for. Not strict (for showing, not running): a value this server
    could not read now is not held against the plan."""
    if here is None:
        return "this server has no cluster configured"
    if planned.server != here.server:
        return "the API server address differs"
    if planned.context != here.context:
        return f"the context differs ({planned.context} when planned, {here.context} here)"
    for field, what in (
        ("ca_sha256", "the API server's CA certificate"),
        ("kube_system_uid", "the kube-system namespace's uid (another cluster behind the same address)"),
    ):
        recorded, now = getattr(planned, field), getattr(here, field)
        if recorded is None or recorded == now or (now is None and not strict):
            continue
        return f"{what} differs" if now is not None else f"{what} could not be read to check it"
    return None


def misplaced(
    planned: Binding | None, touches: Iterable[str], accepted: Iterable[str], here: Binding, *, strict: bool
) -> tuple[Misplaced, str] | None:
    """Why the server at `here` must not confirm (strict) or show (not strict) a plan made at `planned` that
    touches these namespaces (`accepted`: those the planner was explicitly told to act in outside its allow-list).
    The messages never name the plan's objects or namespaces: they may be what this server must not show."""
    if planned is None or planned.cluster is None:
        if strict:
            return "wrong_cluster", (
                "This plan records no cluster (it was made before plans were bound to their cluster), so it cannot be "
                "confirmed anywhere. Nothing ran; plan it again."
            )
    else:
        reason = cluster_mismatch(planned.cluster, here.cluster, strict=strict)
        if reason is not None:
            where = here.cluster.describe() if here.cluster else "no cluster"
            return "wrong_cluster", (
                f"This plan was made for another cluster ({planned.cluster.describe()}); this server is connected to "
                f"{where}: {reason}. Nothing ran, and the token is still valid there: confirm it through a server "
                "connected to that cluster, or plan again on this one."
            )
    if any(not here.allows(namespace) for namespace in set(touches) - set(accepted)):
        return "outside_allow_list", (
            f"This plan acts in a namespace outside this server's allow-list ({', '.join(here.namespaces)}). Nothing "
            "ran: confirm it through a server whose allow-list includes it, or plan again within this server's "
            "namespaces."
        )
    return None
