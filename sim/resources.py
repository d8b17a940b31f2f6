"""The resource types the simulated API serves, with what discovery reports about each."""

from __future__ import annotations

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
    ResourceType("", "v1", "ConfigMap", "configmaps", True, short_names=("cm",)),
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
    # Node heartbeats (kube-node-lease), computed from the nodes: `kubectl describe node` reads them.
    ResourceType("coordination.k8s.io", "v1", "Lease", "leases", True, verbs=("get", "list"), virtual=True),
    ResourceType("metrics.k8s.io", "v1beta1", "PodMetrics", "pods", True, verbs=("get", "list"), virtual=True),
    ResourceType("metrics.k8s.io", "v1beta1", "NodeMetrics", "nodes", False, verbs=("get", "list"), virtual=True),
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


# Kinds also served in a version other than their storage version (sim/conversion.py converts): key -> versions.
ALSO_SERVED: dict[str, tuple[str, ...]] = {"horizontalpodautoscalers.autoscaling": ("v1",)}


def lookup(group: str, version: str, plural: str) -> ResourceType | None:
    """The (storage) resource type served at /<group>/<version>/<plural>, or None."""
    res = BY_KEY.get(f"{plural}.{group}" if group else plural)
    if res is None or (res.version != version and version not in ALSO_SERVED.get(res.key, ())):
        return None
    return res


def served_in(group: str, version: str) -> list[ResourceType]:
    """The resource types of one group-version, each as that version shows it."""
    out = []
    for res in RESOURCES:
        if res.group != group:
            continue
        if res.version == version:
            out.append(res)
        elif version in ALSO_SERVED.get(res.key, ()):
            out.append(replace(res, version=version))
    return out


def group_versions() -> list[tuple[str, str]]:
    """Every (group, version) served, core first, in a stable order; a group's storage version first."""
    seen: list[tuple[str, str]] = []
    for r in RESOURCES:
        for version in (r.version, *ALSO_SERVED.get(r.key, ())):
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
DEPLOYMENTS = BY_KEY["deployments.apps"]
REPLICASETS = BY_KEY["replicasets.apps"]
HPAS = BY_KEY["horizontalpodautoscalers.autoscaling"]
NETWORKPOLICIES = BY_KEY["networkpolicies.networking.k8s.io"]
INGRESSES = BY_KEY["ingresses.networking.k8s.io"]
PDBS = BY_KEY["poddisruptionbudgets.policy"]

SCALABLE = (DEPLOYMENTS, REPLICASETS)  # the kinds with a scale subresource and a pod template
