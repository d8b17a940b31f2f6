"""The components a confirmed drain moved: their replacements starting elsewhere are the drain's to verify.

A drain's plan targets the Node (no namespace), so the ranking did not count it as a mitigation of anything in the
namespace; right after it, the evicted pods' replacements (ContainerCreating, not Ready yet) read as new failures and
the assessment sent the assistant to INVESTIGATE them instead of the next problem. The evicted pods are gone; their
names still say whose they were: a Deployment's pod is named after its ReplicaSet (<replicaset>-<suffix>), whose
owner is the Deployment; a StatefulSet's is <statefulset>-<ordinal>.

Layer: tools.assess.
"""

from __future__ import annotations

from typing import Any

from incident_response.tools.k8s.views import meta


def evicted_pods(plan: dict[str, Any], namespace: str) -> list[str]:
    """Names of the pods of `namespace` a drain plan evicted (its steps' evict writes)."""
    found = []
    for step in plan.get("steps") or []:
        action = step.get("action") or {}
        if action.get("verb") == "evict" and action.get("namespace") == namespace and action.get("name"):
            found.append(str(action["name"]))
    return found


def drained_components(
    plan: dict[str, Any],
    namespace: str,
    components: dict[str, str],
    replicasets: list[dict[str, Any]],
    workloads: dict[str, str],
) -> set[str]:
    """The components whose pods a drain plan evicted. `components`: pod -> component of the pods read now;
    `workloads`: StatefulSet/DaemonSet name -> kind."""
    owners = {
        str(meta(rs).name): str(ref.get("name"))
        for rs in replicasets
        for ref in meta(rs).owner_references
        if ref.get("controller") and ref.get("kind") == "Deployment"
    }
    found = set()
    for pod in evicted_pods(plan, namespace):
        prefix = pod.rsplit("-", 1)[0]
        if pod in components:
            found.add(components[pod])
        elif prefix in owners:
            found.add(owners[prefix])
        elif workloads.get(prefix) == "statefulset":
            found.add(prefix)
    return found
