"""The RBAC policy every cluster starts with (kube-apiserver's bootstrap roles), trimmed to the simulated kinds.

cluster-admin (bound to system:masters), the user-facing admin, edit and view (aggregating, as upstream, the
ClusterRoles labelled aggregate-to-admin/edit/view), and the system roles that let any authenticated identity
discover the API and ask about itself: system:discovery, system:basic-user, system:public-info-viewer.
system:auth-delegator (TokenReview and SubjectAccessReview) exists unbound, as upstream.

Layer: sim (the simulated cluster; apart from the product).
"""

from __future__ import annotations

from incident_response.sim.identity import AUTHENTICATED, MASTERS, UNAUTHENTICATED
from incident_response.sim.resources import CLUSTERROLEBINDINGS, CLUSTERROLES
from incident_response.sim.store import Obj, Store

READ = ["get", "list", "watch"]
WRITE = ["create", "delete", "deletecollection", "patch", "update"]
BOOTSTRAP = {"kubernetes.io/bootstrapping": "rbac-defaults"}
AGGREGATE = "rbac.authorization.k8s.io/aggregate-to-"


def _rule(groups: list[str], resources: list[str], verbs: list[str]) -> Obj:
    return {"apiGroups": groups, "resources": resources, "verbs": verbs}


VIEW_RULES = [
    _rule(
        [""],
        [
            "configmaps",
            "endpoints",
            "persistentvolumeclaims",
            "persistentvolumeclaims/status",
            "pods",
            "replicationcontrollers",
            "replicationcontrollers/scale",
            "serviceaccounts",
            "services",
            "services/status",
        ],
        READ,
    ),
    _rule(
        [""],
        [
            "bindings",
            "events",
            "limitranges",
            "namespaces/status",
            "pods/log",
            "pods/status",
            "replicationcontrollers/status",
            "resourcequotas",
            "resourcequotas/status",
        ],
        READ,
    ),
    _rule([""], ["namespaces"], READ),
    _rule(["discovery.k8s.io"], ["endpointslices"], READ),
    _rule(
        ["apps"],
        [
            "controllerrevisions",
            "daemonsets",
            "daemonsets/status",
            "deployments",
            "deployments/scale",
            "deployments/status",
            "replicasets",
            "replicasets/scale",
            "replicasets/status",
            "statefulsets",
            "statefulsets/scale",
            "statefulsets/status",
        ],
        READ,
    ),
    _rule(["autoscaling"], ["horizontalpodautoscalers", "horizontalpodautoscalers/status"], READ),
    _rule(["batch"], ["cronjobs", "cronjobs/status", "jobs", "jobs/status"], READ),
    _rule(["policy"], ["poddisruptionbudgets", "poddisruptionbudgets/status"], READ),
    _rule(["networking.k8s.io"], ["ingresses", "ingresses/status", "networkpolicies"], READ),
    # metrics-server's system:aggregated-metrics-reader aggregates into view on clusters that run it
    _rule(["metrics.k8s.io"], ["pods", "nodes"], READ),
]

EDIT_RULES = [
    _rule([""], ["pods/attach", "pods/exec", "pods/portforward", "pods/proxy", "secrets", "services/proxy"], READ),
    _rule([""], ["serviceaccounts"], ["impersonate"]),
    _rule([""], ["pods", "pods/attach", "pods/exec", "pods/portforward", "pods/proxy"], WRITE),
    _rule([""], ["pods/eviction"], ["create"]),
    _rule(
        [""],
        [
            "configmaps",
            "events",
            "persistentvolumeclaims",
            "replicationcontrollers",
            "replicationcontrollers/scale",
            "secrets",
            "serviceaccounts",
            "services",
            "services/proxy",
        ],
        WRITE,
    ),
    _rule([""], ["serviceaccounts/token"], ["create"]),
    _rule(
        ["apps"],
        [
            "daemonsets",
            "deployments",
            "deployments/rollback",
            "deployments/scale",
            "replicasets",
            "replicasets/scale",
            "statefulsets",
            "statefulsets/scale",
        ],
        WRITE,
    ),
    _rule(["autoscaling"], ["horizontalpodautoscalers"], WRITE),
    _rule(["batch"], ["cronjobs", "jobs"], WRITE),
    _rule(["policy"], ["poddisruptionbudgets"], WRITE),
    _rule(["networking.k8s.io"], ["ingresses", "networkpolicies"], WRITE),
    _rule(["coordination.k8s.io"], ["leases"], [*READ, *WRITE]),
]

ADMIN_RULES = [
    _rule(["authorization.k8s.io"], ["localsubjectaccessreviews"], ["create"]),
    _rule(["rbac.authorization.k8s.io"], ["rolebindings", "roles"], [*READ, *WRITE]),
]

DISCOVERY_URLS = [
    "/api",
    "/api/*",
    "/apis",
    "/apis/*",
    "/healthz",
    "/livez",
    "/openapi",
    "/openapi/*",
    "/readyz",
    "/version",
    "/version/",
]
PUBLIC_URLS = ["/healthz", "/livez", "/readyz", "/version", "/version/"]


def _role(name: str, rules: list[Obj], labels: dict[str, str] | None = None, aggregate: tuple[str, ...] = ()) -> Obj:
    role: Obj = {"metadata": {"name": name, "labels": {**BOOTSTRAP, **(labels or {})}}, "rules": rules}
    if aggregate:
        role["aggregationRule"] = {
            "clusterRoleSelectors": [{"matchLabels": {f"{AGGREGATE}{a}": "true"}} for a in aggregate]
        }
    return role


def _binding(name: str, role: str, groups: list[str]) -> Obj:
    return {
        "metadata": {"name": name, "labels": dict(BOOTSTRAP)},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": g} for g in groups],
    }


def cluster_roles() -> list[Obj]:
    everything = [
        _rule(["*"], ["*"], ["*"]),
        {"nonResourceURLs": ["*"], "verbs": ["*"]},
    ]
    return [
        _role("cluster-admin", everything),
        # user-facing roles: own rules empty, filled by aggregation as upstream (view < edit < admin)
        _role("admin", [], aggregate=("admin",)),
        _role("edit", [], {f"{AGGREGATE}admin": "true"}, aggregate=("edit",)),
        _role("view", [], {f"{AGGREGATE}edit": "true"}, aggregate=("view",)),
        _role("system:aggregate-to-admin", ADMIN_RULES, {f"{AGGREGATE}admin": "true"}),
        _role("system:aggregate-to-edit", EDIT_RULES, {f"{AGGREGATE}edit": "true"}),
        _role("system:aggregate-to-view", VIEW_RULES, {f"{AGGREGATE}view": "true"}),
        _role("system:discovery", [{"nonResourceURLs": DISCOVERY_URLS, "verbs": ["get"]}]),
        _role("system:public-info-viewer", [{"nonResourceURLs": PUBLIC_URLS, "verbs": ["get"]}]),
        _role(
            "system:basic-user",
            [
                _rule(["authorization.k8s.io"], ["selfsubjectaccessreviews", "selfsubjectrulesreviews"], ["create"]),
                _rule(["authentication.k8s.io"], ["selfsubjectreviews"], ["create"]),
            ],
        ),
        _role(
            "system:auth-delegator",
            [
                _rule(["authentication.k8s.io"], ["tokenreviews"], ["create"]),
                _rule(["authorization.k8s.io"], ["subjectaccessreviews"], ["create"]),
            ],
        ),
    ]


def cluster_role_bindings() -> list[Obj]:
    return [
        _binding("cluster-admin", "cluster-admin", [MASTERS]),
        _binding("system:discovery", "system:discovery", [AUTHENTICATED]),
        _binding("system:basic-user", "system:basic-user", [AUTHENTICATED]),
        _binding("system:public-info-viewer", "system:public-info-viewer", [AUTHENTICATED, UNAUTHENTICATED]),
    ]


def bootstrap(store: Store) -> None:
    """Create the default roles and bindings that are missing (as the API server's post-start hook does)."""
    for res, objects in ((CLUSTERROLES, cluster_roles()), (CLUSTERROLEBINDINGS, cluster_role_bindings())):
        for obj in objects:
            if store.peek(res, None, obj["metadata"]["name"]) is None:
                store.create(res, obj)
