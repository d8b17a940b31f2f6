"""deploy/components/approver-identity: a ValidatingAdmissionPolicy that binds an Approval's spec.approver to the
user who creates it. The simulated cluster does not evaluate admission policies, so this checks what kustomize
renders with real kubectl: the policy covers every write of approvals.incident-response.dev, its expression
compares exactly those two fields, its binding denies, and deploy/ without the component renders none (so `kubectl
apply -k deploy/` still works on a cluster without admissionregistration.k8s.io/v1 policies)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
POLICY = "ValidatingAdmissionPolicy"


def rendered(folder: Path) -> list[dict[str, Any]]:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl is not on PATH")
    out = subprocess.run([kubectl, "kustomize", str(folder)], capture_output=True, text=True, check=True, timeout=60)
    return [doc for doc in yaml.safe_load_all(out.stdout) if doc]


def test_the_component_binds_the_approver_to_the_requester(tmp_path: Path) -> None:
    overlay = tmp_path / "overlay"
    overlay.mkdir()
    shutil.copytree(DEPLOY, tmp_path / "deploy")  # kustomize refuses absolute paths: render from a copy beside it
    (overlay / "kustomization.yaml").write_text(
        "resources:\n- ../deploy\ncomponents:\n- ../deploy/components/approver-identity\n"
    )
    objects = rendered(overlay)
    (policy,) = [o for o in objects if o["kind"] == POLICY]
    (binding,) = [o for o in objects if o["kind"] == POLICY + "Binding"]
    (rule,) = policy["spec"]["matchConstraints"]["resourceRules"]
    assert rule["apiGroups"] == ["incident-response.dev"] and rule["resources"] == ["approvals"]
    assert set(rule["operations"]) >= {"CREATE", "UPDATE"} and rule["apiVersions"] == ["*"]
    (check,) = policy["spec"]["validations"]
    assert check["expression"] == "object.spec.approver == request.userInfo.username"
    assert policy["spec"]["failurePolicy"] == "Fail"
    assert binding["spec"]["policyName"] == policy["metadata"]["name"] and binding["spec"]["validationActions"] == [
        "Deny"
    ]
    crd = yaml.safe_load((DEPLOY / "crds" / "approvals.yaml").read_text())
    schema = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]
    assert "approver" in schema["required"], "the policy reads a field every Approval has"


def test_deploy_without_the_component_renders_no_admission_policy() -> None:
    assert not [o for o in rendered(DEPLOY) if o["kind"].startswith(POLICY)]
