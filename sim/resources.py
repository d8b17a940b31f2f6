"""The resource types the simulated API serves, with what discovery reports about each.

Layer: sim (the simulated cluster; apart from the product).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

ALL_VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")


@dataclass(frozen=True)
class ResourceType:
    group: str
    version: str
    kind: str
    plural: str
    namespaced: bool
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    subresources: tuple[str, ...] = ()
    verbs: tuple[str, ...] = ALL_VERBS
    # Whether spec changes bump metadata.generation (true for the controller-managed kinds).
    has_generation: bool = False
    # Virtual resources are computed on read (metrics) or answered once (reviews); never stored.
    virtual: bool = False
    # Other versions the kind is also served in (converted by sim/conversion.py); `version` is the storage one.
    also_served: tuple[str, ...] = ()
    # Defined by a CustomResourceDefinition (sim/crds.py): its table columns are (name, type, JSONPath, priority).
    custom: bool = False
    printer_columns: tuple[tuple[str, str, str, int], ...] = ()

    @property
    def versions(self) -> tuple[str, ...]:
        """Every version the kind is served in, the storage version first."""
        return (self.version, *self.also_served)

    @property
    def singular(self) -> str:
        return self.kind.lower()

    @property
    def key(self) -> str:
        """Unique name: `pods`, `deployments.apps`."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def list_kind(self) -> str:
        return f"{self.kind}List"


RESOURCES: tuple[ResourceType, ...] = (
    ResourceType("", "v1", "Namespace", "namespaces", False, short_names=("ns",), subresources=("status",)),
    ResourceType("", "v1", "Node", "nodes", False, short_names=("no",), subresources=("status",)),
    ResourceType(
        "",
        "v1",
        "Pod",
        "pods",
        True,
        short_names=("po",),
        categories=("all",),
        subresources=("status", "log", "eviction"),
    ),
    ResourceType(
        "", "v1", "Service", "services", True, short_names=("svc",), categories=("all",), subresources=("status",)
    ),
    ResourceType("", "v1", "Endpoints", "endpoints", True, short_names=("ep",)),
    ResourceType("", "v1", "Event", "events", True, short_names=("ev",)),
    ResourceType(
        "",
        "v1",
        "PersistentVolumeClaim",
        "persistentvolumeclaims",
        True,
        short_names=("pvc",),
        subresources=("status",),
    ),
    ResourceType("", "v1", "Secret", "secrets", True),
    # `kubectl create token` POSTs a TokenRequest to serviceaccounts/NAME/token (sim/tokens.py answers it).
    ResourceType("", "v1", "ServiceAccount", "serviceaccounts", True, short_names=("sa",), subresources=("token",)),
    ResourceType("", "v1", "ConfigMap", "configmaps", True, short_names=("cm",)),
    # Enforced at admission and counted by a controller (sim/quota.py, sim/controllers/quotas.py).
    ResourceType("", "v1", "ResourceQuota", "resourcequotas", True, short_names=("quota",), subresources=("status",)),
    # Container defaults written into new pods at admission (sim/limitranges.py).
    ResourceType("", "v1", "LimitRange", "limitranges", True, short_names=("limits",)),
    ResourceType(
        "apps",
        "v1",
        "Deployment",
        "deployments",
        True,
        short_names=("deploy",),
        categories=("all",),
        subresources=("status", "scale"),
        has_generation=True,
    ),
    ResourceType(
        "apps",
        "v1",
        "ReplicaSet",
        "replicasets",
        True,
        short_names=("rs",),
        categories=("all",),
        subresources=("status", "scale"),
        has_generation=True,
    ),
    ResourceType(
        "apps",
        "v1",
        "StatefulSet",
        "statefulsets",
        True,
        short_names=("sts",),
        categories=("all",),
        subresources=("status", "scale"),
        has_generation=True,
    ),
    ResourceType(
        "apps",
        "v1",
        "DaemonSet",
        "daemonsets",
        True,
        short_names=("ds",),
        categories=("all",),
        subresources=("status",),
        has_generation=True,
    ),
    # The StatefulSet and DaemonSet controllers' revision history (`kubectl rollout history|undo` read them).
    ResourceType("apps", "v1", "ControllerRevision", "controllerrevisions", True),
    # Stored only: no Job controller runs them (scenarios and tests create Jobs to show what ran, e.g. migrations).
    ResourceType(
        "batch",
        "v1",
        "Job",
        "jobs",
        True,
        categories=("all",),
        subresources=("status",),
        has_generation=True,
    ),
    ResourceType(
        "autoscaling",
        "v2",
        "HorizontalPodAutoscaler",
        "horizontalpodautoscalers",
        True,
        short_names=("hpa",),
        categories=("all",),
        subresources=("status",),
        has_generation=True,
        also_served=("v1",),
    ),
    ResourceType(
        "networking.k8s.io",
        "v1",
        "NetworkPolicy",
        "networkpolicies",
        True,
        short_names=("netpol",),
        has_generation=True,
    ),
    ResourceType(
        "networking.k8s.io",
        "v1",
        "Ingress",
        "ingresses",
        True,
        short_names=("ing",),
        subresources=("status",),
        has_generation=True,
    ),
    ResourceType(
        "policy",
        "v1",
        "PodDisruptionBudget",
        "poddisruptionbudgets",
        True,
        short_names=("pdb",),
        subresources=("status",),
        has_generation=True,
    ),
    ResourceType(
        "apiextensions.k8s.io",
        "v1",
        "CustomResourceDefinition",
        "customresourcedefinitions",
        False,
        short_names=("crd", "crds"),
        categories=("api-extensions",),
        subresources=("status",),
        has_generation=True,
    ),
    # RBAC (sim/rbac.py enforces it for every identity outside system:masters).
    ResourceType("rbac.authorization.k8s.io", "v1", "Role", "roles", True),
    ResourceType("rbac.authorization.k8s.io", "v1", "RoleBinding", "rolebindings", True),
    ResourceType("rbac.authorization.k8s.io", "v1", "ClusterRole", "clusterroles", False),
    ResourceType("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding", "clusterrolebindings", False),
    # Node heartbeats (kube-node-lease), computed from the nodes: `kubectl describe node` reads them.
    ResourceType("coordination.k8s.io", "v1", "Lease", "leases", True, verbs=("get", "list"), virtual=True),
    ResourceType("metrics.k8s.io", "v1beta1", "PodMetrics", "pods", True, verbs=("get", "list"), virtual=True),
    ResourceType("metrics.k8s.io", "v1beta1", "NodeMetrics", "nodes", False, verbs=("get", "list"), virtual=True),
    ResourceType("authentication.k8s.io", "v1", "TokenReview", "tokenreviews", False, verbs=("create",), virtual=True),
    ResourceType(
        "authentication.k8s.io",
        "v1",
        "SelfSubjectReview",
        "selfsubjectreviews",
        False,
        verbs=("create",),
        virtual=True,
    ),
    ResourceType(
        "authorization.k8s.io",
        "v1",
        "SubjectAccessReview",
        "subjectaccessreviews",
        False,
        verbs=("create",),
        virtual=True,
    ),
    ResourceType(
        "authorization.k8s.io",
        "v1",
        "LocalSubjectAccessReview",
        "localsubjectaccessreviews",
        True,
        verbs=("create",),
        virtual=True,
    ),
    ResourceType(
        "authorization.k8s.io",
        "v1",
        "SelfSubjectAccessReview",
        "selfsubjectaccessreviews",
        False,
        verbs=("create",),
        virtual=True,
    ),
    ResourceType(
        "authorization.k8s.io",
        "v1",
        "SelfSubjectRulesReview",
        "selfsubjectrulesreviews",
        False,
        verbs=("create",),
        virtual=True,
    ),
)

BY_KEY: dict[str, ResourceType] = {r.key: r for r in RESOURCES}
BY_KIND: dict[tuple[str, str], ResourceType] = {(r.group, r.kind): r for r in RESOURCES if not r.virtual}


def lookup(group: str, version: str, plural: str, extra: Iterable[ResourceType] = ()) -> ResourceType | None:
    """The resource type (in its storage version) served at /<group>/<version>/<plural>, or None.

    `extra`: the types the cluster's CustomResourceDefinitions define.
    """
    key = f"{plural}.{group}" if group else plural
    res = BY_KEY.get(key) or next((r for r in extra if r.key == key), None)
    if res is None or version not in res.versions:
        return None
    return res


def served_in(group: str, version: str, extra: Iterable[ResourceType] = ()) -> list[ResourceType]:
    """The resource types of one group-version, each as that version shows it."""
    return [
        res if res.version == version else replace(res, version=version)
        for res in (*RESOURCES, *extra)
        if res.group == group and version in res.versions
    ]


def group_versions(extra: Iterable[ResourceType] = ()) -> list[tuple[str, str]]:
    """Every (group, version) served, core first, in a stable order; a group's storage version first."""
    seen: list[tuple[str, str]] = []
    for r in (*RESOURCES, *extra):
        for version in r.versions:
            if (r.group, version) not in seen:
                seen.append((r.group, version))
    return seen


# Shorthands used across the simulator.
NAMESPACES = BY_KEY["namespaces"]
NODES = BY_KEY["nodes"]
PODS = BY_KEY["pods"]
SERVICES = BY_KEY["services"]
ENDPOINTS = BY_KEY["endpoints"]
EVENTS = BY_KEY["events"]
PVCS = BY_KEY["persistentvolumeclaims"]
SECRETS = BY_KEY["secrets"]
CONFIGMAPS = BY_KEY["configmaps"]
RESOURCEQUOTAS = BY_KEY["resourcequotas"]
DEPLOYMENTS = BY_KEY["deployments.apps"]
REPLICASETS = BY_KEY["replicasets.apps"]
HPAS = BY_KEY["horizontalpodautoscalers.autoscaling"]
NETWORKPOLICIES = BY_KEY["networkpolicies.networking.k8s.io"]
INGRESSES = BY_KEY["ingresses.networking.k8s.io"]
PDBS = BY_KEY["poddisruptionbudgets.policy"]
CRDS = BY_KEY["customresourcedefinitions.apiextensions.k8s.io"]
STATEFULSETS = BY_KEY["statefulsets.apps"]
DAEMONSETS = BY_KEY["daemonsets.apps"]
CONTROLLERREVISIONS = BY_KEY["controllerrevisions.apps"]
SERVICEACCOUNTS = BY_KEY["serviceaccounts"]
ROLES = BY_KEY["roles.rbac.authorization.k8s.io"]
ROLEBINDINGS = BY_KEY["rolebindings.rbac.authorization.k8s.io"]
CLUSTERROLES = BY_KEY["clusterroles.rbac.authorization.k8s.io"]
CLUSTERROLEBINDINGS = BY_KEY["clusterrolebindings.rbac.authorization.k8s.io"]

SCALABLE = (DEPLOYMENTS, REPLICASETS, STATEFULSETS)  # the kinds with a scale subresource
WORKLOADS = (DEPLOYMENTS, REPLICASETS, STATEFULSETS, DAEMONSETS)  # the kinds with a selector and a pod template
