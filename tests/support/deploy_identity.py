"""The e2e tests as deploy/'s ServiceAccount: `INCIDENT_RESPONSE_E2E_IDENTITY=deploy python -m pytest tests/e2e`.

In that mode make_env (support/mitigation_env.py) loads deploy/'s namespace, ServiceAccount and RBAC into each
simulated cluster and gives the server a kubeconfig with the ServiceAccount's token, so every end-to-end test that
builds its server through Env runs with exactly what deploy/ grants (setup and checks keep the admin's kubeconfig).
tests/e2e/test_least_privilege.py is the always-on check; this mode runs the whole e2e tier under deploy/.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

from incident_response.sim.identity import API_AUDIENCE
from incident_response.sim.resources import BY_KIND
from incident_response.sim.serve import RunningSim

ENV = "INCIDENT_RESPONSE_E2E_IDENTITY"
DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
# The identity objects of deploy/: not the server's own Deployment, Service, NetworkPolicy or the store's CRDs.
KINDS = ("Namespace", "ServiceAccount", "Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding")
DAY = 86400


def wanted() -> bool:
    return os.environ.get(ENV) == "deploy"


def identity_objects() -> list[dict[str, Any]]:
    """deploy/'s identity objects as kustomize renders them (its namespace set on namespaced ones and subjects),
    with the Helm component's."""
    kustomization = yaml.safe_load((DEPLOY / "kustomization.yaml").read_text(encoding="utf-8"))
    namespace = kustomization["namespace"]
    out: list[dict[str, Any]] = []
    # every tool, Helm's too: with the opt-in component deploy/components/helm (its list of every Secret)
    helm = DEPLOY / "components" / "helm"
    component = yaml.safe_load((helm / "kustomization.yaml").read_text(encoding="utf-8"))
    files = [DEPLOY / entry for entry in kustomization["resources"]] + [helm / e for e in component["resources"]]
    for path in files:
        for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if not doc or doc["kind"] not in KINDS:
                continue
            if doc["kind"] in ("ServiceAccount", "Role", "RoleBinding"):
                doc["metadata"]["namespace"] = namespace
            for subject in doc.get("subjects") or []:
                if subject.get("kind") == "ServiceAccount":
                    subject["namespace"] = namespace
            out.append(doc)
    return out


def server_kubeconfig(sim: RunningSim, path: Path) -> Path:
    """Load deploy/'s identity into `sim` and write a kubeconfig that authenticates as its ServiceAccount."""
    account: dict[str, Any] | None = None
    for obj in sorted(identity_objects(), key=lambda o: o["kind"] != "Namespace"):
        res = BY_KIND[(obj["apiVersion"].rpartition("/")[0], obj["kind"])]
        meta = obj["metadata"]
        # a cluster shared by a module's tests gets them once
        made = sim.store.peek(res, meta.get("namespace"), meta["name"]) or sim.store.create(res, obj)
        if made["kind"] == "ServiceAccount":
            account = made
    assert account is not None, "deploy/ has no ServiceAccount"
    meta = account["metadata"]
    token, _ = sim.authn.mint_service_account(meta["namespace"], meta["name"], meta["uid"], (API_AUDIENCE,), DAY)
    return sim.write_kubeconfig(path, token)
