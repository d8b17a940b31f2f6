"""Which of a deployment's claims tie every replica to one node.

Every replica of a Deployment mounts the same claims. A ReadWriteOnce (or ReadWriteOncePod) claim attaches to one
node, so more replicas would hang on Multi-Attach or run a second database on one data directory; a ReadWriteMany or
ReadOnlyMany one (shared uploads on NFS) does not stop a scale. assess_namespace, evaluate_decision and
scale_deployment read them alike, so none proposes what another refuses. A claim that cannot be read counts as
one-node: unknown is not safe to share.

Layer: tools.engine.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from incident_response.tools.core import errors

if TYPE_CHECKING:
    from incident_response.tools.kube.client import Kube

ONE_NODE = ("ReadWriteOnce", "ReadWriteOncePod")


def one_node_claims(kube: Kube, namespace: str, claims: list[str]) -> list[str]:
    """The claims (of `claims`, a pod template's) that attach to one node, or could not be read."""
    kept = []
    for claim in claims:
        try:
            pvc = kube.get("persistentvolumeclaims", claim, namespace)
        except (errors.NotFound, errors.Forbidden):
            kept.append(claim)
            continue
        if any(mode in ONE_NODE for mode in (pvc.get("spec") or {}).get("accessModes") or []):
            kept.append(claim)
    return kept
