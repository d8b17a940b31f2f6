"""The server's ServiceAccount cannot approve by any way round either: after `kubectl apply -k deploy/`, the cluster's
RBAC (enforced by the simulator, asked with real kubectl) denies it every write to Approvals and their status, and
every step that would let it act as someone who may write them: impersonation, minting a token of another account,
binding or widening a role, running a pod as another account in its namespace, reading or creating Secrets (which
hold other accounts' credentials), or changing or deleting the CRD (a deleted CRD takes every denial with it).
tests/sim/test_deploy.py checks create/update/patch directly.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from support.kubectl_runner import Kubectl

from incident_response.sim.serve import run_sim

ROOT = Path(__file__).resolve().parents[2]
NS = "incident-response"
SA = f"system:serviceaccount:{NS}:incident-response-mcp"
APPROVALS = "approvals.incident-response.dev"
# (verb, resource[/subresource], namespace or "" for cluster scope)
FORBIDDEN = [
    *[(verb, APPROVALS, NS) for verb in ("create", "update", "patch", "delete", "deletecollection")],
    *[(verb, APPROVALS, "") for verb in ("create", "update", "patch", "delete", "deletecollection")],
    *[(verb, f"{APPROVALS}/status", NS) for verb in ("update", "patch")],
    *[("impersonate", r, "") for r in ("users", "groups", "serviceaccounts", "uids", "userextras/scopes")],
    ("create", "serviceaccounts/token", NS),
    ("create", "serviceaccounts/token", ""),
    ("create", "serviceaccounts", NS),
    *[(verb, "rolebindings", NS) for verb in ("create", "update", "patch")],
    *[(verb, "clusterrolebindings", "") for verb in ("create", "update", "patch")],
    *[(verb, "roles", NS) for verb in ("create", "update", "patch", "escalate", "bind")],
    *[(verb, "clusterroles", "") for verb in ("create", "update", "patch", "escalate", "bind")],
    ("create", "pods", NS),
    ("create", "deployments.apps", NS),
    ("create", "jobs.batch", NS),
    ("create", "pods/exec", NS),
    *[(verb, "customresourcedefinitions.apiextensions.k8s.io", "") for verb in ("update", "patch", "delete")],
    # Secrets hold credentials (legacy token Secrets of accounts that may approve): none readable or creatable by
    # default (the plan-sealing key is get/patch by name only; Helm's list is an opt-in component).
    ("create", "secrets", NS),
    ("list", "secrets", NS),
    ("list", "secrets", ""),
    ("get", "secrets", NS),
    ("watch", "secrets", ""),
]


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kubectl]:
    folder = tmp_path_factory.mktemp("cannot-approve")
    with run_sim("healthy", kubeconfig_path=folder / "kubeconfig", tls=True):
        kubectl = Kubectl(folder / "kubeconfig", folder / "cache")
        kubectl.run("apply", "-k", str(ROOT / "deploy"))
        yield kubectl


def may(kubectl: Kubectl, who: str, verb: str, resource: str, namespace: str) -> bool:
    scope = ["-n", namespace] if namespace else []
    done = kubectl.run("auth", "can-i", verb, resource, *scope, f"--as={who}", check=False)
    answer = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""
    assert answer in ("yes", "no"), (verb, resource, done.stdout, done.stderr)
    return answer == "yes"


def test_nothing_in_deploy_lets_the_server_write_an_approval_or_become_someone_who_may(deployed: Kubectl) -> None:
    allowed = [
        f"{verb} {resource} in {ns or 'the cluster'}"
        for verb, resource, ns in FORBIDDEN
        if may(deployed, SA, verb, resource, ns)
    ]
    assert not allowed, f"deploy/ lets the server's ServiceAccount: {allowed}"


def test_the_check_can_fail(deployed: Kubectl) -> None:
    """Every question asked about a cluster-admin answers yes: none of them is vacuous (a misspelt resource would
    answer no for everyone)."""
    deployed.run("create", "clusterrolebinding", "carol-admin", "--clusterrole=cluster-admin", "--user=carol")
    refused = [
        f"{verb} {resource}" for verb, resource, ns in FORBIDDEN if not may(deployed, "carol", verb, resource, ns)
    ]
    assert not refused, refused
