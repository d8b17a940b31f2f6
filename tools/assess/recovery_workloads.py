"""What verify_recovery reads of a StatefulSet or DaemonSet: the workload and the ControllerRevisions it controls
(its pods are read with a Deployment's, owned by the workload itself).

Layer: tools.assess.
"""

from __future__ import annotations

from typing import Any

from incident_response.tools.core import errors
from incident_response.tools.k8s import controller_revisions as cr
from incident_response.tools.kube.client import Kube


def read_workload(
    kube: Kube, namespace: str, kind: cr.WorkloadKind, name: str
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    try:
        workload = kube.get(cr.RESOURCE[kind], name, namespace)
    except errors.NotFound as e:
        raise errors.InvalidArgument(
            f"no {kind} {name!r} in namespace {namespace}; check the name and kind (assess_namespace shows what runs "
            "there; a deployment needs no kind)"
        ) from e
    listed = kube.list("controllerrevisions", namespace, label_selector=cr.workload_selector(workload)).items
    return workload, cr.owned_revisions(workload, listed)
