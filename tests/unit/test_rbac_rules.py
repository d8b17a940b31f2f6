"""RBAC rule matching and policy evaluation of the simulated cluster, on a store without a server.

Upstream semantics (k8s.io/kubernetes/plugin/pkg/auth/authorizer/rbac): `*` in verbs, groups and resources,
`*/sub` for a subresource of every resource, resourceNames limiting named requests only (a list or a create has
no name), nonResourceURLs with a trailing `*` as a prefix, subjects by User, Group or ServiceAccount (its
namespace defaulting to the binding's), and RoleBindings granting in their own namespace only.
"""

from __future__ import annotations

from typing import Any

import pytest

from incident_response.sim import rbac_defaults
from incident_response.sim.identity import UserInfo, service_account_user
from incident_response.sim.rbac import Attributes, Policy, rule_matches
from incident_response.sim.resources import CLUSTERROLEBINDINGS, CLUSTERROLES, NAMESPACES, ROLEBINDINGS, ROLES
from incident_response.sim.store import Store


def rule(groups: list[str], resources: list[str], verbs: list[str], names: list[str] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"apiGroups": groups, "resources": resources, "verbs": verbs}
    if names is not None:
        out["resourceNames"] = names
    return out


@pytest.mark.parametrize(
    ("body", "attrs", "expected"),
    [
        (rule(["apps"], ["deployments"], ["get"]), Attributes("get", "deployments", "apps"), True),
        (rule(["apps"], ["deployments"], ["get"]), Attributes("list", "deployments", "apps"), False),
        (rule([""], ["deployments"], ["get"]), Attributes("get", "deployments", "apps"), False),
        (rule(["apps"], ["deployments"], ["patch"]), Attributes("patch", "deployments", "apps", "scale"), False),
        (rule(["apps"], ["deployments/scale"], ["patch"]), Attributes("patch", "deployments", "apps", "scale"), True),
        (rule(["apps"], ["deployments/scale"], ["patch"]), Attributes("patch", "deployments", "apps"), False),
        (rule(["apps"], ["*/scale"], ["patch"]), Attributes("patch", "statefulsets", "apps", "scale"), True),
        (rule(["*"], ["*"], ["*"]), Attributes("delete", "pods", "", "eviction", "ns", "p"), True),
        (rule([""], ["pods"], ["get"], ["a"]), Attributes("get", "pods", name="a"), True),
        (rule([""], ["pods"], ["get"], ["a"]), Attributes("get", "pods", name="b"), False),
        (rule([""], ["pods"], ["list"], ["a"]), Attributes("list", "pods"), False),  # a list names nothing
        ({"nonResourceURLs": ["/apis/*"], "verbs": ["get"]}, Attributes("get", path="/apis/apps/v1"), True),
        ({"nonResourceURLs": ["/apis/*"], "verbs": ["get"]}, Attributes("get", path="/apis"), False),
        ({"nonResourceURLs": ["/version"], "verbs": ["get"]}, Attributes("post", path="/version"), False),
        (rule(["*"], ["*"], ["*"]), Attributes("get", path="/healthz"), False),  # resource rules are not URLs
    ],
)
def test_rule_matches(body: dict[str, Any], attrs: Attributes, expected: bool) -> None:
    assert rule_matches(body, attrs) is expected


def policy_with(*objects: tuple[Any, dict[str, Any]]) -> Policy:
    store = Store()
    rbac_defaults.bootstrap(store)
    for res, obj in objects:
        store.create(res, obj)
    return Policy(store)


def binding(name: str, role_kind: str, role: str, subject: dict[str, str], namespace: str = "") -> dict[str, Any]:
    meta = {"name": name, **({"namespace": namespace} if namespace else {})}
    return {"metadata": meta, "roleRef": {"kind": role_kind, "name": role}, "subjects": [subject]}


def test_role_binding_grants_in_its_namespace_only() -> None:
    store = Store()
    for ns in ("a", "b"):
        store.create(NAMESPACES, {"metadata": {"name": ns}})
    rbac_defaults.bootstrap(store)
    store.create(ROLES, {"metadata": {"name": "r", "namespace": "a"}, "rules": [rule([""], ["pods"], ["get"])]})
    store.create(ROLEBINDINGS, binding("b", "Role", "r", {"kind": "ServiceAccount", "name": "bot"}, "a"))
    policy = Policy(store)
    bot = service_account_user("a", "bot", "uid")
    assert policy.allows(bot, Attributes("get", "pods", namespace="a"))
    assert policy.allows(bot, Attributes("get", "pods", namespace="b")) is None
    other = service_account_user("b", "bot", "uid")  # same name, other namespace: not the subject
    assert policy.allows(other, Attributes("get", "pods", namespace="a")) is None


def test_cluster_binding_subjects_and_reason() -> None:
    policy = policy_with(
        (CLUSTERROLES, {"metadata": {"name": "x"}, "rules": [rule(["g.dev"], ["things"], ["use"], ["one"])]}),
        (CLUSTERROLEBINDINGS, binding("to-group", "ClusterRole", "x", {"kind": "Group", "name": "ops"})),
    )
    alice = UserInfo("alice", ("ops", "system:authenticated"))
    grant = policy.allows(alice, Attributes("use", "things", "g.dev", name="one", namespace="ns"))
    assert grant is not None
    assert grant.reason == 'RBAC: allowed by ClusterRoleBinding "to-group" of ClusterRole "x" to Group "ops"'
    assert (
        policy.allows(UserInfo("bob", ("system:authenticated",)), Attributes("use", "things", "g.dev", name="one"))
        is None
    )


def test_view_edit_admin_aggregate_as_upstream() -> None:
    policy = policy_with(
        (CLUSTERROLEBINDINGS, binding("v", "ClusterRole", "view", {"kind": "User", "name": "v"})),
        (CLUSTERROLEBINDINGS, binding("e", "ClusterRole", "edit", {"kind": "User", "name": "e"})),
        (CLUSTERROLEBINDINGS, binding("a", "ClusterRole", "admin", {"kind": "User", "name": "a"})),
    )
    v, e, a = (UserInfo(n, ("system:authenticated",)) for n in "vea")
    read = Attributes("list", "deployments", "apps", namespace="shop")
    write = Attributes("patch", "deployments", "apps", "scale", "shop", "web")
    grant = Attributes("create", "rolebindings", "rbac.authorization.k8s.io", namespace="shop")
    secrets = Attributes("get", "secrets", namespace="shop", name="s")
    assert [bool(policy.allows(u, read)) for u in (v, e, a)] == [True, True, True]
    assert [bool(policy.allows(u, write)) for u in (v, e, a)] == [False, True, True]
    assert [bool(policy.allows(u, secrets)) for u in (v, e, a)] == [False, True, True]
    assert [bool(policy.allows(u, grant)) for u in (v, e, a)] == [False, False, True]


def test_every_authenticated_identity_may_discover_and_ask_about_itself() -> None:
    policy = policy_with()
    someone = UserInfo("someone", ("system:authenticated",))
    anonymous = UserInfo("system:anonymous", ("system:unauthenticated",))
    assert policy.allows(someone, Attributes("get", path="/apis/apps/v1"))
    assert policy.allows(someone, Attributes("create", "selfsubjectreviews", "authentication.k8s.io"))
    assert policy.allows(anonymous, Attributes("get", path="/version"))
    assert policy.allows(anonymous, Attributes("get", path="/apis")) is None
    assert policy.allows(someone, Attributes("list", "pods", namespace="shop")) is None
