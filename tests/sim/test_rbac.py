"""The simulated cluster authenticates bearer tokens and enforces RBAC, checked with real kubectl.

The cluster serves HTTPS (kubectl sends a token only over TLS). Its own kubeconfig stays cluster-admin; a
ServiceAccount token from `kubectl create token` or a person's token from /sim/tokens gets exactly what the
Roles, ClusterRoles and bindings grant, and the review APIs (TokenReview, SubjectAccessReview, SelfSubject*)
answer from the same policy.
"""

from __future__ import annotations

import itertools
import json
import ssl
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.kubectl_runner import Kubectl

from incident_response.sim.identity import ADMIN_TOKEN
from incident_response.sim.rbac import Attributes
from incident_response.sim.serve import RunningSim, run_sim

_names = itertools.count()


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSim]:
    folder = tmp_path_factory.mktemp("rbac")
    with run_sim("healthy", kubeconfig_path=folder / "kubeconfig", tls=True) as running:
        yield running


@pytest.fixture
def admin(sim: RunningSim, tmp_path: Path) -> Kubectl:
    assert sim.kubeconfig_path is not None
    return Kubectl(sim.kubeconfig_path, tmp_path / "cache")


def as_token(sim: RunningSim, token: str, tmp_path: Path) -> Kubectl:
    """kubectl with a kubeconfig that authenticates with `token`."""
    n = next(_names)
    config = sim.write_kubeconfig(tmp_path / f"token-{n}.kubeconfig", token)
    return Kubectl(config, tmp_path / f"cache-{n}")


def service_account(admin: Kubectl, namespace: str, name: str, *extra: str) -> str:
    """Create the namespace (if new) and the ServiceAccount; return a token from `kubectl create token`."""
    if admin.run("get", "namespace", namespace, check=False).returncode != 0:
        admin.run("create", "namespace", namespace)
    admin.run("create", "serviceaccount", name, "-n", namespace)
    token = admin.run("create", "token", name, "-n", namespace, *extra).stdout.strip()
    assert token.count(".") == 2, token  # JWT-shaped, as a real cluster's
    return token


def call(
    sim: RunningSim, method: str, path: str, token: str | None, body: Any = None, headers: dict[str, str] | None = None
) -> tuple[int, Any]:
    context = ssl.create_default_context(cadata=(sim.ca_pem or b"").decode())
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(sim.url + path, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    if token is not None:
        request.add_header("Authorization", f"Bearer {token}")
    for key, value in (headers or {}).items():
        request.add_header(key, value)
    try:
        with urllib.request.urlopen(request, timeout=10, context=context) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def test_service_account_token_gets_what_bindings_grant(sim: RunningSim, admin: Kubectl, tmp_path: Path) -> None:
    token = service_account(admin, "rbac-a", "bot")
    bot = as_token(sim, token, tmp_path)

    denied = bot.run("get", "pods", "-n", "shop", check=False)
    assert denied.returncode == 1
    assert (
        'Error from server (Forbidden): pods is forbidden: User "system:serviceaccount:rbac-a:bot" cannot list '
        'resource "pods" in API group "" in the namespace "shop"'
    ) in denied.stderr
    assert bot.run("auth", "can-i", "list", "pods", "-n", "shop", check=False).stdout.strip() == "no"

    admin.run("create", "clusterrolebinding", "rbac-a-bot-view", "--clusterrole=view", "--serviceaccount=rbac-a:bot")
    names = bot.run("get", "pods", "-n", "shop", "-o", "name").stdout.split()
    assert names and all(n.startswith("pod/") for n in names)
    assert bot.run("auth", "can-i", "list", "pods", "-n", "shop").stdout.strip() == "yes"
    # view reads workloads but neither secrets nor writes
    assert bot.run("get", "secrets", "-n", "shop", check=False).returncode == 1
    scaled = bot.run("scale", "deployment", "web", "--replicas=5", "-n", "shop", check=False)
    assert scaled.returncode == 1
    assert (
        'deployments.apps "web" is forbidden: User "system:serviceaccount:rbac-a:bot" cannot patch resource '
        '"deployments/scale" in API group "apps" in the namespace "shop"'
    ) in scaled.stderr
    assert admin.json("get", "deployment", "web", "-n", "shop")["spec"]["replicas"] == 4


def test_whoami_names_service_account_and_people(sim: RunningSim, admin: Kubectl, tmp_path: Path) -> None:
    bot = as_token(sim, service_account(admin, "rbac-b", "bot"), tmp_path)
    who = bot.run("auth", "whoami", "-o", "json")
    info = json.loads(who.stdout)["status"]["userInfo"]
    assert info["username"] == "system:serviceaccount:rbac-b:bot"
    assert info["groups"] == ["system:serviceaccounts", "system:serviceaccounts:rbac-b", "system:authenticated"]
    uid = admin.json("get", "serviceaccount", "bot", "-n", "rbac-b")["metadata"]["uid"]
    assert info["uid"] == uid

    alice = as_token(sim, sim.mint_user_token("alice", ("oncall",)), tmp_path)
    table = alice.run("auth", "whoami").stdout
    assert "alice" in table and "[oncall system:authenticated]" in table
    assert "system:masters" in admin.run("auth", "whoami").stdout  # the sim's own kubeconfig stays admin


def test_unknown_token_is_401(sim: RunningSim, tmp_path: Path) -> None:
    stranger = as_token(sim, "not-a-token", tmp_path)
    done = stranger.run("get", "pods", check=False)
    assert done.returncode == 1
    assert "error: You must be logged in to the server" in done.stderr
    status, body = call(sim, "GET", "/api/v1/namespaces/shop/pods", "not-a-token")
    assert status == 401
    assert body == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": "Unauthorized",
        "reason": "Unauthorized",
        "code": 401,
    }


def test_anonymous_gets_only_public_info(sim: RunningSim) -> None:
    assert call(sim, "GET", "/version", None)[0] == 200
    status, body = call(sim, "GET", "/apis", None)
    assert status == 403
    assert body["message"] == 'forbidden: User "system:anonymous" cannot get path "/apis"'
    status, body = call(sim, "GET", "/api/v1/namespaces/shop/pods", None)
    assert status == 403
    assert 'User "system:anonymous" cannot list resource "pods"' in body["message"]


def test_role_with_resource_names_and_subresources(sim: RunningSim, admin: Kubectl, tmp_path: Path) -> None:
    bot = as_token(sim, service_account(admin, "rbac-c", "bot"), tmp_path)
    admin.run(
        "create",
        "role",
        "scale-web",
        "-n",
        "shop",
        "--verb=get,patch",
        "--resource=deployments.apps,deployments.apps/scale",  # kubectl scale reads the deployment first
        "--resource-name=web",
    )
    admin.run("create", "role", "logs", "-n", "shop", "--verb=get", "--resource=pods/log,pods")
    admin.run("create", "rolebinding", "bot-scale", "-n", "shop", "--role=scale-web", "--serviceaccount=rbac-c:bot")
    admin.run("create", "rolebinding", "bot-logs", "-n", "shop", "--role=logs", "--serviceaccount=rbac-c:bot")

    bot.run("scale", "deployment", "web", "--replicas=4", "-n", "shop")
    other = bot.run("scale", "deployment", "api", "--replicas=4", "-n", "shop", check=False)
    assert 'deployments.apps "api" is forbidden' in other.stderr
    # the Role is in shop: nothing in another namespace, and no object it does not name
    assert (
        bot.run(
            "auth", "can-i", "patch", "deployments/web", "--subresource=scale", "-n", "default", check=False
        ).stdout.strip()
        == "no"
    )
    assert (
        bot.run(
            "auth", "can-i", "patch", "deployments/api", "--subresource=scale", "-n", "shop", check=False
        ).stdout.strip()
        == "no"
    )
    assert (
        bot.run("auth", "can-i", "patch", "deployments/web", "--subresource=scale", "-n", "shop").stdout.strip()
        == "yes"
    )

    pod = admin.run("get", "pods", "-n", "shop", "-o", "name").stdout.split()[0].removeprefix("pod/")
    bot.run("logs", pod, "-n", "shop")
    assert bot.run("get", "pods", "-n", "shop", check=False).returncode == 1  # get by name only, no list

    # SelfSubjectRulesReview: the Role's rules in shop, none of them in default
    listing = bot.run("auth", "can-i", "--list", "-n", "shop").stdout.splitlines()
    scale = next(line.split() for line in listing if line.startswith("deployments.apps/scale "))
    assert scale[1:] == ["[]", "[web]", "[get", "patch]"], listing
    assert not any(
        line.startswith("deployments.apps") for line in bot.run("auth", "can-i", "--list").stdout.splitlines()
    )


def test_token_dies_with_its_service_account(sim: RunningSim, admin: Kubectl, tmp_path: Path) -> None:
    token = service_account(admin, "rbac-d", "bot")
    bot = as_token(sim, token, tmp_path)
    assert bot.run("auth", "whoami").returncode == 0
    admin.run("delete", "serviceaccount", "bot", "-n", "rbac-d")
    assert "Unauthorized" in bot.run("auth", "whoami", check=False).stderr
    admin.run("create", "serviceaccount", "bot", "-n", "rbac-d")  # a new account of the same name: still dead
    assert bot.run("auth", "whoami", check=False).returncode == 1


def test_every_namespace_has_a_default_service_account(sim: RunningSim, admin: Kubectl, tmp_path: Path) -> None:
    admin.run("create", "namespace", "rbac-n")
    for _ in range(20):  # the ServiceAccount controller makes it within a tick or two
        if admin.run("get", "serviceaccount", "default", "-n", "rbac-n", check=False).returncode == 0:
            break
        sim.wait_ticks(2)
    default = as_token(sim, admin.run("create", "token", "default", "-n", "rbac-n").stdout.strip(), tmp_path)
    assert "system:serviceaccount:rbac-n:default" in default.run("auth", "whoami").stdout
    admin.run("delete", "serviceaccount", "default", "-n", "rbac-n")
    sim.wait_ticks(3)
    admin.run("get", "serviceaccount", "default", "-n", "rbac-n")  # recreated


def test_token_request_checks_duration_and_account(admin: Kubectl) -> None:
    admin.run("create", "namespace", "rbac-e")
    missing = admin.run("create", "token", "nobody", "-n", "rbac-e", check=False)
    assert 'serviceaccounts "nobody" not found' in missing.stderr
    admin.run("create", "serviceaccount", "bot", "-n", "rbac-e")
    short = admin.run("create", "token", "bot", "-n", "rbac-e", "--duration=1m", check=False)
    assert "may not specify a duration less than 10 minutes" in short.stderr


def test_token_review_and_audiences(sim: RunningSim, admin: Kubectl, tmp_path: Path) -> None:
    reviewer = service_account(admin, "rbac-f", "server")
    client_token = service_account(admin, "rbac-f", "client", "--audience=incident-response")
    review = {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview", "spec": {"token": client_token}}

    status, body = call(sim, "POST", "/apis/authentication.k8s.io/v1/tokenreviews", reviewer, review)
    assert status == 403  # TokenReview needs system:auth-delegator (or a role like it)
    assert (
        'cannot create resource "tokenreviews" in API group "authentication.k8s.io" at the cluster scope'
        in (body["message"])
    )
    admin.run(
        "create",
        "clusterrolebinding",
        "rbac-f-delegator",
        "--clusterrole=system:auth-delegator",
        "--serviceaccount=rbac-f:server",
    )
    # minted for another audience: the API server's default audience does not accept it
    status, body = call(sim, "POST", "/apis/authentication.k8s.io/v1/tokenreviews", reviewer, review)
    assert status == 201 and not body["status"].get("authenticated")
    assert "audience" in body["status"]["error"]
    assert body["spec"]["token"] == ""  # the credential is not echoed
    review["spec"]["audiences"] = ["incident-response"]
    status, body = call(sim, "POST", "/apis/authentication.k8s.io/v1/tokenreviews", reviewer, review)
    assert status == 201
    assert body["status"]["authenticated"] is True
    assert body["status"]["audiences"] == ["incident-response"]
    assert body["status"]["user"]["username"] == "system:serviceaccount:rbac-f:client"
    assert "system:serviceaccounts:rbac-f" in body["status"]["user"]["groups"]
    # and that token cannot be used against the API server itself
    assert call(sim, "GET", "/api/v1/namespaces", client_token)[0] == 401

    review["spec"]["token"] = "forged"
    status, body = call(sim, "POST", "/apis/authentication.k8s.io/v1/tokenreviews", reviewer, review)
    assert status == 201 and body["status"] == {"user": {}, "error": "invalid bearer token"}
    status, body = call(sim, "POST", "/apis/authentication.k8s.io/v1/tokenreviews", reviewer, {"spec": {}})
    assert status == 400 and "token is required" in body["message"]


def cluster_role(name: str, group: str, resource: str, verbs: list[str], names: list[str] | None = None) -> str:
    rule: dict[str, Any] = {"apiGroups": [group], "resources": [resource], "verbs": verbs}
    if names:
        rule["resourceNames"] = names
    meta = {"name": name}
    return json.dumps(
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": meta, "rules": [rule]}
    )


def sar(user: str, groups: list[str], attrs: dict[str, Any], kind: str = "resourceAttributes") -> dict[str, Any]:
    return {
        "apiVersion": "authorization.k8s.io/v1",
        "kind": "SubjectAccessReview",
        "spec": {"user": user, "groups": groups, kind: attrs},
    }


def test_subject_access_review_on_virtual_resources(sim: RunningSim, admin: Kubectl) -> None:
    """A server authorizes its own virtual resources (here toolsets in incident-response.dev) by SAR."""
    # kubectl create clusterrole checks resources against discovery; a virtual resource needs a manifest
    toolsets = cluster_role("rbac-g-toolsets", "incident-response.dev", "toolsets", ["use"], ["read", "plan"])
    admin.run("apply", "-f", "-", stdin=toolsets)
    admin.run("create", "clusterrolebinding", "rbac-g-bot", "--clusterrole=rbac-g-toolsets", "--group=bots")
    path = "/apis/authorization.k8s.io/v1/subjectaccessreviews"

    def ask(user: str, groups: list[str], name: str, verb: str = "use") -> dict[str, Any]:
        attrs = {"group": "incident-response.dev", "resource": "toolsets", "name": name, "verb": verb}
        status, body = call(sim, "POST", path, ADMIN_TOKEN, sar(user, groups, attrs))
        assert status == 201, body
        return dict(body["status"])

    allowed = ask("xops", ["bots"], "plan")
    assert allowed["allowed"] is True
    assert allowed["reason"] == (
        'RBAC: allowed by ClusterRoleBinding "rbac-g-bot" of ClusterRole "rbac-g-toolsets" to Group "bots"'
    )
    assert ask("xops", ["bots"], "confirm") == {"allowed": False}
    assert ask("xops", ["bots"], "read", verb="delete") == {"allowed": False}
    assert ask("xops", [], "read") == {"allowed": False}

    nonres = sar("someone", ["system:authenticated"], {"path": "/apis", "verb": "get"}, "nonResourceAttributes")
    assert call(sim, "POST", path, ADMIN_TOKEN, nonres)[1]["status"]["allowed"] is True
    nonres["spec"]["nonResourceAttributes"]["path"] = "/metrics"
    assert call(sim, "POST", path, ADMIN_TOKEN, nonres)[1]["status"]["allowed"] is False

    both = sar("u", [], {"verb": "get", "resource": "pods"})
    both["spec"]["nonResourceAttributes"] = {"path": "/", "verb": "get"}
    status, body = call(sim, "POST", path, ADMIN_TOKEN, both)
    assert status == 422 and "exactly one of nonResourceAttributes or resourceAttributes" in body["message"]
    status, body = call(sim, "POST", path, ADMIN_TOKEN, sar("", [], {"verb": "get", "resource": "pods"}))
    assert status == 422 and "at least one of user or group must be specified" in body["message"]

    # LocalSubjectAccessReview: the same question within one namespace (a RoleBinding there answers it)
    admin.run("create", "rolebinding", "rbac-g-local", "-n", "shop", "--clusterrole=view", "--user=lou")
    local = sar("lou", [], {"verb": "list", "resource": "pods"})
    local["kind"] = "LocalSubjectAccessReview"
    local_path = "/apis/authorization.k8s.io/v1/namespaces/shop/localsubjectaccessreviews"
    status, body = call(sim, "POST", local_path, ADMIN_TOKEN, local)
    assert status == 201 and body["status"]["allowed"] is True, body
    assert body["spec"]["resourceAttributes"]["namespace"] == "shop"
    local["spec"]["resourceAttributes"]["namespace"] = "default"
    status, body = call(sim, "POST", local_path, ADMIN_TOKEN, local)
    assert status == 400 and "must match metadata.namespace" in body["message"]


def test_default_user_facing_roles(sim: RunningSim, admin: Kubectl, tmp_path: Path) -> None:
    for role in ("cluster-admin", "admin", "edit", "view"):
        admin.run("get", "clusterrole", role)
    people = {
        name: as_token(sim, sim.mint_user_token(name), tmp_path) for name in ("rbac-viewer", "rbac-editor", "rbac-ns")
    }
    admin.run("create", "clusterrolebinding", "rbac-h-view", "--clusterrole=view", "--user=rbac-viewer")
    admin.run("create", "clusterrolebinding", "rbac-h-edit", "--clusterrole=edit", "--user=rbac-editor")
    admin.run("create", "rolebinding", "rbac-h-admin", "-n", "shop", "--clusterrole=admin", "--user=rbac-ns")

    def can(who: str, *args: str) -> bool:
        return people[who].run("auth", "can-i", *args, check=False).stdout.strip() == "yes"

    assert can("rbac-viewer", "get", "deployments", "-n", "shop")
    assert not can("rbac-viewer", "get", "secrets", "-n", "shop")
    assert not can("rbac-viewer", "create", "pods/eviction", "-n", "shop")
    assert can("rbac-editor", "get", "secrets", "-n", "shop")
    assert can("rbac-editor", "patch", "deployments", "--subresource=scale", "-n", "kube-system")
    assert can("rbac-editor", "create", "pods/eviction", "-n", "shop")
    assert not can("rbac-editor", "create", "rolebindings", "-n", "shop")  # edit cannot grant
    assert not can("rbac-editor", "patch", "nodes")  # nodes are not namespaced: no user-facing role covers them
    assert can("rbac-ns", "create", "rolebindings", "-n", "shop")  # admin through a RoleBinding: in shop only
    assert not can("rbac-ns", "get", "pods", "-n", "default")
    assert not can("rbac-ns", "list", "namespaces")

    # aggregation: a ClusterRole labelled aggregate-to-view joins view
    admin.run("apply", "-f", "-", stdin=cluster_role("rbac-h-widgets", "example.com", "widgets", ["get", "list"]))
    admin.run("label", "clusterrole", "rbac-h-widgets", "rbac.authorization.k8s.io/aggregate-to-view=true")
    # (kubectl auth can-i does not know the kind: no CRD defines it; ask by SubjectAccessReview)
    attrs = {"group": "example.com", "resource": "widgets", "verb": "list", "namespace": "shop"}
    review = sar("rbac-viewer", ["system:authenticated"], attrs)
    status, body = call(sim, "POST", "/apis/authorization.k8s.io/v1/subjectaccessreviews", ADMIN_TOKEN, review)
    assert status == 201 and body["status"]["allowed"] is True
    assert 'of ClusterRole "view" to User "rbac-viewer"' in body["status"]["reason"]


def test_impersonation_needs_the_impersonate_verb(sim: RunningSim, admin: Kubectl, tmp_path: Path) -> None:
    token = service_account(admin, "rbac-i", "bot")
    as_bot = admin.run(
        "auth", "can-i", "list", "pods", "-n", "shop", "--as=system:serviceaccount:rbac-i:bot", check=False
    )
    assert as_bot.stdout.strip() == "no"
    who = json.loads(admin.run("auth", "whoami", "--as=alice", "--as-group=oncall", "-o", "json").stdout)
    assert who["status"]["userInfo"]["groups"] == ["oncall", "system:authenticated"]
    status, body = call(sim, "GET", "/api/v1/namespaces/shop/pods", token, headers={"Impersonate-User": "alice"})
    assert status == 403
    assert body["message"] == (
        'users "alice" is forbidden: User "system:serviceaccount:rbac-i:bot" cannot impersonate resource "users" '
        'in API group "" at the cluster scope'
    )


def test_admin_endpoints_are_for_masters_only(sim: RunningSim, admin: Kubectl) -> None:
    token = service_account(admin, "rbac-j", "bot")
    status, body = call(sim, "POST", "/sim/tokens", token, {"user": "mallory", "groups": ["system:masters"]})
    assert (
        status == 403
        and body["message"] == 'forbidden: User "system:serviceaccount:rbac-j:bot" cannot post path "/sim/tokens"'
    )
    status, body = call(sim, "POST", "/sim/tokens", ADMIN_TOKEN, {"user": "carol", "groups": ["ops"]})
    assert status == 201 and body["groups"] == ["ops", "system:authenticated"]
    assert call(sim, "GET", "/apis", body["token"])[0] == 200
    status, body = call(sim, "POST", "/sim/tokens", ADMIN_TOKEN, {"user": "system:kube-proxy"})
    assert status == 400 and "outside system:" in body["message"]
    assert call(sim, "POST", "/sim/tokens", ADMIN_TOKEN, {"name": "x"})[0] == 400


def test_recording_keeps_each_decision_about_non_admins(sim: RunningSim, admin: Kubectl, tmp_path: Path) -> None:
    bot = as_token(sim, service_account(admin, "rbac-k", "bot"), tmp_path)
    with sim.authz.recording() as decisions:
        bot.run("get", "deployments", "-n", "shop", check=False)
        admin.run("get", "pods", "-n", "shop")
    mine = [d for d in decisions if d.attrs.resource_request]
    assert [(d.user, d.attrs, d.allowed) for d in mine] == [
        (
            "system:serviceaccount:rbac-k:bot",
            Attributes("list", "deployments", "apps", namespace="shop"),
            False,
        )
    ]


def test_nobody_grants_what_they_do_not_hold(sim: RunningSim, admin: Kubectl, tmp_path: Path) -> None:
    """RBAC's escalation prevention: a namespace admin can share what it holds there, nothing more."""
    admin.run("create", "namespace", "rbac-l")
    admin.run("create", "rolebinding", "carla-admin", "-n", "rbac-l", "--clusterrole=admin", "--user=carla")
    carla = as_token(sim, sim.mint_user_token("carla"), tmp_path)

    carla.run("create", "rolebinding", "dan-view", "-n", "rbac-l", "--clusterrole=view", "--user=dan")
    carla.run("create", "role", "pod-reader", "-n", "rbac-l", "--verb=get,list", "--resource=pods")
    to_admin = carla.run(
        "create",
        "rolebinding",
        "dan-cluster-admin",
        "-n",
        "rbac-l",
        "--clusterrole=cluster-admin",
        "--user=dan",
        check=False,
    )
    assert to_admin.returncode == 1
    assert (
        'rolebindings.rbac.authorization.k8s.io "dan-cluster-admin" is forbidden: user "carla" '
        '(groups=["system:authenticated"]) is attempting to grant RBAC permissions not currently held:'
    ) in to_admin.stderr
    nodes = carla.run("create", "role", "node-patcher", "-n", "rbac-l", "--verb=patch", "--resource=nodes", check=False)
    assert 'Resources:["nodes"], Verbs:["patch"]' in nodes.stderr
    dangling = carla.run(
        "create", "rolebinding", "later", "-n", "rbac-l", "--clusterrole=not-yet", "--user=dan", check=False
    )
    assert 'clusterroles.rbac.authorization.k8s.io "not-yet" not found' in dangling.stderr  # could grant anything later
    other_ns = carla.run("create", "rolebinding", "x", "-n", "shop", "--clusterrole=view", "--user=dan", check=False)
    assert other_ns.returncode == 1  # admin in rbac-l only

    # the bind verb on a role lets one bind it without holding it
    binder = cluster_role("rbac-l-binder", "rbac.authorization.k8s.io", "clusterroles", ["bind"], ["cluster-admin"])
    admin.run("apply", "-f", "-", stdin=binder)
    admin.run("create", "rolebinding", "carla-binds", "-n", "rbac-l", "--clusterrole=rbac-l-binder", "--user=carla")
    carla.run("create", "rolebinding", "dan-cluster-admin", "-n", "rbac-l", "--clusterrole=cluster-admin", "--user=dan")


def test_kubectl_get_shows_bindings_as_upstream_prints_them(admin: Kubectl) -> None:
    admin.run("create", "namespace", "rbac-m")
    admin.run("create", "serviceaccount", "bot", "-n", "rbac-m")
    admin.run(
        "create",
        "rolebinding",
        "mixed",
        "-n",
        "rbac-m",
        "--clusterrole=view",
        "--user=alice",
        "--group=oncall",
        "--serviceaccount=rbac-m:bot",
    )
    [row] = admin.table("rolebinding", "mixed", "-n", "rbac-m", "-o", "wide")
    assert (row["ROLE"], row["USERS"], row["GROUPS"], row["SERVICEACCOUNTS"]) == (
        "ClusterRole/view",
        "alice",
        "oncall",
        "rbac-m/bot",
    )
    [account] = admin.table("serviceaccount", "bot", "-n", "rbac-m")
    assert account["SECRETS"] == "0"
    assert admin.table("clusterrolebinding", "cluster-admin")[0]["ROLE"] == "ClusterRole/cluster-admin"
