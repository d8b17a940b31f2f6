"""The resources the tools use: plural name -> API group, version, kind and scope, and the REST path of each.

Pure data. `RealKube` builds its URLs from it; the test fakes use it to tell namespaced objects from cluster-scoped
ones, so both agree with the API server on where an object lives.

Layer: tools.kube.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from incident_response.tools.core import errors


@dataclass(frozen=True)
class ResourceInfo:
    group: str
    version: str
    kind: str
    namespaced: bool

    def path(self, plural: str, namespace: str | None, name: str | None = None, subresource: str | None = None) -> str:
        prefix = f"/apis/{self.group}/{self.version}" if self.group else "/api/v1"
        parts = [prefix]
        if self.namespaced:
            if namespace is None:
                if name is not None:
                    raise errors.InvalidArgument(f"{plural} are namespaced: give a namespace")
            else:
                parts.append(f"namespaces/{quote(namespace, safe='')}")
        parts.append(plural.split(".", 1)[0])
        if name is not None:
            parts.append(quote(name, safe=""))
        if subresource is not None:
            parts.append(subresource)
        return "/".join(parts)


RESOURCES: dict[str, ResourceInfo] = {
    "namespaces": ResourceInfo("", "v1", "Namespace", False),
    "nodes": ResourceInfo("", "v1", "Node", False),
    "pods": ResourceInfo("", "v1", "Pod", True),
    "services": ResourceInfo("", "v1", "Service", True),
    "endpoints": ResourceInfo("", "v1", "Endpoints", True),
    "events": ResourceInfo("", "v1", "Event", True),
    "secrets": ResourceInfo("", "v1", "Secret", True),
    "configmaps": ResourceInfo("", "v1", "ConfigMap", True),
    "persistentvolumeclaims": ResourceInfo("", "v1", "PersistentVolumeClaim", True),
    "resourcequotas": ResourceInfo("", "v1", "ResourceQuota", True),
    "limitranges": ResourceInfo("", "v1", "LimitRange", True),
    "deployments": ResourceInfo("apps", "v1", "Deployment", True),
    "replicasets": ResourceInfo("apps", "v1", "ReplicaSet", True),
    "statefulsets": ResourceInfo("apps", "v1", "StatefulSet", True),
    "daemonsets": ResourceInfo("apps", "v1", "DaemonSet", True),
    "controllerrevisions": ResourceInfo("apps", "v1", "ControllerRevision", True),
    "horizontalpodautoscalers": ResourceInfo("autoscaling", "v2", "HorizontalPodAutoscaler", True),
    "jobs": ResourceInfo("batch", "v1", "Job", True),
    "networkpolicies": ResourceInfo("networking.k8s.io", "v1", "NetworkPolicy", True),
    "ingresses": ResourceInfo("networking.k8s.io", "v1", "Ingress", True),
    "poddisruptionbudgets": ResourceInfo("policy", "v1", "PodDisruptionBudget", True),
    "selfsubjectreviews": ResourceInfo("authentication.k8s.io", "v1", "SelfSubjectReview", False),
    # The team-mode store's CRDs (deploy/crds/, tools/engine/kube_store.py).
    "incidents.incident-response.dev": ResourceInfo("incident-response.dev", "v1alpha1", "Incident", True),
    "pendingcommands.incident-response.dev": ResourceInfo("incident-response.dev", "v1alpha1", "PendingCommand", True),
    "approvals.incident-response.dev": ResourceInfo("incident-response.dev", "v1alpha1", "Approval", True),
    "journalentries.incident-response.dev": ResourceInfo("incident-response.dev", "v1alpha1", "JournalEntry", True),
    "pods.metrics.k8s.io": ResourceInfo("metrics.k8s.io", "v1beta1", "PodMetrics", True),
    "nodes.metrics.k8s.io": ResourceInfo("metrics.k8s.io", "v1beta1", "NodeMetrics", False),
}


def resource_info(resource: str) -> ResourceInfo:
    try:
        return RESOURCES[resource]
    except KeyError:
        raise errors.InvalidArgument(f"unknown resource {resource!r}; known: {', '.join(sorted(RESOURCES))}") from None
