"""deploy/ (the team deployment) applies to the simulated cluster with real kubectl, and says what it promises.

`kubectl apply --dry-run=server -k deploy/` succeeds once the namespace exists (before, every namespaced object is
refused with the namespace not found, as on a real cluster, and nothing is created); `kubectl apply -k deploy/`
creates the server's Deployment, whose two replicas become ready, and applying again changes nothing. The
identities it sets up can do what the README says and no more: the server's ServiceAccount cannot approve.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from support.kubectl_runner import Kubectl

from incident_response.sim import rbac_defaults
from incident_response.sim.serve import RunningSim, run_sim

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
NS = "incident-response"
SA = f"system:serviceaccount:{NS}:incident-response-mcp"


@pytest.fixture
def fresh(tmp_path: Path) -> Iterator[tuple[RunningSim, Kubectl]]:
    with run_sim("healthy", kubeconfig_path=tmp_path / "kubeconfig", tls=True) as sim:
        assert sim.kubeconfig_path is not None
        yield sim, Kubectl(sim.kubeconfig_path, tmp_path / "cache")


def built() -> list[dict[str, Any]]:
    """The objects `kubectl kustomize deploy/` renders."""
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl is not on PATH")
    out = subprocess.run([kubectl, "kustomize", str(DEPLOY)], capture_output=True, text=True, check=True, timeout=60)
    return [doc for doc in yaml.safe_load_all(out.stdout) if doc]


def test_server_dry_run_then_apply(fresh: tuple[RunningSim, Kubectl]) -> None:
    sim, kubectl = fresh
    refused = kubectl.run("apply", "--dry-run=server", "-k", str(DEPLOY), check=False)
    assert refused.returncode == 1
    problems = [line for line in refused.stderr.splitlines() if line.startswith("Error")]
    assert problems and all(f'namespaces "{NS}" not found' in line for line in problems), refused.stderr
    assert kubectl.run("get", "clusterrole", "incident-response-mcp-read", check=False).returncode == 1

    kubectl.run("create", "namespace", NS)
    dry = kubectl.run("apply", "--dry-run=server", "-k", str(DEPLOY))
    assert "deployment.apps/incident-response-mcp created (server dry run)" in dry.stdout
    assert kubectl.run("get", "deployment", "incident-response-mcp", "-n", NS, check=False).returncode == 1
    assert kubectl.run("get", "crd", "approvals.incident-response.dev", check=False).returncode == 1

    kubectl.run("apply", "-k", str(DEPLOY))
    again = kubectl.run("apply", "-k", str(DEPLOY)).stdout.splitlines()
    # a PodDisruptionBudget's selector has patch strategy "replace": kubectl's patch for it is never empty, so it
    # says configured on a real cluster too (with nothing changed); everything else is unchanged
    changed = [line for line in again if not line.endswith(" unchanged")]
    assert again and changed == ["poddisruptionbudget.policy/incident-response-mcp configured"], again
    for _ in range(50):  # bounded: the controllers make the pods ready within a few ticks
        if kubectl.json("get", "deployment", "incident-response-mcp", "-n", NS)["status"].get("readyReplicas") == 2:
            break
        sim.wait_ticks(4)
    else:
        pytest.fail("the server's Deployment never had 2 ready replicas")
    for crd in ("incidents", "pendingcommands", "approvals", "journalentries"):
        kubectl.run("get", f"{crd}.incident-response.dev", "-n", NS)  # served once the CRDs exist


def test_server_side_apply_then_diff_shows_nothing(fresh: tuple[RunningSim, Kubectl]) -> None:
    _, kubectl = fresh
    applied = kubectl.run("apply", "--server-side", "-k", str(DEPLOY)).stdout.splitlines()
    assert applied and all(line.endswith(" serverside-applied") for line in applied), applied
    diff = kubectl.run("diff", "-k", str(DEPLOY), check=False)
    assert (diff.returncode, diff.stdout) == (0, ""), diff.stdout + diff.stderr


def test_the_deployment_is_hardened_and_probed() -> None:
    objects = built()
    deployment = next(o for o in objects if o["kind"] == "Deployment")
    spec = deployment["spec"]
    assert spec["replicas"] == 2
    pod = spec["template"]["spec"]
    assert pod["serviceAccountName"] == "incident-response-mcp"
    assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["runAsUser"] != 0
    (container,) = pod["containers"]
    security = container["securityContext"]
    assert security["readOnlyRootFilesystem"] is True
    assert security["allowPrivilegeEscalation"] is False and security["capabilities"]["drop"] == ["ALL"]
    assert set(container["resources"]["requests"]) == {"cpu", "memory"}
    assert set(container["resources"]["limits"]) == {"cpu", "memory"}
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    args = container["args"]
    assert args[:2] == ["serve", "--http"] and args[args.index("--store") + 1] == "kubernetes"
    assert container["image"].startswith("incident-response-mcp:")
    assert {o["metadata"].get("namespace") for o in objects if o["kind"] not in CLUSTER_KINDS} == {NS}
    kinds = {o["kind"] for o in objects}
    assert {"Namespace", "ServiceAccount", "Service", "NetworkPolicy", "CustomResourceDefinition"} <= kinds
    budget = next(o for o in objects if o["kind"] == "PodDisruptionBudget")
    assert budget["spec"]["maxUnavailable"] == 1  # a drain keeps one of the two replicas
    assert budget["spec"]["selector"]["matchLabels"] == spec["selector"]["matchLabels"]


def test_the_image_runs_as_the_deployments_non_root_user() -> None:
    dockerfile = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    pod = next(o for o in built() if o["kind"] == "Deployment")["spec"]["template"]["spec"]
    uid = pod["securityContext"]["runAsUser"]
    assert f"USER {uid}:" in dockerfile and "-slim" in dockerfile
    assert dockerfile.count("FROM ") == 2  # the build stage's tools stay out of the image


CLUSTER_KINDS = ("Namespace", "CustomResourceDefinition", "ClusterRole", "ClusterRoleBinding")


def test_the_server_cannot_approve_and_an_approver_can(fresh: tuple[RunningSim, Kubectl]) -> None:
    _, kubectl = fresh
    kubectl.run("apply", "-k", str(DEPLOY))
    kubectl.run(
        "create", "rolebinding", "alice-approves", "-n", NS, "--clusterrole=incident-response-approver", "--user=alice"
    )

    def can(who: str, *args: str) -> bool:
        done = kubectl.run("auth", "can-i", *args, "-n", NS, f"--as={who}", check=False)
        return done.stdout.strip() == "yes"

    assert not can(SA, "create", "approvals.incident-response.dev")
    assert not can(SA, "patch", "approvals.incident-response.dev")
    assert not can(SA, "update", "approvals.incident-response.dev")
    assert can(SA, "create", "pendingcommands.incident-response.dev")
    assert can(SA, "create", "tokenreviews.authentication.k8s.io")
    assert not can(SA, "create", "rolebindings")  # it cannot grant itself anything
    assert not can(SA, "get", "secrets/other")
    assert can(SA, "get", "secrets/incident-response-seal-key")  # the store's own key, by name
    every = kubectl.run("auth", "can-i", "list", "secrets", "--all-namespaces", f"--as={SA}", check=False)
    assert every.stdout.strip() == "no"  # Helm's records (every Secret) only with components/helm
    assert can("alice", "create", "approvals.incident-response.dev")
    assert not can("alice", "create", "pendingcommands.incident-response.dev")
    other = kubectl.run(
        "auth", "can-i", "create", "approvals.incident-response.dev", "-n", "shop", "--as=alice", check=False
    )
    assert other.stdout.strip() == "no"  # bound in the server's namespace only


SEAL_KEY = "incident-response-seal-key"
SECRET_VERBS = {"get", "patch"}


def test_the_servers_roles_grant_on_secrets_only_get_and_patch_of_the_seal_key() -> None:
    """Static, over what `kubectl kustomize deploy/` renders: every rule of every role bound to the server's
    ServiceAccount that reaches Secrets (also by `*`) grants get/patch by resourceNames [the seal key], nothing else.
    A list would read every credential; a create could make a service-account-token Secret for any local account."""
    objects = built()
    roles = {(o["kind"], o["metadata"]["name"]): o for o in objects if o["kind"] in ("Role", "ClusterRole")}
    roles |= {("ClusterRole", r["metadata"]["name"]): r for r in rbac_defaults.cluster_roles()}
    bound = [
        o["roleRef"]
        for o in objects
        if o["kind"] in ("RoleBinding", "ClusterRoleBinding")
        and any(s.get("kind") == "ServiceAccount" and s.get("name") == SA.rpartition(":")[2] for s in o["subjects"])
    ]
    assert {ref["name"] for ref in bound} >= {"incident-response-mcp-read", "incident-response-mcp-store"}, bound
    reaching = [
        (ref["name"], rule)
        for ref in bound
        for rule in roles[(ref["kind"], ref["name"])].get("rules", [])
        if {"", "*"} & set(rule.get("apiGroups", []))
        and {"secrets", "*"} & {r.partition("/")[0] for r in rule.get("resources", [])}
    ]
    assert reaching, "the store needs its seal key: some rule must reach it"
    for role, rule in reaching:
        assert set(rule["verbs"]) <= SECRET_VERBS, (role, rule)
        assert rule.get("resourceNames") == [SEAL_KEY], (role, rule)
    secret = next(o for o in objects if o["kind"] == "Secret")
    assert secret["metadata"]["name"] == SEAL_KEY and secret["type"] == "Opaque" and not secret.get("data")


def test_the_server_account_cannot_list_secrets_or_make_a_token_secret(
    fresh: tuple[RunningSim, Kubectl], tmp_path: Path
) -> None:
    """Asked as the ServiceAccount itself (its token from `kubectl create token`, real kubectl): no Secret listing
    anywhere, no Secret creation (a kubernetes.io/service-account-token Secret is filled with a token of the account
    it names), only its own seal key by name."""
    sim, admin = fresh
    admin.run("apply", "-k", str(DEPLOY))
    admin.run("create", "serviceaccount", "chatops-approver", "-n", NS)
    token = admin.run("create", "token", "incident-response-mcp", "-n", NS).stdout.strip()
    server = Kubectl(sim.write_kubeconfig(tmp_path / "server.kubeconfig", token, NS), tmp_path / "server-cache")
    assert server.run("auth", "whoami", "-o", "jsonpath={.status.userInfo.username}").stdout == SA

    def can(*args: str) -> str:
        return server.run("auth", "can-i", *args, check=False).stdout.strip()

    assert can("list", "secrets", "-n", NS) == "no"
    assert can("list", "secrets", "--all-namespaces") == "no"
    assert can("watch", "secrets", "-n", NS) == "no"
    assert can("create", "secrets", "-n", NS) == "no"
    assert can("create", "secrets", "-n", "shop") == "no"
    assert can("get", "secrets/chatops-approver-token", "-n", NS) == "no"
    assert can("get", f"secrets/{SEAL_KEY}", "-n", NS) == "yes"
    assert can("patch", f"secrets/{SEAL_KEY}", "-n", NS) == "yes"
    assert can("delete", f"secrets/{SEAL_KEY}", "-n", NS) == "no"

    minted = {
        "apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/service-account-token",
        "metadata": {"name": "chatops-approver-token", "annotations": {
            "kubernetes.io/service-account.name": "chatops-approver"}},
    }  # fmt: skip
    refused = server.run("create", "-n", NS, "-f", "-", stdin=json.dumps(minted), check=False)
    assert refused.returncode == 1 and "Forbidden" in refused.stderr, refused.stderr
    listed = server.run("get", "secrets", "-n", NS, check=False)
    assert listed.returncode == 1 and "Forbidden" in listed.stderr, listed.stderr
    assert admin.run("get", "secret", "chatops-approver-token", "-n", NS, check=False).returncode == 1
